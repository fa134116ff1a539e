//! The fix loop's re-review against the review it answers: what each request would cost on the
//! reviewer's model, built by the same code the commands use (`review::prepare`, and the context
//! `fix` gives a re-review).
//!
//! Each source file of this repository between 120 and 450 lines stands in for a generated file:
//! the first review reads it as a new file with a spec; the fix then rewrites ten lines in its
//! middle, and the re-review reads that interdiff with the two findings it answers. Tokens are
//! the reviewer's estimate (4 bytes a token) of the text of every block; cached blocks are priced
//! as cache writes, the instructions of the re-review as a cache read (the fix takes less than
//! the cache's five minutes) and, in a second column, as a write (cache expired). Output is the
//! same for both, at each of the sizes printed (a verdict's JSON, and one with long thinking),
//! and then in one scenario where the re-review answers shorter, as its prompt asks.

use git_hybrid::change::Change;
use git_hybrid::cloud::cost::{self, Prices};
use git_hybrid::cloud::review::{self, Options, PromptTokens};
use git_hybrid::store::FindingRow;
use git_hybrid::workflow::fix::rereview_context;
use git2::{Oid, Repository, Signature};

const SPEC: &str = "# Add the module\n\n## Files to touch\n\n- create src/generated.rs\n\n## Requirements\n\n- Follow the store's error type; every error names the path it concerns.\n- Limits: at most 64 items, names of 1 to 100 bytes.\n\n## Tests\n\n- an empty name is rejected with `Error::Empty`\n- 65 items are rejected with `Error::TooMany`\n";

/// A scenario, not a measurement: a first review's verdict with its findings described, and a
/// re-review's one-sentence answer with no finding left (no Claude answers offline).
const FIRST_OUT: usize = 1500;
const RE_OUT: usize = 300;

fn commit(repo: &Repository, files: &[(&str, &str)], parent: Option<Oid>) -> Oid {
    let mut builder = repo.treebuilder(None).unwrap();
    let mut src = repo.treebuilder(None).unwrap();
    for (path, text) in files {
        let blob = repo.blob(text.as_bytes()).unwrap();
        match path.strip_prefix("src/") {
            Some(name) => src.insert(name, blob, 0o100644).unwrap(),
            None => builder.insert(path, blob, 0o100644).unwrap(),
        };
    }
    let src = src.write().unwrap();
    builder.insert("src", src, 0o040000).unwrap();
    let tree = repo.find_tree(builder.write().unwrap()).unwrap();
    let sig = Signature::now("bench", "bench@example.com").unwrap();
    let parents: Vec<_> = parent
        .map(|p| repo.find_commit(p).unwrap())
        .into_iter()
        .collect();
    let refs: Vec<_> = parents.iter().collect();
    repo.commit(None, &sig, &sig, "c", &tree, &refs).unwrap()
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    let prices = Prices::embedded();
    let price = prices
        .lookup(review::DEFAULT_MODEL, &cost::today())
        .expect("a price for the default reviewer")
        .clone();
    let per = |t: usize, rate: f64| t as f64 * rate / 1e6;
    let write = price.cache_write.unwrap_or(price.input);
    let read = price.cache_read.unwrap_or(price.input);
    let outputs = [0usize, 600, 2000];
    let mut sources: Vec<_> = walk(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src"
    )));
    sources.sort();
    println!(
        "{:<34} {:>5} {:>8} {:>8}  ratio at output 0 / 600 / 2000 tokens (cache read; expired)",
        "file (as generated)", "lines", "first", "re-rev",
    );
    let mut ratios: Vec<Vec<(f64, f64)>> = vec![Vec::new(); outputs.len()];
    let mut scenario = Vec::new();
    for path in sources {
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        if !(120..=450).contains(&lines.len()) {
            continue;
        }
        let base = commit(
            &repo,
            &[
                ("README.md", "# project\n"),
                ("src/lib.rs", "pub mod generated;\n"),
            ],
            None,
        );
        let first = commit(
            &repo,
            &[
                ("README.md", "# project\n"),
                ("src/lib.rs", "pub mod generated;\n"),
                ("src/generated.rs", &text),
            ],
            Some(base),
        );
        let mut fixed: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        let mid = lines.len() / 2;
        for l in &mut fixed[mid..mid + 10] {
            *l = format!("{l} // checked");
        }
        let fixed = fixed.join("\n") + "\n";
        let fix = commit(
            &repo,
            &[
                ("README.md", "# project\n"),
                ("src/lib.rs", "pub mod generated;\n"),
                ("src/generated.rs", &fixed),
            ],
            Some(first),
        );
        let tree = |c: Oid| repo.find_commit(c).unwrap().tree().unwrap();
        let review_of = |from: Oid, to: Oid, spec: (String, String)| {
            let change = Change::between_trees(&repo, Some(&tree(from)), Some(&tree(to))).unwrap();
            let options = Options {
                model: review::DEFAULT_MODEL,
                phase: "review",
                part_tokens: review::DEFAULT_PART_TOKENS,
                spec: Some(spec),
                tip_tree: Some(tree(to).id()),
                target: "hybrid/generated".into(),
                base_commit: None,
                tip_commit: None,
                worktree: None,
                check: None,
            };
            review::prepare(&repo, &change, &options)
                .unwrap()
                .parts
                .iter()
                .map(|p| p.tokens())
                .collect::<Vec<_>>()
        };
        let findings: Vec<FindingRow> = [
            ("edge_cases", "An empty name is accepted."),
            ("error_handling", "The error drops the path."),
        ]
        .iter()
        .map(|(category, message)| FindingRow {
            source: git_hybrid::store::FindingSource::Reviewer,
            path: "src/generated.rs".into(),
            line: mid as u32 + 1,
            severity: "high".into(),
            category: category.to_string(),
            message: message.to_string(),
            suggestion: "Check it and say which path.".into(),
        })
        .collect();
        let first_parts = review_of(base, first, ("docs/spec.md".into(), SPEC.into()));
        let again_parts = review_of(first, fix, rereview_context("hybrid/generated", &findings));
        let cost = |parts: &[PromptTokens], system_rate: f64, out: usize| -> f64 {
            parts
                .iter()
                .map(|t| {
                    per(t.system, system_rate)
                        + per(t.cached, write)
                        + per(t.uncached, price.input)
                        + per(out, price.output)
                })
                .sum()
        };
        let mut cells = Vec::new();
        for (i, out) in outputs.iter().enumerate() {
            let first_usd = cost(&first_parts, write, *out);
            let warm = cost(&again_parts, read, *out) / first_usd;
            let cold = cost(&again_parts, write, *out) / first_usd;
            ratios[i].push((warm, cold));
            cells.push(format!("{warm:.3} ({cold:.3})"));
        }
        scenario.push(cost(&again_parts, read, RE_OUT) / cost(&first_parts, write, FIRST_OUT));
        let name = path
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap_or(&path)
            .display()
            .to_string();
        println!(
            "{:<34} {:>5} {:>8.5} {:>8.5}  {}",
            name,
            lines.len(),
            cost(&first_parts, write, 0),
            cost(&again_parts, read, 0),
            cells.join("  ")
        );
    }
    let mut short: Vec<f64> = scenario.clone();
    short.sort_by(f64::total_cmp);
    println!(
        "first review answering {FIRST_OUT} output tokens, re-review {RE_OUT}: median {:.3} (max {:.3})",
        short[short.len() / 2],
        short[short.len() - 1]
    );
    for (i, out) in outputs.iter().enumerate() {
        let mut warm: Vec<f64> = ratios[i].iter().map(|r| r.0).collect();
        let mut cold: Vec<f64> = ratios[i].iter().map(|r| r.1).collect();
        warm.sort_by(f64::total_cmp);
        cold.sort_by(f64::total_cmp);
        println!(
            "output {out:>4} tokens: re-review / first review, median {:.3} (max {:.3}); cache expired: median {:.3} (max {:.3}); over {} files",
            warm[warm.len() / 2],
            warm[warm.len() - 1],
            cold[cold.len() / 2],
            cold[cold.len() - 1],
            warm.len()
        );
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}
