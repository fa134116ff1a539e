//! `git hybrid hook <name>`: what the shims call. Hidden; one variant per git hook.
//!
//! Every failure here blocks: an error while checking a protected update is reported as a block
//! with the error and what to do, and exits non-zero so git stops the update (fail closed).

use std::io::Read;

use clap::Subcommand;

use super::Status;
use crate::error::CommandError;
use crate::gate::{self, HookOutcome};
use crate::git::Repo;
use crate::ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    hook: Hook,
}

#[derive(Debug, Subcommand)]
enum Hook {
    /// Checks HEAD's tree against the index being committed.
    PreCommit,
    /// Checks HEAD's tree against the merge result.
    PreMergeCommit,
    /// Checks every protected ref update; reads `<old> <new> <ref>` lines on stdin.
    ReferenceTransaction { state: String },
    /// Checks pushes to protected remote refs; reads git's pre-push lines on stdin.
    PrePush {
        remote: Option<String>,
        url: Option<String>,
    },
    /// On a server: checks every pushed update of a protected ref; reads `<old> <new> <ref>`.
    PreReceive,
}

pub fn run(args: Args) -> Result<Status, CommandError> {
    // git does not re-hash every object it reads outside fsck; neither does the gate, which only
    // reads objects git itself just wrote or already holds.
    git2::opts::strict_hash_verification(false);
    let name = match &args.hook {
        Hook::PreCommit => "pre-commit",
        Hook::PreMergeCommit => "pre-merge-commit",
        Hook::ReferenceTransaction { .. } => "reference-transaction",
        Hook::PrePush { .. } => "pre-push",
        Hook::PreReceive => "pre-receive",
    };
    match check(args.hook, name) {
        Ok(outcome) if outcome.allowed => Ok(Status::Ok),
        Ok(outcome) => {
            ui::tell(&outcome.messages);
            Ok(Status::Failed)
        }
        Err(mut e) => {
            e.message = format!(
                "blocked: the {name} hook could not check this update: {}",
                e.message
            );
            e.code = crate::error::EXIT_BLOCKED;
            Err(e)
        }
    }
}

fn check(hook: Hook, name: &str) -> Result<HookOutcome, CommandError> {
    let repo = Repo::open()?;
    let input = match &hook {
        Hook::ReferenceTransaction { .. } | Hook::PrePush { .. } | Hook::PreReceive => stdin()?,
        Hook::PreCommit | Hook::PreMergeCommit => String::new(),
    };
    let settings = match super::settings(&repo) {
        Ok(settings) => settings,
        // A policy that got onto the default branch past the hooks blocks everything — except
        // the one update that repairs it.
        Err(e) if gate::repairs_policy(&repo, name, &input) => {
            ui::say(format!(
                "allowed: this update only repairs {} ({})",
                crate::config::POLICY_FILE,
                e.message
            ));
            return Ok(HookOutcome {
                allowed: true,
                ..HookOutcome::default()
            });
        }
        Err(e) => return Err(e),
    };
    for line in &settings.overrides {
        ui::warn(format!(
            "{line}; the gate follows it in this clone only (see `git hybrid doctor`)"
        ));
    }
    // Opened once here: the records are taken in, and the gate judges by the same store.
    // Only when the gate will judge something: a commit on a quarantine branch, or a transaction
    // that moves nothing protected, must not pay for a store or a look at the records refs.
    let store = if will_judge(&hook, &repo, &settings, &input) {
        take_in_records(&repo)?
    } else {
        None
    };
    Ok(match hook {
        Hook::PreCommit | Hook::PreMergeCommit => gate::pre_commit(&repo, &settings, name, store)?,
        Hook::ReferenceTransaction { state } => {
            gate::reference_transaction(&repo, &settings, &state, &input, store)?
        }
        Hook::PrePush { remote, url } => {
            let outcome = gate::pre_push(&repo, &settings, remote.as_deref(), &input, store)?;
            if !outcome.allowed {
                return Ok(outcome);
            }
            records_before_push(&repo, &settings, remote.or(url), &input)?
        }
        Hook::PreReceive => crate::workflow::receive::pre_receive(&repo, &settings, &input)?,
    })
}

/// Whether the gate may judge anything in this hook run (an over-approximation: a deletion may be
/// half of a rename, which is judged).
fn will_judge(hook: &Hook, repo: &Repo, settings: &crate::config::Settings, input: &str) -> bool {
    match hook {
        Hook::PreReceive => false,
        Hook::PreCommit | Hook::PreMergeCommit => {
            repo.head_ref().is_some_and(|r| settings.is_protected(&r))
        }
        Hook::ReferenceTransaction { state } => {
            state == "prepared"
                && gate::parse_ref_updates(input).is_ok_and(|updates| {
                    updates
                        .iter()
                        .any(|u| u.is_deletion() || gate::judges(settings, u))
                })
        }
        // `<local ref> <local id> <remote ref> <remote id>`: the remote ref moving to the local id.
        Hook::PrePush { .. } => input.lines().any(|line| {
            let parts: Vec<&str> = line.split(' ').collect();
            let [_, local, remote_ref, _] = parts[..] else {
                return true; // malformed: let the gate say so
            };
            let update = gate::RefUpdate {
                refname: remote_ref.to_string(),
                new: git2::Oid::from_str(local).ok().filter(|o| !o.is_zero()),
                ..gate::RefUpdate::default()
            };
            gate::judges(settings, &update)
        }),
    }
}

/// Before judging: records the store has not read (it was restored from a backup, copied from
/// another clone, or a fetch's own hook could not take them in) are taken in, so the store is
/// never behind the refs. A record that cannot be read is said, not fatal here: the store keeps
/// what it knew, and `git hybrid sync` names the record.
///
/// Returns the store, opened, for the gate to judge by; `None` when there is none yet or it
/// cannot be opened (the gate then opens it itself, and reports why it cannot). A records ref
/// rewritten to hold less than this store read from it is the one failure that stops the hook:
/// judging on would let everyone after read less.
fn take_in_records(repo: &Repo) -> Result<Option<crate::store::Store>, CommandError> {
    let Ok(Some(mut store)) = crate::store::Store::open_existing_for(repo) else {
        return Ok(None);
    };
    match crate::records::take_in(repo, &mut store) {
        Ok(0) => {}
        Ok(n) => tracing::debug!(generations = n, "records taken in before judging"),
        Err(e @ crate::records::Error::Rewritten { .. }) => return Err(e.into()),
        Err(e) => ui::warn(format!(
            "records could not all be taken in ({e}); run `git hybrid sync` for details"
        )),
    }
    Ok(Some(store))
}

/// The push is allowed: this clone's records go first, so the remote knows what the push
/// carries. Records that cannot be sent block a push to a protected branch (the server would
/// judge it without them) and are only a warning otherwise.
fn records_before_push(
    repo: &Repo,
    settings: &crate::config::Settings,
    remote: Option<String>,
    input: &str,
) -> Result<HookOutcome, CommandError> {
    let allow = HookOutcome {
        allowed: true,
        ..HookOutcome::default()
    };
    let (Some(remote), Some(mut store)) = (remote, crate::store::Store::open_existing_for(repo)?)
    else {
        return Ok(allow);
    };
    let pushed: Vec<String> = input
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2).map(str::to_string))
        .collect();
    // Said here rather than learned from the server's refusal.
    if let Some(warning) = crate::trust::unsigned_warning(repo, settings) {
        ui::warn(warning);
    }
    match crate::records::push_before(repo, &mut store, &remote, &pushed)? {
        crate::records::Pushed::Failed(why) => {
            let protected = pushed.iter().any(|r| settings.is_protected(r));
            let said = format!(
                "the records ({}) could not be pushed to {remote}: {why}",
                crate::records::RECORDS_REF
            );
            if protected {
                return Ok(HookOutcome {
                    allowed: false,
                    unreviewed: false,
                    messages: vec![
                        format!("blocked: {said}"),
                        format!(
                            "push them first: git hybrid sync && git push {remote} {0}:{0}",
                            crate::records::RECORDS_REF
                        ),
                    ],
                });
            }
            ui::warn(format!(
                "{said}; `git hybrid sync` and push again to send them"
            ));
            Ok(allow)
        }
        crate::records::Pushed::Unauthenticated(why) => {
            let protected = pushed.iter().any(|r| settings.is_protected(r));
            let said = format!(
                "the records ({}) could not be pushed to {remote}: it asked for credentials this push could not give ({})",
                crate::records::RECORDS_REF,
                why.lines().last().unwrap_or_default()
            );
            let fix = "let git keep them: git config --global credential.helper cache (or store, or your system's helper: manager, osxkeychain, libsecret), or use an SSH remote with an agent; then push again".to_string();
            if protected {
                return Ok(HookOutcome {
                    allowed: false,
                    unreviewed: false,
                    messages: vec![format!("blocked: {said}"), fix],
                });
            }
            ui::warn(said);
            ui::say(fix);
            Ok(allow)
        }
        crate::records::Pushed::DryRun => {
            ui::say("--dry-run: the records are not pushed either");
            Ok(allow)
        }
        _ => Ok(allow),
    }
}

fn stdin() -> Result<String, CommandError> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input)?;
    Ok(input)
}
