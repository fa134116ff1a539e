//! The server side: what a repository that receives pushes checks before it accepts one
//! (`pre-receive`, installed by `git hybrid install --server`).
//!
//! A client can skip its own hooks (`--no-verify`, a clone without the gate, a hand-written
//! ref); a server's check cannot be skipped. Every pushed update of a protected ref is judged by
//! the gate's rule against the records the server holds plus those the same push brings, with
//! the policy (and its allowed signers) read from the default branch as it is before the push,
//! so a push cannot weaken the rule it is judged by. Pushed objects are still in git's
//! quarantine directory while this runs; they are read from there and nothing is written to the
//! repository (the server's view of its records is a SQLite file beside it). Any error refuses
//! the push.

pub mod setup;

use crate::config::Settings;
use crate::gate::{self, HookOutcome, RefUpdate};
use crate::git::Repo;
use crate::records::{self, RECORDS_REF};
use crate::trust::AllowedSigners;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Hook(#[from] gate::HookError),
    #[error(transparent)]
    Records(#[from] records::Error),
    #[error(transparent)]
    Trust(#[from] crate::trust::Error),
    #[error(transparent)]
    Root(#[from] crate::trust::RootError),
    #[error("{path} belongs to {owner}: the server's gate is set up by the user its hooks run as")]
    NotOwner {
        path: std::path::PathBuf,
        owner: String,
    },
    #[error("cannot set up {path}: {source}")]
    Setup {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the pushed objects cannot be read from git's quarantine directory {path}: {source}")]
    Quarantine {
        path: String,
        #[source]
        source: git2::Error,
    },
}

/// Makes the objects of the push being received readable: git keeps them in a quarantine
/// directory until the push is accepted (`GIT_QUARANTINE_PATH`), and says so to its hooks through
/// `GIT_OBJECT_DIRECTORY`/`GIT_ALTERNATE_OBJECT_DIRECTORIES`, which libgit2 may or may not have
/// applied; adding the directory again is harmless.
pub fn see_quarantine(repo: &Repo) -> Result<(), Error> {
    let Some(path) = std::env::var_os("GIT_QUARANTINE_PATH").filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let quarantine = |source| Error::Quarantine {
        path: std::path::Path::new(&path).display().to_string(),
        source,
    };
    let odb = repo.git.odb().map_err(quarantine)?;
    odb.add_disk_alternate(&std::path::Path::new(&path).to_string_lossy())
        .map_err(quarantine)?;
    Ok(())
}

/// The check of one push: `input` is git's `<old> <new> <ref>` lines.
pub fn pre_receive(repo: &Repo, settings: &Settings, input: &str) -> Result<HookOutcome, Error> {
    see_quarantine(repo)?;
    let updates = gate::parse_ref_updates(input).map_err(gate::HookError::from)?;
    // The records first: a push may add records, never take any away or bring malformed ones.
    let mut pushed_records = None;
    let max_new = repo
        .git
        .config()
        .and_then(|c| c.get_i64("hybrid.receiveMaxRecords"))
        .ok()
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(records::MAX_NEW_RECORDS);
    for u in updates.iter().filter(|u| u.refname == RECORDS_REF) {
        if let Err(why) = records::check_update(repo, u.old, u.new, max_new) {
            return Ok(refuse(vec![
                format!("blocked: {RECORDS_REF} was refused: {why}"),
                format!(
                    "  records are written once and merged, never edited: `git hybrid sync` in your clone, then push {RECORDS_REF} again"
                ),
            ]));
        }
        pushed_records = u.new;
    }
    // The policy (and its allowed signers) is read from the default branch: deleting it would
    // leave the next push judged by the defaults, so it is refused here.
    if let Some((default, _)) = repo.default_branch_tip(settings.default_branch.as_deref())
        && updates
            .iter()
            .any(|u| u.refname == default && u.is_deletion())
    {
        return Ok(refuse(vec![
            format!(
                "blocked: {default} holds this repository's policy ({}), so this server does not delete it",
                crate::config::POLICY_FILE
            ),
            "  move the default branch first (on the server: git symbolic-ref HEAD refs/heads/<new>)".to_string(),
        ]));
    }
    let judged: Vec<RefUpdate> = updates
        .into_iter()
        .filter(|u| !u.refname.starts_with("refs/hybrid/"))
        .collect();
    // A push that moves nothing protected (the records a client sends before its push proper, a
    // quarantine branch) needs no look at the records at all.
    let arrivals = gate::pin_arrivals(repo, settings, &judged);
    if !judged.iter().any(|u| gate::judges(settings, u)) && arrivals.is_empty() {
        return Ok(HookOutcome {
            allowed: true,
            ..HookOutcome::default()
        });
    }
    let signers = AllowedSigners::for_server(repo, settings)?;
    if let Some(signers) = &signers
        && let Some(refused) = trust_root_refusal(repo, settings, signers, &judged)?
    {
        return Ok(refused);
    }
    let view = records::view_for_push(repo, pushed_records, signers.as_ref())?;
    let mut outcome = gate::pre_receive(repo, settings, view.store, &judged, arrivals)?;
    if !outcome.allowed && !outcome.unreviewed {
        // A broken policy, a ref name or a symbolic ref: said as what it is.
        outcome
            .messages
            .insert(0, "this server's gate refused the push:".to_string());
    } else if !outcome.allowed {
        outcome.messages.insert(
            0,
            "this server's gate refused the push: local-model output without an approved Claude review"
                .to_string(),
        );
        outcome.messages.push(
            "  review it in your clone (the command above), then push again: the approval travels with the push (refs/hybrid/records)"
                .to_string(),
        );
        if let Some(signers) = &signers {
            outcome
                .messages
                .push(format!("  {}", crate::trust::requirement(&signers.origin)));
        }
    }
    Ok(outcome)
}

/// Once signers are named, the trust root (the policy's `[gate]` and `[trust]`, the signers
/// file) changes on the default branch — where the policy is read from — only by commits a
/// current signer signed: the refusal when a push brings one that no such signer signed.
fn trust_root_refusal(
    repo: &Repo,
    settings: &Settings,
    signers: &AllowedSigners,
    updates: &[RefUpdate],
) -> Result<Option<HookOutcome>, Error> {
    let Some((default, _)) = repo.default_branch_tip(settings.default_branch.as_deref()) else {
        return Ok(None);
    };
    let current = settings.allowed_signers.as_ref().map(|f| f.path.as_str());
    for u in updates.iter().filter(|u| u.refname == default) {
        let Some(new) = u.new else { continue };
        let unsigned = crate::trust::unsigned_changes(repo, signers, current, u.old, new)?;
        if unsigned.is_empty() {
            continue;
        }
        let mut messages = vec![format!(
            "blocked: the push changes this repository's trust root on {default} without a signature from a signer {} lists",
            signers.origin
        )];
        for change in &unsigned {
            messages.push(format!(
                "  commit {}: {}",
                &change.commit.to_string()[..10],
                change.what.join(", ")
            ));
        }
        messages.push(format!(
            "  only a signer {} lists may change it: one of them signs the commit (git config gpg.format ssh; git commit -S), then push again",
            signers.origin
        ));
        return Ok(Some(refuse(messages)));
    }
    Ok(None)
}

fn refuse(messages: Vec<String>) -> HookOutcome {
    HookOutcome {
        allowed: false,
        messages,
        unreviewed: false,
    }
}
