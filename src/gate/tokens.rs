//! Output found by its tokens: the lines of a candidate that bring a long run of a generation's
//! tokens (`change::tokens`), however a formatter laid them out — black re-wrapping a call,
//! prettier dropping semicolons and swapping quotes, rustfmt expanding a one-liner.
//!
//! A run is evidence by itself only when it is long — [`EVIDENCE`] tokens in a row of one
//! generation's output (two or three lines of code) — or spans [`SHORT_LINES`] significant lines
//! (as three lines found by their fingerprints are): what a person typing the same idiom does
//! not produce by chance. Tokens the destination already held (the file's old side: a block a
//! human re-wraps in place; any lines the change removes: a block a refactor moves to another
//! file) bring nothing. Like every detection this only *finds*
//! output: what covers a line found here is still an approval of its exact text (ARCHITECTURE
//! §4), so formatted output needs a review of the formatted text.

use std::collections::{HashMap, HashSet};

use super::EvaluateError;
use crate::change::tokens::{self, K, Kept, Token};
use crate::change::{Change, Fingerprint};
use crate::store::{LocalMatch, Store};

/// The fewest tokens in a row of one generation's output that count as its output arriving;
/// chosen by replaying real histories and formatting real output (`benches/fp_replay.py`,
/// `benches/formatter_recall.py`).
pub const EVIDENCE: usize = 16;

/// A shorter run is evidence when it spans this many significant lines (as a run of three
/// lines found by their fingerprints is): a three-line block a formatter touched.
pub const SHORT_LINES: usize = 3;
/// The fewest tokens in a row such a short run needs: one kept run.
pub const SHORT_EVIDENCE: usize = K;

/// One run of added lines, tokenised and winnowed.
struct Run<'a> {
    path: String,
    lines: Vec<u32>,
    /// Each line's text: whether it is significant is asked only of lines in a run found.
    texts: Vec<&'a [u8]>,
    tokens: Vec<Token>,
    kept: Vec<Kept>,
    file: &'a [u8],
}

/// The lines of `change` (by path and new line number) that bring a run of one generation's
/// tokens that the destination did not already hold — [`EVIDENCE`] tokens, or fewer across
/// [`SHORT_LINES`] significant lines — each with the newest generation found there.
pub(super) fn found(
    repo: &crate::git::Repo,
    store: &Store,
    change: &Change,
) -> Result<HashMap<(String, u32), LocalMatch>, EvaluateError> {
    let runs: Vec<Run<'_>> = change
        .added_runs()
        .into_iter()
        .filter_map(|r| {
            let tokens = tokens::tokens(r.lines.iter().map(|l| l.bytes));
            let kept = tokens::winnow(&tokens);
            (tokens.len() >= SHORT_EVIDENCE).then(|| Run {
                path: String::from_utf8_lossy(r.path).into_owned(),
                lines: r.lines.iter().map(|l| l.line).collect(),
                texts: r.lines.iter().map(|l| l.bytes).collect(),
                tokens,
                kept,
                file: r.path,
            })
        })
        .collect();
    let mut out = HashMap::new();
    let hashes: HashSet<Fingerprint> = runs
        .iter()
        .flat_map(|r| r.kept.iter().map(|k| k.hash))
        .collect();
    if hashes.is_empty() {
        return Ok(out);
    }
    let known = store.local_token_runs(&hashes)?;
    if known.is_empty() {
        return Ok(out);
    }
    // What the destination already held: every run of the old side of each file with a hit,
    // and of every run of lines the change removes anywhere (a block moved to another file,
    // re-wrapped on the way). Kept or not: the candidate's kept runs are looked up in it.
    let mut held: HashSet<Fingerprint> = change
        .removed_runs()
        .iter()
        .flat_map(|r| tokens::runs(&tokens::tokens(r.lines.iter().map(|l| l.bytes))))
        .collect();
    let mut read: HashSet<&[u8]> = HashSet::new();
    for run in runs
        .iter()
        .filter(|r| r.kept.iter().any(|k| known.contains_key(&k.hash)))
    {
        if !read.insert(run.file) {
            continue;
        }
        let old = match change.files.iter().find(|f| f.path() == run.file) {
            Some(f) if f.old.is_some() => crate::change::readable_text(&repo.git, f)?
                .map(|(old, _)| old)
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let old_tokens = tokens::tokens(old.split_inclusive(|&b| b == b'\n'));
        held.extend(tokens::runs(&old_tokens));
    }
    let take = |out: &mut HashMap<(String, u32), LocalMatch>,
                run: &Run<'_>,
                (from, to): (usize, usize),
                generation: &LocalMatch| {
        tracing::debug!(generation = %generation.generation_id, path = %run.path, tokens = to - from, "evidence by tokens");
        for t in &run.tokens[from..to] {
            out.entry((run.path.clone(), run.lines[t.line]))
                .or_insert_with(|| generation.clone());
        }
    };
    for run in runs.iter().filter(|r| read.contains(r.file)) {
        // Per generation, where its runs start in this run's tokens (newest generation first).
        let mut starts: Vec<(&LocalMatch, Vec<usize>)> = Vec::new();
        for k in run.kept.iter().filter(|k| !held.contains(&k.hash)) {
            for g in known.get(&k.hash).into_iter().flatten() {
                match starts
                    .iter_mut()
                    .find(|(s, _)| s.generation_id == g.generation_id)
                {
                    Some((_, at)) => at.push(k.at),
                    None => starts.push((g, vec![k.at])),
                }
            }
        }
        for (generation, at) in starts {
            for (from, to) in spans(&at) {
                let mut lines: Vec<usize> = run.tokens[from..to].iter().map(|t| t.line).collect();
                lines.dedup();
                let significant = lines
                    .iter()
                    .filter(|&&l| crate::change::fingerprint(run.texts[l]).is_some())
                    .count();
                if to - from >= EVIDENCE || significant >= SHORT_LINES {
                    take(&mut out, run, (from, to), generation);
                }
            }
        }
    }
    Ok(out)
}

/// The stretches of tokens that runs starting at `starts` (in order) cover, touching ones
/// merged: `(first token, one past the last)`.
fn spans(starts: &[usize]) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for &at in starts {
        match out.last_mut() {
            Some((_, to)) if at <= *to => *to = (*to).max(at + K),
            _ => out.push((at, at + K)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touching_runs_make_one_span() {
        assert_eq!(
            spans(&[0, 3, 3 + K, 40]),
            vec![(0, 3 + 2 * K), (40, 40 + K)]
        );
        assert_eq!(spans(&[]), Vec::<(usize, usize)>::new());
    }
}
