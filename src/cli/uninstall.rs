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
    if let Some(top) = repo.worktree() {
        use crate::mcp::setup::{self, Done};
        match setup::remove(top, repo.common_dir())? {
            Done::Restored => ui::say(".mcp.json is back as it was before `install --claude-code`"),
            Done::Removed => ui::say(format!(
                "took the MCP server `{}` out of .mcp.json (the file changed since it was added: the rest stays)",
                setup::NAME
            )),
            _ => {}
        }
    }
    Ok(Status::Ok)
}
