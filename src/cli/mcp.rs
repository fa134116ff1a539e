//! `git hybrid mcp`: the MCP server over stdio, for Claude Code and other MCP clients.

use super::Status;
use crate::error::CommandError;

/// Serves MCP over stdin/stdout: Claude Code (or any MCP client) lints specs, delegates them to
/// the local model onto quarantine branches, and reviews, fixes and verifies the result.
///
/// Set it up for a project with `git hybrid install --claude-code` (writes .mcp.json). No tool
/// writes the worktree, moves a protected branch or merges: the hooks gate merges as always.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> Result<Status, CommandError> {
    let repo = crate::git::Repo::open()?;
    let top = repo.worktree().ok_or_else(|| {
        CommandError::user(
            "the MCP server needs a repository with a working tree (this one is bare)",
        )
    })?;
    crate::mcp::serve(top)?;
    Ok(Status::Ok)
}
