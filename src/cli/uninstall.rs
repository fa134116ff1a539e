//! `git hybrid uninstall`: removes the shims and puts back exactly the hooks they replaced.

use super::Status;
use crate::error::CommandError;
use crate::shim;
use crate::ui;

/// Removes the gate's hooks and restores the hooks that were there before, byte for byte.
///
/// The store (verdicts, provenance) is kept.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> Result<Status, CommandError> {
    let repo = crate::git::Repo::open()?;
    let dir = repo.hooks_dir()?;
    let actions = shim::uninstall(&dir)?;
    if actions.is_empty() {
        ui::say(format!("no git-hybrid hooks in {}", dir.display()));
    }
    for action in &actions {
        ui::say(super::install::describe(action));
    }
    Ok(Status::Ok)
}
