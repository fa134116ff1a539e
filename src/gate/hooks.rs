//! What each hook hands the rule as its candidate change (DESIGN §5), and the event it logs.
//!
//! pre-commit and pre-merge-commit: HEAD's tree → the index being committed.
//! reference-transaction (`prepared`): for each protected ref, old tree → new tree; a new ref
//! starts from its merge-base with the default branch. pre-push: the remote's tree (or that
//! merge-base) → the pushed tree. Unprotected refs, quarantine refs, deletions and a detached HEAD
//! are waved through before anything is read.

use git2::Oid;

use super::{Evaluation, Outcome, evaluate, render_block};
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
    #[error("malformed hook input line {line:?}: {why}")]
    Input { line: String, why: &'static str },
}

/// What a hook decided, and what it has to tell the user.
#[derive(Debug, Default)]
pub struct HookOutcome {
    pub allowed: bool,
    /// Lines for stderr, without the `hybrid:` prefix.
    pub messages: Vec<String>,
}

impl HookOutcome {
    fn allow() -> HookOutcome {
        HookOutcome {
            allowed: true,
            messages: Vec::new(),
        }
    }
}

/// One line of reference-transaction or pre-push input, reduced to what the gate needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefUpdate {
    pub refname: String,
    pub old: Option<Oid>,
    pub new: Option<Oid>,
}

/// Parses `<old> <new> <ref>` lines. Symbolic-ref updates (`ref:<target>` values) carry no
/// content and are skipped; a zero id is `None` (creation or deletion).
pub fn parse_ref_updates(input: &str) -> Result<Vec<RefUpdate>, Error> {
    let mut out = Vec::new();
    for line in input.lines().filter(|l| !l.trim().is_empty()) {
        let mut parts = line.splitn(3, ' ');
        let (Some(old), Some(new), Some(refname)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::Input {
                line: line.into(),
                why: "expected '<old> <new> <ref>'",
            });
        };
        if old.starts_with("ref:") || new.starts_with("ref:") {
            continue;
        }
        out.push(RefUpdate {
            refname: refname.to_string(),
            old: parse_oid(old, line)?,
            new: parse_oid(new, line)?,
        });
    }
    Ok(out)
}

fn parse_oid(hex: &str, line: &str) -> Result<Option<Oid>, Error> {
    let oid = Oid::from_str(hex).map_err(|_| Error::Input {
        line: line.into(),
        why: "not an object id",
    })?;
    Ok((!oid.is_zero()).then_some(oid))
}

/// Opens the store and applies the rule to the change `compute` builds — but only computes it
/// when some local output was ever recorded, because most commits in most repositories are
/// human and must cost next to nothing.
fn judge(
    store: &mut Store,
    compute: impl FnOnce() -> Result<Change, Error>,
) -> Result<Option<Evaluation>, Error> {
    if !store.has_local_output()? {
        return Ok(None);
    }
    let change = compute()?;
    Ok(Some(evaluate(store, &change)?))
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
    Ok(Store::open(&Store::path_for(repo.common_dir()))?)
}

/// pre-commit and pre-merge-commit: HEAD's tree → the index being committed.
pub fn pre_commit(repo: &Repo, settings: &Settings, hook: &str) -> Result<HookOutcome, Error> {
    let Some(head_ref) = repo.head_ref() else {
        // Detached HEAD: no ref moves here; reference-transaction guards any later ref update.
        return Ok(HookOutcome::allow());
    };
    if !settings.is_protected(&head_ref) {
        return Ok(HookOutcome::allow());
    }
    let started = std::time::Instant::now();
    let mut store = open_store(repo)?;
    let evaluation = judge(&mut store, || {
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
        },
        _ => HookOutcome::allow(),
    }
}

/// Evaluates updates of protected refs; shared by reference-transaction and pre-push (where the
/// ref is the remote's).
fn ref_updates(
    repo: &Repo,
    settings: &Settings,
    hook: &str,
    updates: &[RefUpdate],
) -> Result<HookOutcome, Error> {
    let relevant: Vec<&RefUpdate> = updates
        .iter()
        // A deletion brings nothing in, and an update to the same id (packing refs) moves nothing.
        .filter(|u| u.new.is_some() && u.old != u.new && settings.is_protected(&u.refname))
        .collect();
    if relevant.is_empty() {
        return Ok(HookOutcome::allow());
    }
    let mut store = open_store(repo)?;
    let mut result = HookOutcome::allow();
    for update in relevant {
        let Some(new) = update.new else { continue };
        let old = update
            .old
            .filter(|o| repo.git.find_object(*o, None).is_ok())
            .or_else(|| repo.base_for_new_ref(new, settings.default_branch.as_deref()));
        let old_tree = old.map(|o| repo.tree_of(o)).transpose()?;
        let new_tree = repo.tree_of(new)?;
        if let Some(problem) = policy_problem(repo, old_tree.as_ref(), &new_tree)? {
            let detail = format!("invalid {POLICY_FILE}: {problem}");
            let decision = Decision {
                allowed: false,
                uncovered: 0,
                detail,
                change_id: None,
            };
            log(
                &mut store,
                hook,
                &update.refname,
                (old, Some(new)),
                decision,
            )?;
            result.allowed = false;
            result.messages.push(format!(
                "blocked: {} would receive a {POLICY_FILE} the gate cannot use: {problem}",
                update.refname
            ));
            result.messages.push(format!(
                "  fix {POLICY_FILE} and commit again; nothing was changed"
            ));
            continue;
        }
        let evaluation = judge(&mut store, || {
            Ok(Change::between_trees(
                &repo.git,
                old_tree.as_ref(),
                Some(&new_tree),
            )?)
        })?;
        log(
            &mut store,
            hook,
            &update.refname,
            (old, Some(new)),
            evaluation.as_ref().into(),
        )?;
        let fix = match old {
            Some(o) => format!("git hybrid review {}..{}", short(o), short(new)),
            None => format!("git hybrid review {}", short(new)),
        };
        let one = outcome(&update.refname, evaluation, fix);
        result.allowed &= one.allowed;
        result.messages.extend(one.messages);
    }
    Ok(result)
}

/// reference-transaction: only the `prepared` state can still stop an update.
pub fn reference_transaction(
    repo: &Repo,
    settings: &Settings,
    state: &str,
    input: &str,
) -> Result<HookOutcome, Error> {
    if state != "prepared" {
        return Ok(HookOutcome::allow());
    }
    let updates = parse_ref_updates(input)?;
    ref_updates(repo, settings, "reference-transaction", &updates)
}

/// pre-push: `<local ref> <local id> <remote ref> <remote id>` lines; the remote ref's name decides
/// whether it is protected.
pub fn pre_push(repo: &Repo, settings: &Settings, input: &str) -> Result<HookOutcome, Error> {
    let mut updates = Vec::new();
    for line in input.lines().filter(|l| !l.trim().is_empty()) {
        let parts: Vec<&str> = line.split(' ').collect();
        let [_, local, remote_ref, remote] = parts[..] else {
            return Err(Error::Input {
                line: line.into(),
                why: "expected '<local ref> <local id> <remote ref> <remote id>'",
            });
        };
        updates.push(RefUpdate {
            refname: remote_ref.to_string(),
            old: parse_oid(remote, line)?,
            new: parse_oid(local, line)?,
        });
    }
    ref_updates(repo, settings, "pre-push", &updates)
}

/// When an update changes the committed policy file, what is wrong with the new one, if anything.
fn policy_problem(
    repo: &Repo,
    old: Option<&git2::Tree<'_>>,
    new: &git2::Tree<'_>,
) -> Result<Option<String>, Error> {
    let path = std::path::Path::new(POLICY_FILE);
    let Ok(entry) = new.get_path(path) else {
        return Ok(None);
    };
    if old.and_then(|t| t.get_path(path).ok()).map(|e| e.id()) == Some(entry.id()) {
        return Ok(None);
    }
    let blob = repo.git.find_blob(entry.id()).map_err(git::Error::from)?;
    let Ok(text) = std::str::from_utf8(blob.content()) else {
        return Ok(Some("it is not UTF-8 text".into()));
    };
    Ok(Settings::validate_policy(text, POLICY_FILE)
        .err()
        .map(|e| e.to_string()))
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
            vec![RefUpdate {
                refname: "refs/heads/main".into(),
                old: None,
                new: Some(Oid::from_str(&a).unwrap()),
            }]
        );
        assert!(parse_ref_updates("garbage").is_err());
        assert!(parse_ref_updates("xyz abc refs/heads/main").is_err());
    }
}
