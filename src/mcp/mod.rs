//! The MCP server (`git hybrid mcp`): the tools through which a Claude Code session — or any
//! MCP client — hands bounded work to the local model and gets it back gated: lint a spec,
//! implement it onto a quarantine branch, see what is pending, show, verify, review and fix.
//!
//! It owns the tools' names, descriptions and schemas, the server's instructions and how each
//! tool reaches the engine: `implement` and `spec_lint` run in this process (so a generation
//! reports progress and stops on cancel, here or in the daemon); the others run this binary's own
//! command with `--json` as a child (`child`), so they answer exactly as the command does and a
//! cancel kills them. It never writes the user's worktree, never moves a protected ref and never
//! merges: merging stays the user's, and the hooks gate it as always. `setup` writes and removes
//! the project's `.mcp.json` entry.

mod child;
pub mod setup;
mod tools;

use std::path::{Path, PathBuf};

use crate::error::{CommandError, chain};

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the MCP server could not start: {0}")]
    Start(std::io::Error),
    #[error("the MCP session failed: {0}")]
    Session(String),
    #[error("this binary's own path is unknown: {0}")]
    Exe(std::io::Error),
}

/// Serves MCP over stdin/stdout for the repository whose worktree is `top`, until the client
/// closes the connection.
pub fn serve(top: &Path) -> Result<(), Error> {
    use rmcp::ServiceExt;
    let exe = std::env::current_exe().map_err(Error::Exe)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(Error::Start)?;
    let server = tools::Server::new(top.to_path_buf(), exe);
    runtime.block_on(async move {
        let service = server
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| Error::Session(e.to_string()))?;
        service
            .waiting()
            .await
            .map_err(|e| Error::Session(e.to_string()))?;
        Ok(())
    })
}

/// What the server tells the client about using it: what to delegate, how to write a spec the
/// lint accepts, and that the gate still holds.
const INSTRUCTIONS: &str = "\
git-hybrid hands bounded coding work to a local model and keeps its output off protected \
branches until a review approves it.

Delegate with `implement`: CRUD endpoints and handlers, data classes, tests for existing code, \
docs and docstrings, small well-specified functions. Keep for yourself: architecture, \
security-critical code (auth, crypto, permissions), novel algorithms, cross-cutting refactors.

A spec the local model can implement (check it first with `spec_lint`): a '# Title' line; the \
files to create or change, by path; each function with its exact signature, inputs, outputs and \
errors; the edge cases; how to check it (a test command). Small models need precision: name \
everything, assume nothing.

`implement` commits the work on a quarantine branch (hybrid/<slug>) and returns the diff and the \
check's result; it never touches the worktree. Then `review` it (Claude API) and `fix` the \
findings, or read the diff and implement again with a sharper spec. The branch can only reach a \
protected branch once a review approved exactly its lines: merging is the user's (or a plain \
`git merge`, which the hooks check). `pending` lists unreviewed local output; `verify` checks a \
range as CI would.";

/// Where spec text sent over MCP is kept: beside the store, inside the repository's `.git`
/// (never the worktree), so that the spec stays readable for the review.
fn spec_dir(common_dir: &Path) -> PathBuf {
    common_dir.join("hybrid").join("specs")
}

// The words for this module's errors live here rather than in `error`: the server sits above
// `error` (its tools word every failure through it), so `error` cannot name these types.
impl From<setup::Error> for CommandError {
    fn from(e: setup::Error) -> Self {
        let err = CommandError::user(chain(&e));
        match e {
            setup::Error::Io { .. } => err.hint("check the path and its permissions"),
            setup::Error::NotConfig { .. } => {
                err.hint("fix the file's JSON (or move it away), then run the command again")
            }
        }
    }
}

impl From<Error> for CommandError {
    fn from(e: Error) -> Self {
        CommandError::internal(chain(&e))
            .hint("the client started this server over stdio; see its MCP log, and run with GIT_HYBRID_LOG=debug for ours")
    }
}
