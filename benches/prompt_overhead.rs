//! Prompt overhead of a review: the tokens a review request carries ÷ the tokens of the plain
//! diff (3 lines of context, as `git diff` prints it), on the commits of this repository's own
//! history (or the repository in `OVERHEAD_REPO`). Token counts are the reviewer's estimate (4
//! bytes a token) on both sides, so the ratio compares like with like. Printed with and without
//! the instructions, which are sent once per part but cached (read at a tenth of the price).

use git_hybrid::change::{Body, Change, Tag};
use git_hybrid::cloud::review::{self, Options, estimate_tokens};

fn plain_diff(change: &Change) -> String {
    let mut out = String::new();
    for f in &change.files {
        let path = f.display_path();
        out.push_str(&format!(
            "diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n"
        ));
        if let Body::Text(hunks) = &f.body {
            for h in hunks {
                out.push_str("@@ -1,1 +1,1 @@\n");
                for l in &h.lines {
                    out.push(match l.tag {
                        Tag::Context => ' ',
                        Tag::Removed => '-',
                        Tag::Added => '+',
                    });
                    out.push_str(&String::from_utf8_lossy(&l.bytes));
                }
            }
        } else {
            out.push_str("Binary files differ\n");
        }
    }
    out
}

fn main() {
    let dir = std::env::var("OVERHEAD_REPO").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into());
    let repo = git2::Repository::discover(&dir).expect("a git repository");
    let mut walk = repo.revwalk().expect("revwalk");
    walk.push_head().expect("HEAD");
    walk.simplify_first_parent().ok();
    let (mut sum_prompt, mut sum_diff, mut sum_uncached) = (0usize, 0usize, 0usize);
    let mut ratios = Vec::new();
    println!(
        "{:>10} {:>8} {:>8} {:>7} {:>7}  commit",
        "diff tok", "prompt", "ratio", "parts", "w/o ins"
    );
    for oid in walk.flatten().take(40) {
        let commit = repo.find_commit(oid).expect("commit");
        let Ok(parent) = commit.parent(0) else {
            continue;
        };
        let (old, new) = (parent.tree().expect("tree"), commit.tree().expect("tree"));
        let change = Change::between_trees(&repo, Some(&old), Some(&new)).expect("change");
        if change.is_empty() {
            continue;
        }
        let options = Options {
            phase: "review",
            model: review::DEFAULT_MODEL,
            part_tokens: review::DEFAULT_PART_TOKENS,
            spec: None,
            tip_tree: Some(new.id()),
            target: oid.to_string(),
            base_commit: None,
            tip_commit: None,
            worktree: None,
            check: None,
        };
        let prepared = review::prepare(&repo, &change, &options).expect("prepare");
        // What the model reads: the text of the system and message blocks (JSON escaping is
        // not tokens).
        let tokens: Vec<_> = prepared.parts.iter().map(|p| p.tokens()).collect();
        let prompt: usize = tokens
            .iter()
            .map(|t| t.system + t.cached + t.uncached)
            .sum();
        let instructions: usize = tokens.iter().map(|t| t.system).sum();
        let diff = estimate_tokens(&plain_diff(&change));
        let ratio = prompt as f64 / diff.max(1) as f64;
        ratios.push(ratio);
        sum_prompt += prompt;
        sum_diff += diff;
        sum_uncached += prompt - instructions;
        println!(
            "{diff:>10} {prompt:>8} {ratio:>8.2} {:>7} {:>7.2}  {}",
            prepared.parts.len(),
            (prompt - instructions) as f64 / diff.max(1) as f64,
            commit
                .summary()
                .ok()
                .flatten()
                .unwrap_or_default()
                .chars()
                .take(60)
                .collect::<String>()
        );
    }
    ratios.sort_by(f64::total_cmp);
    let median = ratios.get(ratios.len() / 2).copied().unwrap_or(0.0);
    println!(
        "over {} commits: prompt/diff {:.2} in total (median commit {:.2}); without the cached instructions {:.2}",
        ratios.len(),
        sum_prompt as f64 / sum_diff.max(1) as f64,
        median,
        sum_uncached as f64 / sum_diff.max(1) as f64
    );
}
