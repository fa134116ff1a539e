//! What each hook hands the rule as its candidate change (ARCHITECTURE §5), and the event it logs.
//!
//! pre-commit and pre-merge-commit: HEAD's tree → the index being committed.
//! reference-transaction (`prepared`): for each protected ref, old tree → new tree; a new ref
//! starts from the tree the default branch shows (not from history it shares with it). pre-push:
//! the remote's tree (or, for a ref new to the remote, its default branch's tree as last
//! fetched, else the empty tree) → the pushed tree. Unprotected refs, quarantine refs, deletions and a detached HEAD
//! are waved through before anything is read.
//!
//! Paths git takes around the transaction are candidates too: a protected name that would become
//! a symbolic ref must point at a protected ref; a replace ref (`refs/replace/<id>`) swaps the
//! content every protected ref that reaches `<id>` shows, so the swap is checked as a change; and
//! a branch rename writes its new name outside any transaction, so the deletion of the old name
//! (which git does run the hook for) is where the rename is read from git's command line and
//! checked as an update of the new name — or blocked when it cannot be read.

use git2::Oid;

use super::policy::policy_problem;
use super::updates::{InputError, RefUpdate, parse_push_updates, parse_ref_updates};
use super::{Evaluation, Outcome, evaluate_in, render_block};
use crate::change::{self, Change};
use crate::config::{POLICY_FILE, Settings};
use crate::git::{self, Repo};
use crate::store::{self, Event, Store};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Git(#[from] git::Error),
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(transparent)]
    Change(#[from] change::Error),
    #[error(transparent)]
    Evaluate(#[from] super::EvaluateError),
    #[error(transparent)]
    Input(#[from] InputError),
}

/// What a hook decided, and what it has to tell the user.
#[derive(Debug, Default)]
pub struct HookOutcome {
    pub allowed: bool,
    /// Lines for stderr, without the `hybrid:` prefix.
    pub messages: Vec<String>,
    /// Some refusal is unreviewed local output (rather than a broken policy, a symbolic ref, a
    /// ref name): what lets a refusal be worded for its real cause.
    pub unreviewed: bool,
}

impl HookOutcome {
    fn allow() -> HookOutcome {
        HookOutcome {
            allowed: true,
            ..HookOutcome::default()
        }
    }
}

/// Opens the store and applies the rule to the change `compute` builds — but only computes it
/// when some local output was ever recorded, because most commits in most repositories are
/// human and must cost next to nothing.
fn judge(
    repo: &Repo,
    settings: &Settings,
    store: &mut Store,
    compute: impl FnOnce() -> Result<Change, Error>,
) -> Result<Option<Evaluation>, Error> {
    if !store.has_local_output()? {
        return Ok(None);
    }
    let change = compute()?;
    Ok(Some(evaluate_in(repo, store, settings, &change)?))
}

/// What the event log keeps of one decision.
struct Decision {
    allowed: bool,
    uncovered: usize,
    detail: String,
    change_id: Option<String>,
}

impl From<Option<&Evaluation>> for Decision {
    fn from(evaluation: Option<&Evaluation>) -> Decision {
        match evaluation {
            None => Decision {
                allowed: true,
                uncovered: 0,
                detail: "no local output recorded".into(),
                change_id: None,
            },
            Some(e) => Decision {
                allowed: e.outcome.allowed(),
                uncovered: e.outcome.uncovered().len(),
                detail: e.outcome.describe(),
                change_id: Some(e.change_id.to_string()),
            },
        }
    }
}

fn log(
    store: &mut Store,
    hook: &str,
    refname: &str,
    (old, new): (Option<Oid>, Option<Oid>),
    decision: Decision,
) -> Result<(), Error> {
    let Decision {
        allowed,
        uncovered,
        detail,
        change_id,
    } = decision;
    store.record_event(&Event {
        hook,
        refname: Some(refname.as_bytes()),
        old: old.map(|o| o.to_string()),
        new: new.map(|o| o.to_string()),
        change_id,
        allowed,
        uncovered,
        detail: &detail,
    })?;
    Ok(())
}

fn open_store(repo: &Repo) -> Result<Store, Error> {
    Ok(Store::open_for(repo)?)
}

/// pre-commit and pre-merge-commit: HEAD's tree → the index being committed. `store` is the
/// repository's store when the caller opened it already.
pub fn pre_commit(
    repo: &Repo,
    settings: &Settings,
    hook: &str,
    store: Option<Store>,
) -> Result<HookOutcome, Error> {
    let Some(head_ref) = repo.head_ref() else {
        // Detached HEAD: no ref moves here; reference-transaction guards any later ref update.
        return Ok(HookOutcome::allow());
    };
    if !settings.is_protected(&head_ref) {
        return Ok(HookOutcome::allow());
    }
    let started = std::time::Instant::now();
    let mut store = match store {
        Some(store) => store,
        None => open_store(repo)?,
    };
    let evaluation = judge(repo, settings, &mut store, || {
        let head = repo.head_tree()?;
        let staged = repo.staged_tree();
        let shortcut = staged.is_some();
        let change = match staged {
            // git already wrote the tree it will commit: two trees diff without reading the index.
            Some(staged) => Change::between_trees(&repo.git, head.as_ref(), Some(&staged))?,
            None => Change::tree_to_index(&repo.git, head.as_ref(), &repo.staged_index()?)?,
        };
        tracing::debug!(elapsed = ?started.elapsed(), files = change.files.len(), shortcut, "candidate computed");
        Ok(change)
    })?;
    log(
        &mut store,
        hook,
        &head_ref,
        (None, None),
        evaluation.as_ref().into(),
    )?;
    tracing::debug!(elapsed = ?started.elapsed(), "pre-commit decided");
    Ok(outcome(
        &head_ref,
        evaluation,
        "git hybrid review --staged".into(),
    ))
}

fn outcome(refname: &str, evaluation: Option<Evaluation>, fallback_fix: String) -> HookOutcome {
    match evaluation {
        Some(
            e @ Evaluation {
                outcome: Outcome::Blocked { .. },
                ..
            },
        ) => HookOutcome {
            allowed: false,
            messages: render_block(refname, &e, &fallback_fix),
            unreviewed: true,
        },
        _ => HookOutcome::allow(),
    }
}

/// The namespace replace refs live in (`GIT_REPLACE_REF_BASE`, as git reads it).
fn replace_base() -> String {
    std::env::var("GIT_REPLACE_REF_BASE")
        .ok()
        .filter(|b| !b.is_empty())
        .map(|b| if b.ends_with('/') { b } else { format!("{b}/") })
        .unwrap_or_else(|| "refs/replace/".to_string())
}

/// Whether the rule has anything to judge in `u` (a hook's update of a protected ref, a symbolic
/// ref made of a protected name, a replace ref): what lets a hook skip everything else, and a
/// server skip reading its records for a push that moves nothing protected.
pub fn judges(settings: &Settings, u: &RefUpdate) -> bool {
    // An update to the same id (packing refs) moves nothing.
    !u.is_deletion()
        && (u.new_target.is_some()
            || u.refname.starts_with(&replace_base())
            || settings.is_case_alias(&u.refname)
            || (settings.is_protected(&u.refname) && u.old != u.new))
}

/// One update the rule has to judge: the ref it is reported under, and the two sides.
struct Candidate {
    refname: String,
    old: Option<Oid>,
    new: Oid,
    /// How to build the change when it is not "old commit's tree → new commit's tree".
    replace: bool,
}

/// Evaluates updates of protected refs; shared by reference-transaction and pre-push (where the
/// ref is the remote's).
///
/// `store` is what to judge by; `None` opens this repository's own store when a candidate needs
/// it.
fn ref_updates(
    repo: &Repo,
    settings: &Settings,
    hook: &str,
    updates: &[RefUpdate],
    store: Option<Store>,
    baseline: Baseline<'_>,
    arrivals: Vec<super::PinArrival>,
) -> Result<HookOutcome, Error> {
    let replace_base = replace_base();
    let mut result = HookOutcome::allow();
    let mut candidates = Vec::new();
    for u in updates {
        if !judges(settings, u) {
            continue;
        }
        if settings.is_case_alias(&u.refname) {
            result.allowed = false;
            result.messages.push(format!(
                "blocked: {} is another spelling of a protected ref where case is ignored (core.ignorecase, or a server)",
                u.refname
            ));
            result.messages.push(
                "  use the ref's own spelling (refs/heads/…, refs/tags/…, as the policy names it)"
                    .to_string(),
            );
            continue;
        }
        if let Some(target) = &u.new_target {
            // A protected name must never read as something the rule has not passed.
            if settings.is_protected(&u.refname) && !settings.is_protected(target) {
                result.allowed = false;
                result.messages.push(format!(
                    "blocked: {} would become a symbolic ref to {target}, which the gate does not guard",
                    u.refname
                ));
                result.messages.push(format!(
                    "  point it at a protected ref, or bring the work in with `git merge {}` so it is checked",
                    target.trim_start_matches("refs/heads/")
                ));
            }
            continue;
        }
        let Some(new) = u.new else { continue };
        if let Some(replaced) = u.refname.strip_prefix(&replace_base) {
            let old = Oid::from_str(replaced).map_err(|_| {
                Error::Input(InputError {
                    line: u.refname.clone(),
                    why: "a replace ref must be named by the object it replaces",
                })
            })?;
            if old != new {
                candidates.push(Candidate {
                    refname: u.refname.clone(),
                    old: Some(old),
                    new,
                    replace: true,
                });
            }
            continue;
        }
        // A symbolic ref made a plain one: its content was whatever its target held.
        let old = u.old.or_else(|| {
            u.old_target
                .as_deref()
                .and_then(|t| repo.git.refname_to_id(t).ok())
        });
        candidates.push(Candidate {
            refname: u.refname.clone(),
            old,
            new,
            replace: false,
        });
    }
    if hook == "reference-transaction"
        && updates.iter().any(RefUpdate::is_deletion)
        && let Some(moved) = branch_move(
            repo,
            settings,
            updates,
            crate::sys::parent_command_line().as_deref(),
            &mut result,
        )
    {
        candidates.push(moved);
    }
    if candidates.is_empty() && arrivals.is_empty() {
        return Ok(result);
    }
    let mut store = match store {
        Some(store) => store,
        None => open_store(repo)?,
    };
    for candidate in candidates {
        let one = check_candidate(repo, settings, &mut store, hook, candidate, baseline)?;
        result.allowed &= one.allowed;
        result.unreviewed |= one.unreviewed;
        result.messages.extend(one.messages);
    }
    for arrival in arrivals {
        let evaluation = super::judge_arrival(repo, &store, settings, &arrival)?;
        let old = updates
            .iter()
            .find(|u| u.refname == arrival.refname)
            .and_then(|u| u.old);
        let new = Some(arrival.commit);
        log(
            &mut store,
            hook,
            &arrival.refname,
            (old, new),
            Some(&evaluation).into(),
        )?;
        if evaluation.outcome.allowed() {
            continue;
        }
        result.allowed = false;
        result.unreviewed = true;
        result.messages.push(format!(
            "blocked: {} brings commit {}, which {} already pins as its submodule {}: whoever checks that out would get what follows",
            arrival.refname,
            short(arrival.commit),
            arrival.protected,
            arrival.path
        ));
        let target = format!("{} (submodule {})", arrival.protected, arrival.path);
        let fix = format!("git hybrid review {}", short(arrival.commit));
        result
            .messages
            .extend(render_block(&target, &evaluation, &fix));
    }
    Ok(result)
}

/// A `git branch -m/-M` writes the new name without a transaction, after deleting the old name
/// in one: at that deletion, the rename is read from git's command line and becomes a candidate
/// update of the new name. A rename that cannot be read blocks (fail closed).
///
/// `command` is git's command line (`sys::parent_command_line`), `None` when it cannot be read.
fn branch_move(
    repo: &Repo,
    settings: &Settings,
    updates: &[RefUpdate],
    command: Option<&[String]>,
    result: &mut HookOutcome,
) -> Option<Candidate> {
    let deleted: Vec<&RefUpdate> = updates
        .iter()
        .filter(|u| u.is_deletion() && u.refname.starts_with("refs/heads/"))
        .collect();
    if deleted.is_empty() {
        return None;
    }
    let moved = command.and_then(git::branch_move);
    let Some(moved) = moved else {
        if repo.rename_in_progress() {
            result.allowed = false;
            result.messages.push(format!(
                "blocked: {} is being renamed, and the gate cannot tell to what",
                deleted[0].refname
            ));
            result.messages.push(
                "  run `git branch -f <new> <old>` then `git branch -D <old>` instead: both are checked"
                    .to_string(),
            );
        }
        return None;
    };
    let dest = format!("refs/heads/{}", moved.dest);
    let source = match &moved.source {
        Some(name) => format!("refs/heads/{name}"),
        None => repo.head_ref()?,
    };
    // The deletion of the destination (`-M` over an existing branch) comes after the source's,
    // which was checked already.
    let source_update = deleted.iter().find(|u| u.refname == source)?;
    if !settings.is_protected(&dest) {
        return None;
    }
    let new = source_update
        .old
        .or_else(|| repo.git.refname_to_id(&source).ok())
        .or_else(|| {
            result.allowed = false;
            result.messages.push(format!(
                "blocked: cannot read what {source} holds, so its rename to {dest} cannot be checked"
            ));
            None
        })?;
    Some(Candidate {
        old: repo.git.refname_to_id(&dest).ok(),
        refname: dest,
        new,
        replace: false,
    })
}

/// What a ref the destination does not hold yet (or whose old value this repository lacks) is
/// judged against.
#[derive(Clone, Copy, Debug)]
enum Baseline<'a> {
    /// This repository's default branch as it stands (hooks here, and a server's own).
    DefaultBranch,
    /// A remote's default branch as last fetched; the empty tree when unknown (pre-push).
    Remote(Option<&'a str>),
}

impl Baseline<'_> {
    fn resolve(self, repo: &Repo, settings: &Settings) -> Option<Oid> {
        let configured = settings.default_branch.as_deref();
        match self {
            Baseline::DefaultBranch => repo.baseline_for_new_ref(configured),
            Baseline::Remote(remote) => {
                remote.and_then(|remote| repo.remote_baseline(remote, configured))
            }
        }
    }
}

/// The rule for one candidate update, with its event logged.
fn check_candidate(
    repo: &Repo,
    settings: &Settings,
    store: &mut Store,
    hook: &str,
    candidate: Candidate,
    baseline: Baseline<'_>,
) -> Result<HookOutcome, Error> {
    let Candidate {
        refname,
        old,
        new,
        replace,
    } = candidate;
    // Every decision is logged, then told.
    let finish = |store: &mut Store,
                  old: Option<Oid>,
                  evaluation: Option<Evaluation>,
                  fix: String|
     -> Result<HookOutcome, Error> {
        let decision = evaluation.as_ref().into();
        log(store, hook, &refname, (old, Some(new)), decision)?;
        Ok(outcome(&refname, evaluation, fix))
    };
    if replace {
        let evaluation = judge(repo, settings, store, || replaced_change(repo, old, new))?;
        let fix = format!("git replace -d {}", short_opt(old));
        return finish(store, old, evaluation, fix);
    }
    // A new protected ref brings its whole tree, judged against what the destination's default
    // branch already shows — never against history it shares with it.
    let old = old
        .filter(|o| repo.git.find_object(*o, None).is_ok())
        .or_else(|| baseline.resolve(repo, settings));
    let old_tree = old.map(|o| repo.tree_of(o)).transpose()?;
    let new_tree = repo.tree_of(new)?;
    if let Some(problem) = policy_problem(
        repo,
        settings.default_branch.as_deref(),
        old_tree.as_ref(),
        &new_tree,
    )? {
        let detail = format!("invalid {POLICY_FILE}: {problem}");
        let decision = Decision {
            allowed: false,
            uncovered: 0,
            detail,
            change_id: None,
        };
        log(store, hook, &refname, (old, Some(new)), decision)?;
        return Ok(HookOutcome {
            allowed: false,
            messages: vec![
                format!(
                    "blocked: {refname} would receive a {POLICY_FILE} the gate cannot use: {problem}"
                ),
                format!("  fix {POLICY_FILE} and commit again; nothing was changed"),
            ],
            unreviewed: false,
        });
    }
    let evaluation = judge(repo, settings, store, || {
        Ok(Change::between_trees(
            &repo.git,
            old_tree.as_ref(),
            Some(&new_tree),
        )?)
    })?;
    let fix = match old {
        Some(o) => format!("git hybrid review {}..{}", short(o), short(new)),
        None => format!("git hybrid review {}", short(new)),
    };
    let mut told = finish(store, old, evaluation, fix)?;
    if !told.allowed && repo.head_ref().as_deref() == Some(refname.as_str()) {
        told.messages
            .extend(restore_advice(repo, &refname, old_tree.as_ref(), &new_tree));
    }
    Ok(told)
}

/// git writes a fast-forward, `reset --hard` or `pull` into the working tree and index before it
/// moves the branch, so a blocked one leaves the unreviewed files there: the exact command that
/// puts back just those files as the branch has them (the user's other changes stay as they are).
fn restore_advice(
    repo: &Repo,
    refname: &str,
    old: Option<&git2::Tree<'_>>,
    new: &git2::Tree<'_>,
) -> Vec<String> {
    const WRITES_WORKTREE: &[&str] = &[
        "merge",
        "reset",
        "pull",
        "rebase",
        "cherry-pick",
        "revert",
        "am",
        "checkout",
        "switch",
        "restore",
        "stash",
    ];
    let command = crate::sys::parent_command_line().unwrap_or_default();
    let writes = git::subcommand(&command).is_some_and(|(sub, _)| WRITES_WORKTREE.contains(&sub));
    let Ok(change) = Change::between_trees(&repo.git, old, Some(new)) else {
        return Vec::new();
    };
    if !writes || change.is_empty() {
        return Vec::new();
    }
    let paths: Vec<String> = change
        .files
        .iter()
        .flat_map(|f| [f.old.as_ref(), f.new.as_ref()])
        .flatten()
        .map(|side| shell_quote(&String::from_utf8_lossy(&side.path)))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let branch = refname.trim_start_matches("refs/heads/");
    vec![
        format!(
            "  git has already written this update's {} file{} into your working tree and index; {branch} itself did not move",
            paths.len(),
            crate::ui::plural(paths.len())
        ),
        format!(
            "  to put them back as {branch} has them (your other changes stay): git restore --source=HEAD --staged --worktree -- {}",
            paths.join(" ")
        ),
    ]
}

/// A path as one shell word.
fn shell_quote(path: &str) -> String {
    if !path.is_empty()
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+,@%=:".contains(c))
    {
        path.to_string()
    } else {
        format!("'{}'", path.replace('\'', "'\\''"))
    }
}

/// What a replace ref changes: the replaced object's content → the replacement's (trees for
/// commits and trees, the blobs themselves for blobs). Anything else cannot be checked.
fn replaced_change(repo: &Repo, old: Option<Oid>, new: Oid) -> Result<Change, Error> {
    let kind = |oid: Oid| repo.git.find_object(oid, None).ok().and_then(|o| o.kind());
    let old = old.ok_or(Error::Input(InputError {
        line: new.to_string(),
        why: "a replace ref without the object it replaces",
    }))?;
    match (kind(old), kind(new)) {
        (Some(git2::ObjectType::Blob), Some(git2::ObjectType::Blob)) => {
            Ok(Change::between_blobs(&repo.git, old, new)?)
        }
        _ => {
            let (old_tree, new_tree) = (repo.tree_of(old)?, repo.tree_of(new)?);
            Ok(Change::between_trees(
                &repo.git,
                Some(&old_tree),
                Some(&new_tree),
            )?)
        }
    }
}

fn short_opt(oid: Option<Oid>) -> String {
    oid.map(short).unwrap_or_default()
}

/// reference-transaction: only the `prepared` state can still stop an update.
pub fn reference_transaction(
    repo: &Repo,
    settings: &Settings,
    state: &str,
    input: &str,
    store: Option<Store>,
) -> Result<HookOutcome, Error> {
    if state != "prepared" {
        return Ok(HookOutcome::allow());
    }
    let updates = parse_ref_updates(input)?;
    ref_updates(
        repo,
        settings,
        "reference-transaction",
        &updates,
        store,
        Baseline::DefaultBranch,
        Vec::new(),
    )
}

/// pre-receive, on a server: every pushed update of a protected ref, judged by `store` (the
/// records the server holds plus those the push brings), with the policy `settings` read from
/// the default branch as it is before the push; and what a server also answers for, `arrivals`:
/// commits the push brings that a protected branch's standing submodule pins resolve to
/// (`gate::pin_arrivals`, computed by the caller, which decides by it whether to read its
/// records at all).
pub fn pre_receive(
    repo: &Repo,
    settings: &Settings,
    store: Store,
    updates: &[RefUpdate],
    arrivals: Vec<super::PinArrival>,
) -> Result<HookOutcome, Error> {
    ref_updates(
        repo,
        settings,
        "pre-receive",
        updates,
        Some(store),
        Baseline::DefaultBranch,
        arrivals,
    )
}

/// pre-push: `<local ref> <local id> <remote ref> <remote id>` lines; the remote ref's name decides
/// whether it is protected. `remote` is the remote's name as git gave it (a URL when the push
/// named one): a ref new to it is judged against its default branch as last fetched.
pub fn pre_push(
    repo: &Repo,
    settings: &Settings,
    remote: Option<&str>,
    input: &str,
    store: Option<Store>,
) -> Result<HookOutcome, Error> {
    let updates = parse_push_updates(input)?;
    ref_updates(
        repo,
        settings,
        "pre-push",
        &updates,
        store,
        Baseline::Remote(remote),
        Vec::new(),
    )
}

fn short(oid: Oid) -> String {
    oid.to_string()[..10].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_transaction_lines() {
        let zero = "0".repeat(40);
        let a = "a".repeat(40);
        let input =
            format!("{zero} {a} refs/heads/main\nref:refs/heads/x ref:refs/heads/y HEAD\n\n");
        let updates = parse_ref_updates(&input).unwrap();
        assert_eq!(
            updates,
            vec![
                RefUpdate {
                    refname: "refs/heads/main".into(),
                    new: Some(Oid::from_str(&a).unwrap()),
                    ..RefUpdate::default()
                },
                RefUpdate {
                    refname: "HEAD".into(),
                    old_target: Some("refs/heads/x".into()),
                    new_target: Some("refs/heads/y".into()),
                    ..RefUpdate::default()
                }
            ]
        );
        assert!(parse_ref_updates("garbage").is_err());
    }

    /// A rename git is in the middle of, whose command line says nothing readable (another
    /// program driving git, an unreadable /proc), blocks; an ordinary deletion does not.
    #[test]
    fn an_unreadable_rename_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let git = git2::Repository::init(dir.path()).unwrap();
        let tree = git.treebuilder(None).unwrap().write().unwrap();
        let tree = git.find_tree(tree).unwrap();
        let sig = git2::Signature::now("t", "t@example.com").unwrap();
        let commit = git.commit(None, &sig, &sig, "c", &tree, &[]).unwrap();
        git.reference("refs/heads/hybrid/x", commit, true, "t")
            .unwrap();
        let repo = Repo::at(dir.path()).unwrap();
        let settings = Settings::load(&repo).unwrap();
        let deletion = vec![RefUpdate {
            refname: "refs/heads/hybrid/x".into(),
            old: Some(commit),
            ..RefUpdate::default()
        }];
        let unreadable = ["some-tool".to_string(), "rename".to_string()];
        let mut result = HookOutcome::allow();
        assert!(branch_move(&repo, &settings, &deletion, Some(&unreadable), &mut result).is_none());
        assert!(result.allowed, "a plain deletion passes");
        std::fs::create_dir_all(dir.path().join(".git/logs/refs")).unwrap();
        std::fs::write(dir.path().join(".git/logs/refs/.tmp-renamed-log"), "").unwrap();
        for command in [None, Some(&unreadable[..])] {
            let mut result = HookOutcome::allow();
            assert!(branch_move(&repo, &settings, &deletion, command, &mut result).is_none());
            assert!(!result.allowed);
            assert!(
                result.messages[0].contains("cannot tell to what"),
                "{:?}",
                result.messages
            );
        }
        assert!(parse_ref_updates("xyz abc refs/heads/main").is_err());
    }
}
