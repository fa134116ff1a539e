//! Output found by its tokens: the lines of a candidate that bring a long run of a generation's
//! tokens (`change::tokens`), however a formatter laid them out — black re-wrapping a call,
//! prettier dropping semicolons and swapping quotes, rustfmt expanding a one-liner.
//!
//! A run is evidence by itself only when it is long — [`EVIDENCE`] tokens in a row of one
//! generation's output (two or three lines of code) — or spans [`SHORT_LINES`] significant lines
//! (as three lines found by their fingerprints are): what a person typing the same idiom does
//! not produce by chance. A run's reach is measured through every run of K tokens the generation
//! kept (not only those the candidate's winnowing kept too), and runs on through the lines beside
//! it that are the generation's by themselves (their line fingerprint, or their own token hash
//! where a formatter re-quoted them in place). Tokens the destination already held (the file's
//! old side: a block a human re-wraps in place; any lines the change removes: a block a refactor
//! moves to another file) bring nothing. Like every detection this only *finds* output: what
//! covers a line found here is still an approval of its exact text (ARCHITECTURE §4), so
//! formatted output needs a review of the formatted text.

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
    // A hit says the run shares tokens with a generation, but one kept hash covers only K of
    // them: a shared stretch of a dozen tokens (an `if` and its `throw` that prettier spread over
    // five lines) is found through one kept hash on each side. So where a run has a hit, every
    // one of its K-token runs is looked up too: each the generation kept marks K more tokens as
    // its, which is how far the stretch really goes (within W of each end).
    let hit: Vec<(&Run<'_>, Vec<Fingerprint>)> = runs
        .iter()
        .filter(|r| {
            r.kept
                .iter()
                .any(|k| known.contains_key(&k.hash) && !held.contains(&k.hash))
        })
        .map(|r| (r, tokens::runs(&r.tokens)))
        .collect();
    let every: HashSet<Fingerprint> = hit
        .iter()
        .flat_map(|(_, hashes)| hashes.iter().copied())
        .filter(|h| !held.contains(h) && !known.contains_key(h))
        .collect();
    let mut known = known;
    known.extend(store.local_token_runs(&every)?);
    // And the lines beside a stretch that are the generation's by themselves — by their line
    // fingerprint, or re-quoted in place by their own token hash — belong to it: the ends W
    // leaves unsure, a formatter's `defineGetter(req, "ip", function ip() {` over the output's
    // `defineGetter(req, 'ip', function ip(){`.
    let line_keys: Vec<Vec<(Option<Fingerprint>, Option<Fingerprint>)>> = hit
        .iter()
        .map(|(run, _)| {
            run.texts
                .iter()
                .map(|t| {
                    let fp = crate::change::fingerprint(t);
                    (fp, fp.and_then(|_| tokens::line_hash(t)))
                })
                .collect()
        })
        .collect();
    let by_line = store.local_matches(
        &line_keys
            .iter()
            .flatten()
            .filter_map(|(fp, _)| *fp)
            .collect(),
    )?;
    let by_line_hash = store.local_token_runs(
        &line_keys
            .iter()
            .flatten()
            .filter_map(|(_, lh)| *lh)
            .collect(),
    )?;
    for ((run, hashes), keys) in hit.iter().zip(&line_keys) {
        // Per generation, where its runs start in this run's tokens (newest generation first).
        let mut starts: Vec<(&LocalMatch, Vec<usize>)> = Vec::new();
        for (at, hash) in hashes.iter().enumerate().filter(|(_, h)| !held.contains(h)) {
            for g in known.get(hash).into_iter().flatten() {
                match starts
                    .iter_mut()
                    .find(|(s, _)| s.generation_id == g.generation_id)
                {
                    Some((_, positions)) => positions.push(at),
                    None => starts.push((g, vec![at])),
                }
            }
        }
        let mut per_line = vec![0usize; run.texts.len()];
        for t in &run.tokens {
            per_line[t.line] += 1;
        }
        for (generation, at) in starts {
            let holds = |found: &HashMap<Fingerprint, Vec<LocalMatch>>,
                         key: Option<Fingerprint>| {
                key.and_then(|k| found.get(&k)).is_some_and(|gs| {
                    gs.iter()
                        .any(|g| g.generation_id == generation.generation_id)
                })
            };
            // `Some(true)`: the generation's line; `None`: no tokens, passed over.
            let theirs = |l: usize| -> Option<bool> {
                (per_line[l] > 0)
                    .then(|| holds(&by_line, keys[l].0) || holds(&by_line_hash, keys[l].1))
            };
            for (from, to) in spans(&at) {
                let (own_first, own_last) = (run.tokens[from].line, run.tokens[to - 1].line);
                let first = reach(own_first, (0..own_first).rev(), theirs);
                let last = reach(own_last, own_last + 1..per_line.len(), theirs);
                // The stretch's own tokens, and all of the lines it reached: a line of its own
                // counts only as far as the stretch goes into it (a URL's `https://github.com/`
                // shared by a line of twenty tokens is eight).
                let tokens = (to - from)
                    + per_line[first..own_first].iter().sum::<usize>()
                    + per_line[own_last + 1..=last].iter().sum::<usize>();
                let significant = (first..=last).filter(|&l| keys[l].0.is_some()).count();
                if tokens >= EVIDENCE || significant >= SHORT_LINES {
                    tracing::debug!(
                        generation = %generation.generation_id, path = %run.path,
                        tokens, significant, "evidence by tokens"
                    );
                    for l in (first..=last).filter(|&l| per_line[l] > 0) {
                        out.entry((run.path.clone(), run.lines[l]))
                            .or_insert_with(|| generation.clone());
                    }
                }
            }
        }
    }
    Ok(out)
}

/// How far a stretch ending at line `from` reaches over `beyond` (the lines past it, nearest
/// first): through the generation's lines, over lines without tokens, to the last of its own.
fn reach(
    from: usize,
    beyond: impl Iterator<Item = usize>,
    theirs: impl Fn(usize) -> Option<bool>,
) -> usize {
    let mut end = from;
    for l in beyond {
        match theirs(l) {
            Some(true) => end = l,
            Some(false) => break,
            None => {}
        }
    }
    end
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
