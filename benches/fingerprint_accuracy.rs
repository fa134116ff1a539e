//! Accuracy of line fingerprints on real code, not speed.
//!
//! Corpus: the Rust crates in cargo's registry cache (or the folder in `ACCURACY_SRC`), one
//! folder per crate. Every fifth crate plays "local output"; of the rest, half are the repository
//! as it was when the output was generated (the base) and half are later human history, cut into
//! 20-line commits. Provenance records only lines that are new against the base, as `adopt`
//! does. Reports, for growing amounts of recorded local output:
//! - false positives: human lines, and human commits, that match local output (a commit with one
//!   such line would be blocked until reviewed), with and without the base filter;
//! - recall on pasted output: 10-line snippets of recorded output, re-indented with CRLF endings
//!   and trailing spaces, in which at least one line is still recognised (such a paste is blocked);
//! - the lines behind most false positives, to tune what counts as trivial.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use git_hybrid::change::fingerprint;

const COMMIT_LINES: usize = 20;
const SNIPPET_LINES: usize = 10;

type File = Vec<Vec<u8>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn files_of(crates: &[PathBuf]) -> Vec<File> {
    let mut paths = Vec::new();
    for c in crates {
        rust_files(c, &mut paths);
    }
    paths.sort();
    paths
        .iter()
        .filter_map(|f| std::fs::read(f).ok())
        .map(|bytes| {
            bytes
                .split_inclusive(|&b| b == b'\n')
                .map(<[u8]>::to_vec)
                .collect()
        })
        .collect()
}

fn default_corpus() -> Option<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
    std::fs::read_dir(home.join("registry/src"))
        .ok()?
        .flatten()
        .map(|e| e.path())
        .next()
}

fn pct(a: usize, b: usize) -> f64 {
    100.0 * a as f64 / b.max(1) as f64
}

/// Human lines and commits that match `local`.
fn false_positives(
    history: &[File],
    local: &HashSet<i64>,
    culprits: &mut HashMap<Vec<u8>, usize>,
) -> (usize, usize) {
    let (mut lines, mut commits) = (0, 0);
    for file in history {
        for chunk in file.chunks(COMMIT_LINES) {
            let mut hit = false;
            for line in chunk {
                if fingerprint(line).is_some_and(|fp| local.contains(&fp)) {
                    lines += 1;
                    hit = true;
                    let key: Vec<u8> = line
                        .iter()
                        .copied()
                        .filter(|b| !b.is_ascii_whitespace())
                        .collect();
                    *culprits.entry(key).or_default() += 1;
                }
            }
            commits += usize::from(hit);
        }
    }
    (lines, commits)
}

fn main() {
    let Some(corpus) = std::env::var_os("ACCURACY_SRC")
        .map(PathBuf::from)
        .or_else(default_corpus)
    else {
        eprintln!("no corpus: set ACCURACY_SRC to a folder of crates");
        return;
    };
    let mut crates: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    crates.sort();
    let (mut local, mut base, mut later) = (Vec::new(), Vec::new(), Vec::new());
    for (i, c) in crates.into_iter().enumerate() {
        match (i % 5, i % 2) {
            (0, _) => local.push(c),
            (_, 0) => base.push(c),
            _ => later.push(c),
        }
    }
    let base_fps: HashSet<i64> = files_of(&base)
        .iter()
        .flatten()
        .filter_map(|l| fingerprint(l))
        .collect();
    let local_files = files_of(&local);
    let history = files_of(&later);
    let history_lines: usize = history.iter().map(Vec::len).sum();
    let history_commits: usize = history.iter().map(|f| f.len().div_ceil(COMMIT_LINES)).sum();
    println!(
        "corpus: {} — {} crates as local output, {} as the base, {} as later human history ({history_lines} lines, {history_commits} {COMMIT_LINES}-line commits)",
        corpus.display(),
        local.len(),
        base.len(),
        later.len()
    );

    let mut culprits = HashMap::new();
    for budget in [5_000usize, 50_000, usize::MAX] {
        // Record local output file by file until `budget` lines are recorded.
        let (mut recorded, mut unfiltered) = (HashSet::new(), HashSet::new());
        let (mut lines, mut files) = (0usize, Vec::new());
        for file in &local_files {
            if lines >= budget {
                break;
            }
            lines += file.len();
            for fp in file.iter().filter_map(|l| fingerprint(l)) {
                unfiltered.insert(fp);
                if !base_fps.contains(&fp) {
                    recorded.insert(fp);
                }
            }
            files.push(file);
        }
        let (fp_lines, fp_commits) = false_positives(&history, &recorded, &mut culprits);
        let (raw_lines, raw_commits) = false_positives(&history, &unfiltered, &mut HashMap::new());
        let (mut snippets, mut caught) = (0usize, 0usize);
        for file in &files {
            for chunk in file.chunks(SNIPPET_LINES) {
                let recordable = chunk
                    .iter()
                    .any(|l| fingerprint(l).is_some_and(|fp| recorded.contains(&fp)));
                if !recordable {
                    continue; // nothing in it was recorded: nothing to recall
                }
                snippets += 1;
                caught += usize::from(chunk.iter().any(|l| {
                    let moved = format!("\t\t{}  \r\n", String::from_utf8_lossy(l).trim());
                    fingerprint(moved.as_bytes()).is_some_and(|fp| recorded.contains(&fp))
                }));
            }
        }
        println!(
            "local output {lines} lines ({} distinct new fingerprints): false positives {:.2}% of human lines, {:.2}% of commits (without the base filter {:.2}% / {:.2}%); pasted snippets caught {:.2}%",
            recorded.len(),
            pct(fp_lines, history_lines),
            pct(fp_commits, history_commits),
            pct(raw_lines, history_lines),
            pct(raw_commits, history_commits),
            pct(caught, snippets),
        );
    }
    let mut top: Vec<_> = culprits.into_iter().collect();
    top.sort_by_key(|t| std::cmp::Reverse(t.1));
    println!("lines behind most false positives:");
    for (line, n) in top.iter().take(12) {
        println!("  {n:>6}  {}", String::from_utf8_lossy(line));
    }
}
