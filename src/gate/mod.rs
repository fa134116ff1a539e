//! The gate: ARCHITECTURE §4's rule, and what each hook hands it as the candidate change.
//!
//! A candidate change C reaching a protected ref is allowed when `change-id(C)` has an approved
//! verdict, or when every line of C found as local output is covered by an approval: a line
//! found as a generation's own edit by a request that carried that very edit, a line found by
//! fingerprint by a request that carried its exact text. Everything else is blocked, listing the
//! uncovered lines by generation with the command that fixes it. This module must fail closed:
//! it returns errors rather than allowing, and the caller turns any error on a protected update
//! into a block. It never writes anything but events.
//!
//! **What an approval covers:** exactly the lines whose text was in a request that a review
//! answered `approve` to — not the branch as it stands later, not lines a redaction replaced or
//! swallowed, not withheld files, not commits added after the review. The store's verdict writer
//! is the only writer of approved lines and takes them from what was sent; this module only reads
//! them. A change id is approved only when its whole change was sent unaltered. Detection may be
//! fuzzy (fingerprints); approval never is.
//!
//! **What the check sees:** every path to a protected ref is a candidate (renames, symbolic refs,
//! replace refs, pushes); content git calls binary is read as text when it can be, and a Git LFS
//! file as its object's content; a submodule pin (gitlink) to a commit this repository holds is
//! checked as that commit's tree, and one into this repository that does not resolve blocks.

mod evidence;
mod hooks;
mod pins;
mod policy;
mod report;
mod tokens;
mod updates;

pub use hooks::{
    Error as HookError, HookOutcome, judges, pre_commit, pre_push, pre_receive,
    reference_transaction,
};
pub use policy::repairs_policy;
pub use report::{render_block, verify_json};
pub use updates::{InputError, RefUpdate, parse_ref_updates};

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::change::{Change, ChangeId, Fingerprint};
use crate::store::{self, LocalMatch, Store};

/// One line of local output that no approval covers: an added line, or a line the change removes
/// exactly as a generation removed it.
#[derive(Clone, Debug)]
pub struct UncoveredLine {
    pub path: String,
    /// In the new file for an added line, in the old file for a removed one.
    pub line: u32,
    /// Its fingerprint, for a significant added line or a binary file; short and removed lines
    /// have none.
    pub fingerprint: Option<Fingerprint>,
    /// The exact identity of the line as an edit (see `change::exact`).
    pub edit: Fingerprint,
    /// The change removes this line, as a generation did.
    pub removed: bool,
    /// Found as a generation's own edit (the line with its neighbours), not by fingerprint.
    pub by_edit: bool,
    pub generation: LocalMatch,
    /// A review saw this line's change but could not send the line as written (a secret was
    /// redacted in it, or its file withheld): no review will approve it as it stands.
    pub unsent: bool,
}

#[derive(Clone, Debug)]
pub enum Outcome {
    /// No added line matches recorded local output.
    NoLocalOutput,
    /// Added lines match recorded local output, but the evidence says none of it arrives here
    /// (lines the destination already held, a lone line of idiom): allowed, and said so.
    Resembles { lines: usize },
    /// An approved verdict exists for exactly this change.
    ApprovedChange,
    /// Local output is present, and every line of it is covered by an approval.
    Covered { local_lines: usize },
    /// Local output without approval: the update must not happen.
    Blocked {
        local_lines: usize,
        uncovered: Vec<UncoveredLine>,
    },
}

impl Outcome {
    pub fn allowed(&self) -> bool {
        !matches!(self, Outcome::Blocked { .. })
    }

    pub fn uncovered(&self) -> &[UncoveredLine] {
        match self {
            Outcome::Blocked { uncovered, .. } => uncovered,
            _ => &[],
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Outcome::NoLocalOutput => "no local output".into(),
            Outcome::Resembles { lines } => format!(
                "no local output arrives ({lines} line{} only resemble{} it)",
                if *lines == 1 { "" } else { "s" },
                if *lines == 1 { "s" } else { "" }
            ),
            Outcome::ApprovedChange => "change approved".into(),
            Outcome::Covered { local_lines } => {
                format!("{local_lines} local-output lines, all approved")
            }
            Outcome::Blocked {
                local_lines,
                uncovered,
            } => format!(
                "{} of {local_lines} local-output lines unreviewed",
                uncovered.len()
            ),
        }
    }
}

/// The rule applied to one candidate change.
#[derive(Clone, Debug)]
pub struct Evaluation {
    pub change_id: ChangeId,
    pub added: usize,
    pub removed: usize,
    pub outcome: Outcome,
    /// Every line found as a generation's output, covered or not, kept where something is
    /// uncovered: `evaluate_in` weighs the evidence of arrival from it.
    found: Vec<Counted>,
}

/// One line found as a generation's output, as `evaluate_in` weighs evidence of arrival.
#[derive(Clone, Debug)]
struct Counted {
    generation: String,
    path: String,
    line: u32,
    removed: bool,
    edit: Fingerprint,
    fingerprint: Option<Fingerprint>,
    whole: bool,
    /// Found in a long run of the generation's tokens: evidence by itself.
    by_tokens: bool,
}

impl Counted {
    fn evidence(&self) -> evidence::Found<'_> {
        evidence::Found {
            generation: &self.generation,
            edit: self.edit,
            significant: !self.removed && self.fingerprint.is_some(),
            whole: self.whole,
        }
    }
}

/// One line of a candidate as the gate judges it: where it sits, how detection finds it
/// (`fingerprint`, fuzzy; `edit`, exact) and what an approval must have carried (`text`, or the
/// edit itself).
struct Item {
    path: String,
    line: u32,
    removed: bool,
    /// [`change::exact::edit_hash`] (a binary file: its blob fingerprint).
    edit: Fingerprint,
    /// [`change::exact::text_hash`] of an added text line.
    text: Option<Fingerprint>,
    /// The fuzzy fingerprint of a significant added line or a binary file.
    fingerprint: Option<Fingerprint>,
    /// It stands for a whole file's content: a binary file's blob, a Git LFS object's oid line.
    whole: bool,
}

impl Item {
    fn uncovered(&self, generation: &LocalMatch, by_edit: bool) -> UncoveredLine {
        UncoveredLine {
            path: self.path.clone(),
            line: self.line,
            fingerprint: self.fingerprint,
            edit: self.edit,
            removed: self.removed,
            by_edit,
            generation: generation.clone(),
            unsent: false,
        }
    }
}

/// Every line `change` adds or removes, and every binary file it brings in.
fn items(change: &Change) -> Vec<Item> {
    let lfs: HashSet<&[u8]> = change
        .files
        .iter()
        .filter(|f| f.decoded.as_ref().is_some_and(|d| d.lfs.is_some()))
        .map(|f| f.path())
        .collect();
    let mut out: Vec<Item> = change
        .edits()
        .into_iter()
        .map(|e| Item {
            whole: !e.removed && lfs.contains(e.path) && e.bytes.starts_with(b"oid sha256:"),
            path: String::from_utf8_lossy(e.path).into_owned(),
            line: e.line,
            removed: e.removed,
            edit: e.edit,
            text: (!e.removed).then_some(e.text),
            fingerprint: if e.removed {
                None
            } else {
                crate::change::fingerprint(e.bytes)
            },
        })
        .collect();
    out.extend(change.files.iter().filter_map(|f| {
        let blob = crate::change::blob_fingerprint(&f.added_opaque_blob()?);
        Some(Item {
            path: f.display_path(),
            line: 0,
            removed: false,
            edit: blob,
            text: None,
            fingerprint: Some(blob),
            whole: true,
        })
    }));
    out
}

/// Which of `items` some approval covers. An edit found as a generation's own is covered only
/// when an approved request carried that very edit (the line between the same neighbours, or
/// removed from between them); any other line by its exact text. Approvals recorded before
/// exact identities existed cover added lines by fingerprint, as they did then.
struct Approvals {
    exact: HashSet<Fingerprint>,
    legacy: HashSet<Fingerprint>,
}

impl Approvals {
    fn of<'a>(
        store: &Store,
        items: impl IntoIterator<Item = &'a Item> + Clone,
    ) -> store::Result<Self> {
        Ok(Approvals {
            exact: store.approved_exact(
                items
                    .clone()
                    .into_iter()
                    .flat_map(|i| [Some(i.edit), i.text].into_iter().flatten()),
            )?,
            legacy: store.approved_fingerprints(items.into_iter().filter_map(|i| i.fingerprint))?,
        })
    }

    fn covers(&self, item: &Item, by_edit: bool) -> bool {
        if by_edit || item.removed {
            return self.exact.contains(&item.edit);
        }
        item.text.is_some_and(|t| self.exact.contains(&t))
            || item.fingerprint.is_some_and(|f| self.legacy.contains(&f))
    }
}

/// Applies the rule of ARCHITECTURE §4 to a candidate change. Local output is found two ways: lines
/// whose fingerprint a generation recorded (fuzzy: re-indented, moved, pasted elsewhere), and
/// edits a generation made exactly (its change itself: short lines, whitespace, deletions and
/// re-arrangements the fingerprints cannot see). What covers either is exact.
pub fn evaluate(store: &Store, change: &Change) -> store::Result<Evaluation> {
    judge(store, change, &HashMap::new())
}

/// How a line was found as a generation's output.
#[derive(Clone, Copy, PartialEq, Eq)]
enum FoundBy {
    /// As one of its edits, exactly.
    Edit,
    /// By its line fingerprint.
    Line,
    /// In a long run of its tokens (`tokens`): evidence by itself.
    Tokens,
}

/// `evaluate`, with the lines `by_tokens` found (by path and line) as output too.
fn judge(
    store: &Store,
    change: &Change,
    by_tokens: &HashMap<(String, u32), LocalMatch>,
) -> store::Result<Evaluation> {
    let change_id = change.id();
    let (added, removed) = change.line_counts();
    let done = |outcome, found| Evaluation {
        change_id,
        added,
        removed,
        outcome,
        found,
    };
    if !store.has_local_output()? {
        return Ok(done(Outcome::NoLocalOutput, Vec::new()));
    }
    let items = items(change);
    let fingerprints: HashSet<Fingerprint> = items.iter().filter_map(|i| i.fingerprint).collect();
    let edits: HashSet<Fingerprint> = items.iter().map(|i| i.edit).collect();
    let local = store.local_matches(&fingerprints)?;
    let local_edits = store.local_edits(&edits)?;
    if local.is_empty() && local_edits.is_empty() && by_tokens.is_empty() {
        return Ok(done(Outcome::NoLocalOutput, Vec::new()));
    }
    if store.is_change_approved(&change_id.to_string())? {
        return Ok(done(Outcome::ApprovedChange, Vec::new()));
    }
    // The newest generation that made the edit or the line is the one to review.
    let found: Vec<(&Item, &LocalMatch, FoundBy)> = items
        .iter()
        .filter_map(|i| {
            if let Some(g) = local_edits.get(&i.edit).and_then(|g| g.first()) {
                return Some((i, g, FoundBy::Edit));
            }
            if let Some(g) = i.fingerprint.and_then(|f| local.get(&f)?.first()) {
                return Some((i, g, FoundBy::Line));
            }
            let g = by_tokens
                .get(&(i.path.clone(), i.line))
                .filter(|_| !i.removed)?;
            Some((i, g, FoundBy::Tokens))
        })
        .collect();
    let approvals = Approvals::of(store, found.iter().map(|(i, _, _)| *i))?;
    let uncovered: Vec<UncoveredLine> = found
        .iter()
        .filter(|(i, _, how)| !approvals.covers(i, *how == FoundBy::Edit))
        .map(|(i, g, how)| i.uncovered(g, *how == FoundBy::Edit))
        .collect();
    // Evidence is weighed only where something would block: every found line counts, covered
    // or not (a partly approved generation is still arriving whole).
    let counted = if uncovered.is_empty() {
        Vec::new()
    } else {
        found
            .iter()
            .map(|(i, g, how)| Counted {
                generation: g.generation_id.clone(),
                path: i.path.clone(),
                line: i.line,
                removed: i.removed,
                edit: i.edit,
                fingerprint: i.fingerprint,
                whole: i.whole,
                by_tokens: *how == FoundBy::Tokens,
            })
            .collect()
    };
    let local_lines = found.len();
    Ok(done(
        if uncovered.is_empty() {
            Outcome::Covered { local_lines }
        } else {
            Outcome::Blocked {
                local_lines,
                uncovered,
            }
        },
        counted,
    ))
}

/// What `tokens` finds of `change`, read only when some generation recorded token fingerprints.
fn by_tokens(
    repo: &crate::git::Repo,
    store: &Store,
    change: &Change,
) -> Result<HashMap<(String, u32), LocalMatch>, EvaluateError> {
    if store.has_token_output()? {
        tokens::found(repo, store, change)
    } else {
        Ok(HashMap::new())
    }
}

/// How deep pins inside pinned commits are followed.
const MAX_PIN_DEPTH: usize = 3;

/// The rule applied to a candidate change in its repository: `evaluate`, plus every submodule
/// pin (gitlink) the change sets to a commit this repository holds, checked as that commit's
/// change against its merge-base with the default branch. Pinning a commit is how its content
/// reaches whoever checks the submodule out, so unreviewed output behind a pin blocks as if it
/// were added directly.
///
/// A line the destination already holds is not output reaching it: an uncovered line whose text
/// is already in the old side of a file the change touches (a block a human refactor moves, a
/// line duplicated within its file) does not block. Only touched files are read, and only when
/// something is uncovered, so the common case costs nothing more.
pub fn evaluate_in(
    repo: &crate::git::Repo,
    store: &Store,
    settings: &crate::config::Settings,
    change: &Change,
) -> Result<Evaluation, EvaluateError> {
    store.count_session_reviews(settings.session_reviews);
    let default_branch = settings.default_branch.as_deref();
    let mut evaluation = judge(store, change, &by_tokens(repo, store, change)?)?;
    if !evaluation.outcome.uncovered().is_empty() {
        // Whether output *arrives* is detection, and detection may be fuzzy: an added line the
        // file already held (boilerplate a test repeats, a line a person re-indented or moved)
        // is not new output, even where it sits between the same lines a generation put it
        // between. What a generation's change does to the file stays judged by the edits that
        // are no such line: what it removed (a deletion, the other half of a move or of a
        // whitespace change) and what it added that has no fingerprint (short lines).
        //
        // Nor is a line a generation removed, where this change moves the block it sits in: it
        // takes the block out here and adds it back elsewhere (a docstring re-ordered, a
        // function moved), not as a generation's own edit. A generation's deletion arrives when
        // its line is gone from the change's result, and its re-order or whitespace change when
        // a line or two come back where it put them (read before those added lines are
        // forgiven as present).
        let moved = moved_lines(change, evaluation.outcome.uncovered());
        let found_lines = evaluation.outcome.uncovered().len();
        let present = old_side_fingerprints(repo, change)?;
        let held = |removed: bool, path: &str, line: u32, fingerprint: Option<Fingerprint>| {
            if removed {
                moved.contains(&(path.to_string(), line))
            } else {
                fingerprint.is_some_and(|f| present.contains(&f))
            }
        };
        evaluation
            .outcome
            .forgive(|u| held(u.removed, &u.path, u.line, u.fingerprint));
        // Nor is a lone line of a generation that shows no other sign of arriving. What the
        // destination already held is no sign either: a person re-arranging a generation's
        // file brings back dozens of its lines that were there before, and the few short lines
        // that land between the same neighbours again are not its output arriving.
        let candidates = evaluation.outcome.uncovered().to_vec();
        let no_shown = HashSet::new();
        let held = |c: &Counted| held(c.removed, &c.path, c.line, c.fingerprint);
        let arriving = weigh_arrival(repo, store, change, &evaluation, &held, &no_shown)?;
        evaluation
            .outcome
            .forgive(|u| !arriving.contains(&u.generation.generation_id));
        // Nor a line the destination already shows in any file: the tree it starts from is the
        // vetted baseline (a block moved between files, a re-applied change, a function copied
        // into the documentation), and such lines are no sign of the rest arriving either. One
        // `git grep`, only when something is still blocked after the cheap weighing above (a
        // lone line of idiom, the common case, never pays for it); it reads every line that
        // weighing saw, so the second weighing sets aside the same lines a single one would.
        if !evaluation.outcome.uncovered().is_empty() {
            let shown = shown_in_base(repo, change, &candidates);
            evaluation
                .outcome
                .forgive(|u| shown.contains(&(u.path.clone(), u.line)));
            let arriving = weigh_arrival(repo, store, change, &evaluation, &held, &shown)?;
            evaluation
                .outcome
                .forgive(|u| !arriving.contains(&u.generation.generation_id));
        }
        // Said with every line that was found, whichever step set it aside.
        if let Outcome::Resembles { lines } = &mut evaluation.outcome {
            *lines = found_lines;
        }
    }
    let mut seen = HashSet::new();
    let mut pending: Vec<(String, git2::Oid, usize)> =
        pins(change).map(|(path, id)| (path, id, 1)).collect();
    while let Some((path, id, depth)) = pending.pop() {
        if !seen.insert(id) {
            continue;
        }
        let Ok(commit) = repo.git.find_commit(id) else {
            // A pin to a commit this repository does not hold is another repository's business
            // — unless it points here: then it promises content the gate cannot see.
            let baseline = repo.baseline_for_new_ref(default_branch);
            match pins::home(repo, change, baseline, &path) {
                pins::Home::Elsewhere => continue,
                home => {
                    return Err(EvaluateError::UnresolvablePin {
                        path,
                        commit: id.to_string(),
                        known: home == pins::Home::Here,
                    });
                }
            }
        };
        let (inner, brought) = pinned(repo, store, settings, commit.id(), None)?;
        let label = format!("{path} (submodule pin {})", &id.to_string()[..10]);
        evaluation.outcome.absorb(inner.outcome, Some(&label));
        if depth < MAX_PIN_DEPTH {
            pending.extend(pins(&brought).map(|(p, i)| (format!("{label}/{p}"), i, depth + 1)));
        }
    }
    if let Outcome::Blocked { uncovered, .. } = &mut evaluation.outcome {
        let unsent = store.unsent_fingerprints(
            uncovered
                .iter()
                .flat_map(|u| [u.fingerprint, Some(u.edit)].into_iter().flatten()),
        )?;
        for u in uncovered.iter_mut() {
            // A line found by its edit is stuck when its edit could not be sent as it is; one
            // found by fingerprint, when its text could not.
            let key = if u.by_edit {
                Some(u.edit)
            } else {
                u.fingerprint
            };
            u.unsent = key.is_some_and(|k| unsent.contains(&k));
        }
    }
    Ok(evaluation)
}

/// The generations of `evaluation`'s uncovered lines that show their output arriving: by count,
/// by a long run of tokens, or by a run of lines — weighing only the lines found that the
/// destination neither `held` (old side, moved) nor `shown` (in the base tree).
fn weigh_arrival(
    repo: &crate::git::Repo,
    store: &Store,
    change: &Change,
    evaluation: &Evaluation,
    held: &dyn Fn(&Counted) -> bool,
    shown: &HashSet<(String, u32)>,
) -> Result<HashSet<String>, EvaluateError> {
    let weighed: Vec<&Counted> = evaluation
        .found
        .iter()
        .filter(|c| !held(c))
        .filter(|c| c.removed || !shown.contains(&(c.path.clone(), c.line)))
        .collect();
    let mut arriving = evidence::arriving_by_count(store, weighed.iter().map(|c| c.evidence()))?;
    // A long run of a generation's tokens is evidence by itself, where a line of it that says
    // something is still new here.
    arriving.extend(
        weighed
            .iter()
            .filter(|c| c.by_tokens && c.fingerprint.is_some())
            .map(|c| c.generation.clone()),
    );
    evidence::arriving_by_run(
        repo,
        store,
        change,
        evaluation.outcome.uncovered(),
        &mut arriving,
    )?;
    Ok(arriving)
}

/// What a pinned commit brings whoever checks the pin out: its whole tree, judged against what
/// the default branch shows, as a new protected ref is. When only quarantine refs reach it — or
/// `incoming`, a quarantine ref a push is about to create, which no ref shows yet — all of it is
/// local output, recorded or not.
fn pinned(
    repo: &crate::git::Repo,
    store: &Store,
    settings: &crate::config::Settings,
    id: git2::Oid,
    incoming: Option<&str>,
) -> Result<(Evaluation, Change), EvaluateError> {
    let base = repo.baseline_for_new_ref(settings.default_branch.as_deref());
    let old = base.map(|b| repo.tree_of(b)).transpose()?;
    let new = repo.tree_of(id)?;
    let pinned = Change::between_trees(&repo.git, old.as_ref(), Some(&new))?;
    let quarantine = quarantine_only(repo, settings, id).or_else(|| {
        incoming
            .filter(|r| settings.is_quarantine(r))
            .map(String::from)
    });
    let evaluation = match quarantine {
        Some(branch) => Evaluation {
            outcome: all_local(store, &pinned, branch)?,
            ..evaluate(store, &pinned)?
        },
        // Output behind a pin is found as it is anywhere, re-laid out by a formatter included.
        None => judge(store, &pinned, &by_tokens(repo, store, &pinned)?)?,
    };
    Ok((evaluation, pinned))
}

/// An update the gate does not guard that brings a commit a protected branch already pins into
/// this repository: the other order of events for pins (the pin came first, before the gate or
/// by a path no hook ran for; the content comes later, under a quarantine ref).
#[derive(Debug)]
pub struct PinArrival {
    /// The ref whose update brings the commit.
    pub refname: String,
    /// The protected branch that pins it, and where.
    pub protected: String,
    pub path: String,
    pub commit: git2::Oid,
}

/// The arrivals among `updates`. Protected updates are judged whole elsewhere and skipped; the
/// cost where no protected branch has a `.gitmodules` is one tree lookup per protected branch.
pub fn pin_arrivals(
    repo: &crate::git::Repo,
    settings: &crate::config::Settings,
    updates: &[RefUpdate],
) -> Vec<PinArrival> {
    let incoming: Vec<(&str, git2::Oid)> = updates
        .iter()
        .filter(|u| u.new_target.is_none() && !settings.is_protected(&u.refname))
        .filter_map(|u| Some((u.refname.as_str(), u.new?)))
        .collect();
    if incoming.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for pin in pins::standing(repo, settings) {
        let reaches = |tip: git2::Oid| {
            tip == pin.commit
                || repo
                    .git
                    .graph_descendant_of(tip, pin.commit)
                    .unwrap_or(false)
        };
        if let Some((refname, _)) = incoming.iter().find(|(_, tip)| reaches(*tip)) {
            out.push(PinArrival {
                refname: refname.to_string(),
                protected: pin.refname,
                path: pin.path,
                commit: pin.commit,
            });
        }
    }
    out
}

/// What checking `arrival`'s pin out brings now that the commit is here, judged as content
/// reaching the protected branch.
pub fn judge_arrival(
    repo: &crate::git::Repo,
    store: &Store,
    settings: &crate::config::Settings,
    arrival: &PinArrival,
) -> Result<Evaluation, EvaluateError> {
    store.count_session_reviews(settings.session_reviews);
    let (evaluation, _) = pinned(
        repo,
        store,
        settings,
        arrival.commit,
        Some(&arrival.refname),
    )?;
    Ok(evaluation)
}

/// The quarantine ref that reaches `commit`, when only quarantine refs reach it.
fn quarantine_only(
    repo: &crate::git::Repo,
    settings: &crate::config::Settings,
    commit: git2::Oid,
) -> Option<String> {
    let reaches = |tip: git2::Oid| {
        tip == commit || repo.git.graph_descendant_of(tip, commit).unwrap_or(false)
    };
    let mut quarantine = None;
    for reference in repo.git.references().ok()?.flatten() {
        let (Ok(name), Some(tip)) = (reference.name().map(str::to_string), reference.target())
        else {
            continue;
        };
        let Ok(tip) = repo
            .git
            .find_object(tip, None)
            .and_then(|o| o.peel_to_commit())
        else {
            continue;
        };
        if !reaches(tip.id()) {
            continue;
        }
        if settings.is_quarantine(&name) {
            quarantine.get_or_insert(name);
        } else if settings.is_protected(&name) {
            return None;
        }
    }
    quarantine
}

/// Every line a pinned `change` adds that no approval covers, as local output of the quarantine
/// branch that holds it (content of a quarantine ref is local output by definition). What the
/// pinned tree lacks against the default branch reaches nobody: a submodule is checked out
/// beside the tree, not over it.
fn all_local(store: &Store, change: &Change, branch: String) -> store::Result<Outcome> {
    if store.is_change_approved(&change.id().to_string())? {
        return Ok(Outcome::ApprovedChange);
    }
    let generation = LocalMatch {
        generation_id: "unrecorded".into(),
        model: None,
        branch: Some(branch),
    };
    let added: Vec<Item> = items(change).into_iter().filter(|i| !i.removed).collect();
    all_of(store, &added, &generation)
}

/// Every one of `items` is local output of `generation`: those no approval covers block. An
/// added line is covered by its exact text, a removed line only by its exact edit.
fn all_of(store: &Store, items: &[Item], generation: &LocalMatch) -> store::Result<Outcome> {
    let approvals = Approvals::of(store, items)?;
    let uncovered: Vec<UncoveredLine> = items
        .iter()
        .filter(|i| !approvals.covers(i, false))
        .map(|i| i.uncovered(generation, false))
        .collect();
    let local_lines = items.len();
    Ok(if uncovered.is_empty() {
        Outcome::Covered { local_lines }
    } else {
        Outcome::Blocked {
            local_lines,
            uncovered,
        }
    })
}

/// The trailer `implement` writes into every commit it makes.
const GENERATION_TRAILER: &str = "Hybrid-Generation:";

/// Evidence that does not depend on the records: every commit from `base` (exclusive) to `tip`
/// whose message names a generation (`Hybrid-Generation: <id>`, as `implement` writes it) that
/// `store` does not know is local output whose record was never fetched, or was taken away. Its
/// added lines that the range still adds and no approval covers are folded into `outcome` as
/// unreviewed, under that generation — so records a forge let someone delete, or a CI job that
/// never fetched them, block instead of passing.
pub fn unrecorded_generations(
    repo: &crate::git::Repo,
    store: &Store,
    (base, tip): (Option<git2::Oid>, git2::Oid),
    change: &Change,
    outcome: &mut Outcome,
) -> Result<(), EvaluateError> {
    let git = &repo.git;
    let mut walk = git.revwalk().map_err(crate::git::Error::from)?;
    walk.push(tip).map_err(crate::git::Error::from)?;
    if let Some(base) = base {
        walk.hide(base).map_err(crate::git::Error::from)?;
    }
    let mut named: Vec<(git2::Oid, String, Option<String>)> = Vec::new();
    for oid in walk {
        let oid = oid.map_err(crate::git::Error::from)?;
        let commit = git.find_commit(oid).map_err(crate::git::Error::from)?;
        let message = String::from_utf8_lossy(commit.message_bytes()).into_owned();
        let trailer = |key: &str| {
            message.lines().rev().find_map(|l| {
                l.strip_prefix(key)
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
            })
        };
        if let Some(id) = trailer(GENERATION_TRAILER)
            && !store.generation_exists(&id)?
        {
            named.push((oid, id, trailer("Hybrid-Model:")));
        }
    }
    if named.is_empty() {
        return Ok(());
    }
    let candidate = items(change);
    let reaching: HashSet<Fingerprint> = candidate
        .iter()
        .flat_map(|i| [Some(i.edit), i.fingerprint].into_iter().flatten())
        .collect();
    for (oid, id, model) in named {
        let commit = git.find_commit(oid).map_err(crate::git::Error::from)?;
        let old = commit
            .parent_ids()
            .next()
            .map(|p| repo.tree_of(p))
            .transpose()?;
        let new = repo.tree_of(oid)?;
        let own = Change::between_trees(git, old.as_ref(), Some(&new))?;
        // Its own lines that the candidate still brings: the same edit, or a line of the
        // same fingerprint.
        let probes: Vec<Item> = items(&own)
            .into_iter()
            .filter(|i| {
                reaching.contains(&i.edit) || i.fingerprint.is_some_and(|f| reaching.contains(&f))
            })
            .collect();
        let generation = LocalMatch {
            generation_id: id,
            model,
            branch: None,
        };
        outcome.absorb(all_of(store, &probes, &generation)?, None);
    }
    Ok(())
}

/// Protected branches and tags (other than the default branch) whose tree, against the tree the
/// default branch shows, holds uncovered local output, with how many lines: refs that got there
/// by a path no hook runs for (`git branch -c`, a tag from a history `merge -s ours` kept).
pub fn protected_refs_with_output(
    repo: &crate::git::Repo,
    store: &Store,
    settings: &crate::config::Settings,
) -> Result<Vec<(String, usize)>, EvaluateError> {
    let mut found = Vec::new();
    if !store.has_local_output()? {
        return Ok(found);
    }
    let default = repo
        .default_branch_tip(settings.default_branch.as_deref())
        .map(|(name, _)| name);
    let baseline = repo.baseline_for_new_ref(settings.default_branch.as_deref());
    let old = baseline.map(|b| repo.tree_of(b)).transpose()?;
    let refs = repo.git.references().map_err(crate::git::Error::from)?;
    for reference in refs.flatten() {
        let Ok(name) = reference.name().map(str::to_string) else {
            continue;
        };
        if !settings.is_protected(&name) || Some(&name) == default.as_ref() {
            continue;
        }
        let Ok(commit) = reference.peel_to_commit() else {
            continue;
        };
        let new = repo.tree_of(commit.id())?;
        let change = Change::between_trees(&repo.git, old.as_ref(), Some(&new))?;
        let evaluation = evaluate_in(repo, store, settings, &change)?;
        let uncovered = evaluation.outcome.uncovered().len();
        if uncovered > 0 {
            found.push((name, uncovered));
        }
    }
    Ok(found)
}

/// Which of the `uncovered` lines found by fingerprint some file of the change's base tree
/// already holds exactly as written (indentation included: in Python it is meaning, and an
/// approval never covers a line re-indented). One `git grep` for their texts over that tree;
/// when git cannot answer, nothing is forgiven (stricter, never looser).
fn shown_in_base(
    repo: &crate::git::Repo,
    change: &Change,
    uncovered: &[UncoveredLine],
) -> HashSet<(String, u32)> {
    use crate::change::exact::{shown, text_hash};
    let mut out = HashSet::new();
    let Some(base) = change.base else {
        return out;
    };
    let wanted: HashSet<(&str, u32)> = uncovered
        .iter()
        .filter(|u| !u.removed && !u.by_edit && u.fingerprint.is_some())
        .map(|u| (u.path.as_str(), u.line))
        .collect();
    let mut patterns = String::new();
    let mut lines: Vec<(String, u32, Fingerprint)> = Vec::new();
    for e in change.edits().iter().filter(|e| !e.removed) {
        let path = String::from_utf8_lossy(e.path).into_owned();
        if !wanted.contains(&(path.as_str(), e.line)) {
            continue;
        }
        let text = shown(e.bytes);
        if text.trim().is_empty() {
            continue;
        }
        patterns.push_str(text.trim());
        patterns.push('\n');
        lines.push((path, e.line, text_hash(&text)));
    }
    if lines.is_empty() {
        return out;
    }
    let Ok(mut file) = tempfile::NamedTempFile::new() else {
        return out;
    };
    if std::io::Write::write_all(&mut file, patterns.as_bytes()).is_err() {
        return out;
    }
    let Ok(found) = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(repo.common_dir())
        .args(["grep", "--no-color", "-h", "-I", "-F", "-f"])
        .arg(file.path())
        .arg(base.to_string())
        .output()
    else {
        return out;
    };
    if !found.status.success() {
        return out;
    }
    // Each output line is a whole line of some file (-h: no `<tree>:<path>:` prefix).
    let held: HashSet<Fingerprint> = found
        .stdout
        .split_inclusive(|&b| b == b'\n')
        .map(|l| text_hash(&shown(l)))
        .collect();
    for (path, line, hash) in lines {
        if held.contains(&hash) {
            out.insert((path, line));
        }
    }
    out
}

/// The lines a change moves rather than deletes (path, old line number): significant removed
/// lines it adds again elsewhere next to the same neighbours (whitespace aside; a neighbour
/// outside the removed run is not asked for), outside a generation's own edits (`uncovered`
/// found by edit), where at least [`evidence::RUN`] lines of one removed run come back so — a
/// block a person moved, edited around the edges or not. A line put back on its own, away from
/// its neighbours, is not moved: its deletion from between them stays judged, as do one or two
/// lines a generation re-orders.
fn moved_lines(change: &Change, uncovered: &[UncoveredLine]) -> HashSet<(String, u32)> {
    let theirs: HashSet<(&str, u32)> = uncovered
        .iter()
        .filter(|u| u.by_edit && !u.removed)
        .map(|u| (u.path.as_str(), u.line))
        .collect();
    let squeezed = |bytes: &[u8]| -> Vec<u8> {
        bytes
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect()
    };
    // Every pair of lines added one after the other, a generation's own edits left out.
    let mut added: HashSet<(Vec<u8>, Vec<u8>)> = HashSet::new();
    for run in change.added_runs() {
        for w in run.lines.windows(2) {
            let mine = |l: &crate::change::AddedLine<'_>| {
                !theirs.contains(&(String::from_utf8_lossy(l.path).as_ref(), l.line))
            };
            if mine(&w[0]) && mine(&w[1]) {
                added.insert((squeezed(w[0].bytes), squeezed(w[1].bytes)));
            }
        }
    }
    let mut out = HashSet::new();
    for run in change.removed_runs() {
        let lines = &run.lines;
        let pair = |a: usize, b: usize| {
            added.contains(&(squeezed(lines[a].bytes), squeezed(lines[b].bytes)))
        };
        let again: Vec<_> = (0..lines.len())
            .filter(|&i| lines.len() > 1 && crate::change::fingerprint(lines[i].bytes).is_some())
            .filter(|&i| (i == 0 || pair(i - 1, i)) && (i + 1 == lines.len() || pair(i, i + 1)))
            .map(|i| {
                (
                    String::from_utf8_lossy(lines[i].path).into_owned(),
                    lines[i].line,
                )
            })
            .collect();
        if again.len() >= evidence::RUN {
            out.extend(again);
        }
    }
    out
}

/// Fingerprints of every line on the old side of the text files a change touches.
fn old_side_fingerprints(
    repo: &crate::git::Repo,
    change: &Change,
) -> Result<HashSet<Fingerprint>, EvaluateError> {
    let mut out = HashSet::new();
    for f in &change.files {
        if f.old.is_none() {
            continue;
        }
        if let Some((old, _)) = crate::change::readable_text(&repo.git, f)? {
            out.extend(
                old.split_inclusive(|&b| b == b'\n')
                    .filter_map(crate::change::fingerprint),
            );
        }
    }
    Ok(out)
}

/// The gitlinks a change sets or moves: (path, pinned commit).
fn pins(change: &Change) -> impl Iterator<Item = (String, git2::Oid)> + '_ {
    change.files.iter().filter_map(|f| {
        let new = f.new.as_ref().filter(|n| n.mode == 0o160000)?;
        let unchanged = f
            .old
            .as_ref()
            .is_some_and(|o| o.id == new.id && o.mode == new.mode);
        (!unchanged).then(|| (f.display_path(), new.id))
    })
}

#[derive(Debug, thiserror::Error)]
pub enum EvaluateError {
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(transparent)]
    Git(#[from] crate::git::Error),
    #[error(transparent)]
    Change(#[from] crate::change::Error),
    #[error(
        "the submodule pin {path} points at commit {commit}{}, which this repository does not hold: the gate cannot see what it would bring",
        if *known { " in this repository" } else { " (no .gitmodules entry says which repository)" }
    )]
    UnresolvablePin {
        path: String,
        commit: String,
        known: bool,
    },
}

impl Outcome {
    /// Drops uncovered lines that `already_there` says are not new; still blocked only when some
    /// remain.
    fn forgive(&mut self, already_there: impl Fn(&UncoveredLine) -> bool) {
        if let Outcome::Blocked {
            local_lines,
            uncovered,
        } = self
        {
            // A forgiven line is judged not to be output at all: it leaves the count, so that
            // what is left is never reported as "approved" when no approval covered it.
            let before = uncovered.len();
            uncovered.retain(|u| !already_there(u));
            let forgiven = before - uncovered.len();
            let remaining = local_lines.saturating_sub(forgiven);
            *self = match (uncovered.is_empty(), remaining) {
                (false, _) => Outcome::Blocked {
                    local_lines: remaining,
                    uncovered: std::mem::take(uncovered),
                },
                (true, 0) => Outcome::Resembles { lines: forgiven },
                (true, n) => Outcome::Covered { local_lines: n },
            };
        }
    }

    /// Folds in the outcome of content the candidate brings in another way (a pinned commit, a
    /// commit whose generation has no record): any uncovered line there blocks the candidate,
    /// reported under `label` when there is one.
    fn absorb(&mut self, other: Outcome, label: Option<&str>) {
        let (other_local, mut other_uncovered) = match other {
            Outcome::NoLocalOutput | Outcome::Resembles { .. } | Outcome::ApprovedChange => return,
            Outcome::Covered { local_lines } => (local_lines, Vec::new()),
            Outcome::Blocked {
                local_lines,
                uncovered,
            } => (local_lines, uncovered),
        };
        if let Some(label) = label {
            for u in &mut other_uncovered {
                u.path = format!("{label}: {}", u.path);
            }
        }
        let (local, mut uncovered) = match std::mem::replace(self, Outcome::NoLocalOutput) {
            Outcome::NoLocalOutput | Outcome::Resembles { .. } | Outcome::ApprovedChange => {
                (0, Vec::new())
            }
            Outcome::Covered { local_lines } => (local_lines, Vec::new()),
            Outcome::Blocked {
                local_lines,
                uncovered,
            } => (local_lines, uncovered),
        };
        uncovered.append(&mut other_uncovered);
        let local_lines = local + other_local;
        *self = if uncovered.is_empty() {
            Outcome::Covered { local_lines }
        } else {
            Outcome::Blocked {
                local_lines,
                uncovered,
            }
        };
    }
}

/// Uncovered lines grouped by generation, then by file, in a stable order.
pub fn group_uncovered(
    uncovered: &[UncoveredLine],
) -> BTreeMap<String, (LocalMatch, BTreeMap<String, Vec<u32>>)> {
    let mut groups: BTreeMap<String, (LocalMatch, BTreeMap<String, Vec<u32>>)> = BTreeMap::new();
    for u in uncovered {
        let entry = groups
            .entry(u.generation.generation_id.clone())
            .or_insert_with(|| (u.generation.clone(), BTreeMap::new()));
        // A removed line is numbered in the old file: its own entry says so.
        let path = if u.removed {
            format!("{} (removed)", u.path)
        } else {
            u.path.clone()
        };
        entry.1.entry(path).or_default().push(u.line);
    }
    groups
}
