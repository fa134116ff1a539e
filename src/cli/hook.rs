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
    };
    match check(args.hook, name) {
        Ok(outcome) if outcome.allowed => Ok(Status::Ok),
        Ok(outcome) => {
            ui::say_all(&outcome.messages);
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
        Hook::ReferenceTransaction { .. } | Hook::PrePush { .. } => stdin()?,
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
                messages: Vec::new(),
            });
        }
        Err(e) => return Err(e),
    };
    for line in &settings.overrides {
        ui::say(format!(
            "warning: {line}; the gate follows it in this clone only (see `git hybrid doctor`)"
        ));
    }
    Ok(match hook {
        Hook::PreCommit | Hook::PreMergeCommit => gate::pre_commit(&repo, &settings, name)?,
        Hook::ReferenceTransaction { state } => {
            gate::reference_transaction(&repo, &settings, &state, &input)?
        }
        Hook::PrePush { .. } => gate::pre_push(&repo, &settings, &input)?,
    })
}

fn stdin() -> Result<String, CommandError> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input)?;
    Ok(input)
}
