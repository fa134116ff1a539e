//! How a decision reads: the block message (by generation, then file, with the fixing command) and
//! the JSON that `verify --json` prints for machines.

use serde_json::{Value, json};

use super::{Evaluation, Outcome, group_uncovered};

/// Lines for stderr explaining a block. `fallback_fix` is the command to suggest when the
/// generation's branch is unknown.
pub fn render_block(target: &str, e: &Evaluation, fallback_fix: &str) -> Vec<String> {
    let uncovered = e.outcome.uncovered();
    let mut out = vec![format!(
        "blocked: {target} would receive {} line{} of unreviewed local-model output (change {})",
        uncovered.len(),
        crate::ui::plural(uncovered.len()),
        e.change_id.short()
    )];
    let mut fixes = Vec::new();
    for (id, (generation, files)) in group_uncovered(uncovered) {
        let lines: usize = files.values().map(Vec::len).sum();
        let mut about = vec![format!(
            "model {}",
            generation.model.as_deref().unwrap_or("unknown")
        )];
        if let Some(branch) = &generation.branch {
            about.push(format!("branch {}", short_branch(branch)));
        }
        out.push(format!(
            "  generation {id} ({}): {lines} line{}",
            about.join(", "),
            crate::ui::plural(lines)
        ));
        for (path, numbers) in files {
            out.push(format!(
                "    {path}: {} line{} ({})",
                numbers.len(),
                crate::ui::plural(numbers.len()),
                ranges(&numbers)
            ));
        }
        let fix = match &generation.branch {
            Some(branch) => format!("git hybrid review {}", short_branch(branch)),
            None => fallback_fix.to_string(),
        };
        if !fixes.contains(&fix) {
            fixes.push(fix);
        }
    }
    let unsent = uncovered.iter().filter(|u| u.unsent).count();
    if unsent > 0 {
        out.push(format!(
            "  {unsent} of the lines above could not be sent as {} stand (a secret in or right beside {}, a withheld file, or a Git LFS object this clone lacks or cannot read as text): Claude never saw {}, and another review would not show {} either",
            if unsent == 1 { "it" } else { "they" },
            if unsent == 1 { "it" } else { "them" },
            if unsent == 1 { "it" } else { "them" },
            if unsent == 1 { "it" } else { "them" }
        ));
        out.push("  to get past: move the secret out of the code (an environment variable, a file git ignores), fetch the LFS object (git lfs fetch) and review again, or rewrite the line yourself: a line you write is human work".to_string());
    }
    if unsent < uncovered.len() {
        for fix in fixes {
            out.push(format!(
                "  to fix: {fix}   (a Claude review that approves it opens the gate)"
            ));
        }
    }
    out.push("  see all unreviewed local output with: git hybrid pending".into());
    out
}

/// The machine-readable form of a verify result.
pub fn verify_json(range: &str, e: &Evaluation) -> Value {
    let groups: Vec<Value> = group_uncovered(e.outcome.uncovered())
        .into_iter()
        .map(|(id, (generation, files))| {
            json!({
                "generation": id,
                "model": generation.model,
                "branch": generation.branch,
                "files": files.into_iter().map(|(path, lines)| json!({"path": path, "lines": lines})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let local_lines = match &e.outcome {
        Outcome::Covered { local_lines } | Outcome::Blocked { local_lines, .. } => *local_lines,
        _ => 0,
    };
    json!({
        "range": range,
        "change_id": e.change_id.to_string(),
        "decision": if e.outcome.allowed() { "allow" } else { "block" },
        "reason": e.outcome.describe(),
        "added": e.added,
        "removed": e.removed,
        "local_lines": local_lines,
        "uncovered": groups,
    })
}

fn short_branch(branch: &str) -> &str {
    branch.strip_prefix("refs/heads/").unwrap_or(branch)
}

/// `[3,4,5,9]` → `3-5, 9`; line 0 stands for a binary file.
fn ranges(numbers: &[u32]) -> String {
    let mut sorted = numbers.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted == [0] {
        return "binary".into();
    }
    let mut parts = Vec::new();
    let mut iter = sorted.into_iter().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&(end + 1)) {
            end = iter.next().unwrap_or(end);
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::ranges;

    #[test]
    fn compacts_line_ranges() {
        assert_eq!(ranges(&[9, 3, 4, 5, 11, 12]), "3-5, 9, 11-12");
        assert_eq!(ranges(&[7]), "7");
        assert_eq!(ranges(&[0]), "binary");
    }
}
