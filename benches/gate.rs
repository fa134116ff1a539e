//! criterion benches for the gate's hot path on a 20,000-file repository: the candidate change
//! between two trees (which must cost what the change costs, not what the repository costs), its
//! id, fingerprinting, and the rule against a store holding 500 lines of local output.
//! Whole-process numbers, against `git diff --cached`, come from `benches/hook-overhead.sh`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use git_hybrid::change::{Change, fingerprint};
use git_hybrid::gate;
use git_hybrid::git::index_entry;
use git_hybrid::store::{GenerationRecord, Store};
use git2::{Index, IndexEntry, Oid, Repository};

fn entry(repo: &Repository, path: String, content: &[u8]) -> IndexEntry {
    index_entry(
        path.as_bytes(),
        0o100644,
        repo.blob(content).unwrap(),
        content.len(),
    )
}

fn file(d: usize, f: usize, extra: &str) -> Vec<u8> {
    let mut s: String = (0..8)
        .map(|i| format!("pub fn f_{d}_{f}_{i}(x: u64) -> u64 {{ x * {i} + {d} }}\n"))
        .collect();
    s.push_str(extra);
    s.into_bytes()
}

/// Two trees of 20,000 files that differ by 200 added lines in 10 files.
fn fixture(dir: &std::path::Path) -> (Repository, Oid, Oid) {
    let repo = Repository::init_bare(dir).unwrap();
    let mut index = Index::new().unwrap();
    for d in 0..200 {
        for f in 0..100 {
            index
                .add(&entry(
                    &repo,
                    format!("src/mod{d:03}/file{f:03}.rs"),
                    &file(d, f, ""),
                ))
                .unwrap();
        }
    }
    let old = index.write_tree_to(&repo).unwrap();
    for k in 0..10 {
        let extra: String = (0..20)
            .map(|i| {
                format!(
                    "pub fn human_{k}_{i}(y: u64) -> u64 {{ y + {} }}\n",
                    k * 100 + i
                )
            })
            .collect();
        index
            .add(&entry(
                &repo,
                format!("src/mod{:03}/file{k:03}.rs", k * 7),
                &file(k * 7, k, &extra),
            ))
            .unwrap();
    }
    let new = index.write_tree_to(&repo).unwrap();
    (repo, old, new)
}

fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (repo, old, new) = fixture(dir.path());
    let (old, new) = (repo.find_tree(old).unwrap(), repo.find_tree(new).unwrap());

    c.bench_function("change: 200 lines in a 20,000-file tree", |b| {
        b.iter(|| Change::between_trees(&repo, Some(&old), Some(&new)).unwrap())
    });
    let change = Change::between_trees(&repo, Some(&old), Some(&new)).unwrap();
    c.bench_function("change id: 200 added lines", |b| {
        b.iter(|| black_box(&change).id())
    });
    c.bench_function("fingerprint: one line", |b| {
        b.iter(|| {
            fingerprint(black_box(
                b"    let parsed = value.trim().parse::<u16>()?;\n",
            ))
        })
    });

    let mut store = Store::open(&dir.path().join("hybrid.db")).unwrap();
    let lines = (0..500)
        .filter_map(|i| {
            let line = format!("pub fn generated_{i}(value: u64) -> u64 {{ value ^ {i} }}\n");
            Some((
                fingerprint(line.as_bytes())?,
                b"src/generated.rs".to_vec(),
                i + 1,
            ))
        })
        .collect();
    store
        .record_generation(&GenerationRecord {
            id: "g-bench".into(),
            kind: "adopt".into(),
            model: Some("bench".into()),
            spec_path: None,
            branch: Some("refs/heads/hybrid/bench".into()),
            base_commit: None,
            result_commit: "0".repeat(40),
            change_id: "hc1-bench".into(),
            job_id: None,
            stats: None,
            check: None,
            lines,
            // Edits the candidate does not make: the lookup's cost, not a match.
            edits: (0..500i64)
                .map(|i| i.wrapping_mul(0x1e37_79b9_7f4a_7c15))
                .collect(),
            tokens: Vec::new(),
        })
        .unwrap();
    c.bench_function("rule: 200 human lines against 500 local lines", |b| {
        b.iter(|| gate::evaluate(&store, black_box(&change)).unwrap())
    });
}

criterion_group! {
    name = gate_benches;
    config = Criterion::default().sample_size(30);
    targets = benches
}
criterion_main!(gate_benches);
