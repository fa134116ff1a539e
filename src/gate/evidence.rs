//! Evidence that local output arrived, as against a coincidence: which generations a candidate's
//! uncovered lines are really output of.
//!
//! Detection finds lines one at a time, and one line of a common idiom (`import
//! importlib.metadata`, `@app.post("/")`, `unreleased` atop a changelog) is typed by people
//! every day; a gate that blocks on it blocks one human commit in fifteen on real Python and
//! JavaScript history. So a generation's lines count only when the candidate shows evidence
//! that the generation's work arrived, any one of:
//! - a **run**: one of its uncovered lines sits among at least [`RUN`] consecutive lines of that
//!   generation in the file as the candidate leaves it (lines too short to fingerprint are
//!   skipped, lines the generation did not write end the run), [`BROUGHT`] of them brought by
//!   the candidate, [`RUN_TOKENS`] tokens in them all unless it brings [`RUN`] (two one-word
//!   lines of a list beside a third already there are a person's edit).
//!   Lines already there count, so output brought in two-line pieces is caught once the
//!   pieces meet; one line put back beside a generation's lines (a comment restored, a
//!   paragraph re-wrapped) is not a paste;
//! - **many** lines: at least [`MANY`] of its lines found anywhere in the candidate, or held
//!   by a file the candidate brings [`BROUGHT`] of them to (pieces kept apart by one's own
//!   lines add up);
//! - a **share**: the candidate brings at least half of what the generation recorded (its
//!   edits), which is how a small generation — a deleted check, a whitespace change, a few
//!   short lines — is caught when its commit is merged, cherry-picked or re-typed.
//!
//! What this never does is approve: a line it lets through is judged not to be output at all,
//! and a line that is output is still covered only by an exact approval (ARCHITECTURE §4). The
//! thresholds were chosen by replaying real histories (`benches/fp_replay.py`).

use std::collections::{HashMap, HashSet};

use super::{EvaluateError, UncoveredLine};
use crate::change::{Change, Fingerprint};
use crate::store::Store;

/// The fewest consecutive lines of one generation that are evidence by themselves: the
/// smallest block the gate promises to catch wherever it is pasted.
pub const RUN: usize = 3;
/// The fewest tokens (`change::tokens`) such a run's lines must hold between them, unless the
/// candidate brings [`RUN`] of them itself: two lines that each hold one word or string
/// (`'DELETE',` `'OPTIONS',` in a list of HTTP methods), beside a line already there, are a
/// list a person edits; three such lines brought together are a paste.
pub const RUN_TOKENS: usize = crate::change::tokens::K;
/// The fewest lines of one generation anywhere in a candidate that are evidence by themselves.
pub const MANY: usize = 6;
/// Of a run, or of what a file holds of a generation, the fewest lines the candidate itself
/// must bring: a single line is what a person restores or re-wraps every day, and a one-line
/// paste says little of where it came from.
pub const BROUGHT: usize = 2;
/// The share of a generation's recorded edits a candidate must bring, when neither of the above
/// holds, for it to count as that generation arriving.
const SHARE: f64 = 0.5;

/// One line of a candidate found as a generation's output, as evidence weighs it.
pub(super) struct Found<'a> {
    pub generation: &'a str,
    /// Its exact edit: the same edit found twice is one line of the generation.
    pub edit: Fingerprint,
    /// A significant added line (it has a fingerprint).
    pub significant: bool,
    /// It stands for a whole file's content, byte for byte: a binary file's blob, a Git LFS
    /// object's oid. Evidence by itself.
    pub whole: bool,
}

/// The generations that every line the candidate was found to bring (covered or not) shows
/// arriving by count: a whole file's content, [`MANY`] significant lines, or more than half of
/// what the generation recorded.
pub(super) fn arriving_by_count<'a>(
    store: &Store,
    found: impl IntoIterator<Item = Found<'a>>,
) -> crate::store::Result<HashSet<String>> {
    // Per generation: the distinct edits found (a test file repeats `}` between the same
    // neighbours hundreds of times: one edit of the generation, once), how many of them are
    // significant added lines (a short line found by its neighbours weighs only in the share),
    // and whether one is a whole file.
    let mut count: HashMap<&str, (HashSet<Fingerprint>, usize, bool)> = HashMap::new();
    for f in found {
        let c = count.entry(f.generation).or_default();
        if c.0.insert(f.edit) && f.significant {
            c.1 += 1;
        }
        c.2 |= f.whole;
    }
    let sizes = store.generation_sizes(count.keys().copied())?;
    Ok(count
        .iter()
        .filter(|(id, (edits, significant, whole))| {
            let size = sizes.get(**id).copied().unwrap_or(0).max(1);
            let found = edits.len();
            let arrives = *whole || *significant >= MANY || (found as f64) > SHARE * size as f64;
            tracing::debug!(
                generation = id,
                found,
                significant,
                size,
                whole,
                arrives,
                "evidence by count"
            );
            arrives
        })
        .map(|(id, _)| id.to_string())
        .collect())
}

/// Adds to `arriving` the generations of `uncovered` lines that sit in a run of at least
/// [`RUN`] lines of their generation in the file as `change` leaves it. Reads only the files
/// holding an uncovered significant line of a generation not already arriving.
pub(super) fn arriving_by_run(
    repo: &crate::git::Repo,
    store: &Store,
    change: &Change,
    uncovered: &[UncoveredLine],
    arriving: &mut HashSet<String>,
) -> Result<(), EvaluateError> {
    // Per file, per generation: its uncovered lines there.
    let mut by_path: HashMap<&str, HashMap<&str, Vec<&UncoveredLine>>> = HashMap::new();
    for u in uncovered.iter().filter(|u| {
        u.fingerprint.is_some() && u.line > 0 && !arriving.contains(&u.generation.generation_id)
    }) {
        by_path
            .entry(u.path.as_str())
            .or_default()
            .entry(u.generation.generation_id.as_str())
            .or_default()
            .push(u);
    }
    // Asked once: without token output no line is tokenised at all.
    let tokens = !by_path.is_empty() && store.has_token_output()?;
    for f in &change.files {
        let shown = f.display_path();
        let Some(generations) = by_path.get(shown.as_str()) else {
            continue;
        };
        let Some((_, new)) = crate::change::readable_text(&repo.git, f)? else {
            continue;
        };
        let fingerprints: Vec<Option<Fingerprint>> = new
            .split_inclusive(|&b| b == b'\n')
            .map(crate::change::fingerprint)
            .collect();
        let known = store.local_matches(&fingerprints.iter().flatten().copied().collect())?;
        // A significant line a formatter re-quoted or re-punctuated in place is still the
        // generation's by its own token hash (recorded beside its token runs).
        let line_hashes: Vec<Option<Fingerprint>> = if tokens {
            new.split_inclusive(|&b| b == b'\n')
                .zip(&fingerprints)
                .map(|(l, fp)| fp.and(crate::change::tokens::line_hash(l)))
                .collect()
        } else {
            vec![None; fingerprints.len()]
        };
        let known_lines = if tokens {
            store.local_token_runs(&line_hashes.iter().flatten().copied().collect())?
        } else {
            HashMap::new()
        };
        let texts: Vec<&[u8]> = new.split_inclusive(|&b| b == b'\n').collect();
        let token_count = |i: usize| crate::change::tokens::tokens([texts[i]]).len();
        let held_by = |found: &HashMap<Fingerprint, Vec<crate::store::LocalMatch>>,
                       key: Option<Fingerprint>,
                       id: &str| {
            key.and_then(|k| found.get(&k))
                .is_some_and(|gs| gs.iter().any(|g| g.generation_id == id))
        };
        // Per line: `None` for a line too short to say anything, else whether it is `id`'s.
        let ours = |i: usize, id: &str| -> Option<bool> {
            fingerprints[i]?;
            Some(held_by(&known, fingerprints[i], id) || held_by(&known_lines, line_hashes[i], id))
        };
        for (&id, lines) in generations {
            if arriving.contains(id) {
                continue;
            }
            // The lines of this generation the candidate brings to this file (0-based).
            let brought: HashSet<usize> = lines.iter().map(|u| u.line as usize - 1).collect();
            if brought.len() < BROUGHT {
                tracing::debug!(generation = id, path = %shown, "evidence by run: one line brought");
                continue;
            }
            // Output brought a few lines at a time, each piece kept apart by lines of one's
            // own, never makes a run: what the file holds of the generation in all counts too.
            let held = (0..fingerprints.len())
                .filter(|i| ours(*i, id) == Some(true))
                .filter_map(|i| fingerprints[i])
                .collect::<HashSet<Fingerprint>>()
                .len();
            let in_a_run = lines.iter().any(|u| {
                let at = u.line as usize - 1;
                let run = run_around(
                    fingerprints.len(),
                    at,
                    |i| ours(i, id),
                    &brought,
                    token_count,
                );
                tracing::debug!(
                    generation = id, path = %u.path, line = u.line,
                    run.lines, run.brought, run.tokens, held, "evidence by run"
                );
                run.lines >= RUN
                    && run.brought >= BROUGHT
                    && (run.tokens >= RUN_TOKENS || run.brought >= RUN)
            });
            if in_a_run || held >= MANY {
                arriving.insert(id.to_string());
            }
        }
    }
    Ok(())
}

/// The run of one generation's lines through a line of a file.
#[derive(Debug, PartialEq, Eq)]
struct Run {
    /// The generation's lines in it.
    lines: usize,
    /// Of those, the ones the candidate brings.
    brought: usize,
    /// The tokens those lines hold between them.
    tokens: usize,
}

/// The run of one generation's lines through line `at` (0-based) of a file of `len` lines.
/// `ours(i)` says of line `i`: `None`, too short to fingerprint (skipped); `Some(true)`, the
/// generation's; `Some(false)`, someone else's (the run ends there). `weight(i)` is how many
/// tokens line `i` holds.
fn run_around(
    len: usize,
    at: usize,
    ours: impl Fn(usize) -> Option<bool>,
    brought: &HashSet<usize>,
    weight: impl Fn(usize) -> usize,
) -> Run {
    let mut run = Run {
        lines: 0,
        brought: 0,
        tokens: 0,
    };
    let mut count = |lines: &mut dyn Iterator<Item = usize>| {
        for i in lines {
            match ours(i) {
                Some(true) => {
                    run.lines += 1;
                    run.brought += usize::from(brought.contains(&i));
                    run.tokens += weight(i);
                }
                Some(false) => break,
                None => {}
            }
        }
    };
    count(&mut (at..len));
    count(&mut (0..at).rev());
    run
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_skips_short_lines_and_ends_at_foreign_ones() {
        let fps = [Some(9), Some(1), None, Some(1), Some(1), Some(2), Some(1)];
        let ours = |i: usize| fps[i].map(|fp| fp == 1);
        let brought = HashSet::from([3, 4, 6]);
        let run = |at| run_around(fps.len(), at, ours, &brought, |i| i);
        let expect = |lines, brought, tokens| Run {
            lines,
            brought,
            tokens,
        };
        assert_eq!(run(3), expect(3, 2, 1 + 3 + 4));
        assert_eq!(run(6), expect(1, 1, 6));
        assert_eq!(run(0), expect(0, 0, 0));
    }
}
