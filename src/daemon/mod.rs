//! The daemon: one per user, keeping the last model loaded between jobs and running `implement`
//! jobs from a queue kept in each repository's store, so a killed daemon loses no job.
//!
//! Clients speak JSON lines over a Unix socket and must agree on the protocol version first. A
//! pid file, locked while the daemon lives, keeps it to one per user. This module must never run
//! a job twice: jobs are claimed in the store, and a resumed job first checks what its earlier
//! attempt left behind.

pub mod client;
pub mod protocol;
pub mod server;

use std::path::PathBuf;

/// Where the socket, pid file, log and list of repositories live: `$XDG_RUNTIME_DIR/git-hybrid`,
/// else the user's cache.
pub fn runtime_dir() -> PathBuf {
    std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|v| !v.is_empty())
        .map(|d| PathBuf::from(d).join("git-hybrid"))
        .unwrap_or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("."))
                .join(".cache/git-hybrid/daemon")
        })
}

pub fn socket_path() -> PathBuf {
    runtime_dir().join("daemon.sock")
}

pub fn pid_path() -> PathBuf {
    runtime_dir().join("daemon.pid")
}

pub fn log_path() -> PathBuf {
    runtime_dir().join("daemon.log")
}

/// Worktrees that have had jobs, so a restarted daemon knows where to look for unfinished ones.
pub fn repos_path() -> PathBuf {
    runtime_dir().join("repos")
}

/// The worktrees listed in `repos_path()`, each once.
pub fn known_worktrees() -> Vec<String> {
    let list = std::fs::read_to_string(repos_path()).unwrap_or_default();
    let mut seen = std::collections::HashSet::new();
    list.lines()
        .filter(|l| !l.is_empty() && seen.insert(l.to_string()))
        .map(str::to_string)
        .collect()
}

/// Adds a worktree to `repos_path()` unless it is there already.
pub fn remember_worktree(top: &std::path::Path) -> std::io::Result<()> {
    use std::io::Write;
    let line = top.display().to_string();
    if known_worktrees().contains(&line) {
        return Ok(());
    }
    let mut file = std::fs::File::options()
        .create(true)
        .append(true)
        .open(repos_path())?;
    writeln!(file, "{line}")
}

/// Whether a process is alive (Linux: it has a /proc entry and is not a zombie — a daemon
/// killed with SIGKILL stays a zombie until something reaps it, and must count as gone).
pub fn alive(pid: i64) -> bool {
    if pid <= 0 {
        return false;
    }
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The state follows the command name, which is in parentheses and may hold spaces.
    let state = stat
        .rfind(')')
        .and_then(|i| stat[i + 1..].split_whitespace().next());
    !matches!(state, Some("Z" | "X" | "x"))
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no daemon is running")]
    NotRunning,
    #[error(
        "the daemon speaks protocol {theirs}, this binary {ours}: restart it with `git hybrid daemon stop && git hybrid daemon start`"
    )]
    Protocol { ours: u32, theirs: u32 },
    #[error("another daemon holds {0}")]
    AlreadyRunning(PathBuf),
    #[error("daemon I/O on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the daemon said something this binary does not understand: {0}")]
    Garbled(String),
    #[error(
        "the daemon stopped before the job finished; it will resume the job when it starts again"
    )]
    Lost,
}
