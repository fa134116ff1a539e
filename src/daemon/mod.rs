//! The daemon: one per user, keeping the last model loaded between jobs and running `implement`
//! jobs from a queue kept in each repository's store, so a killed daemon loses no job.
//!
//! Clients speak JSON lines over a Unix socket and must agree on the protocol version first. A
//! pid file, locked while the daemon lives, keeps it to one per user. This module must never run
//! a job twice: jobs are claimed in the store, and a resumed job first checks what its earlier
//! attempt left behind.
//!
//! It serves its own user only: its folder is 0700 and its socket 0600 whatever the umask, it
//! checks each peer's uid (`SO_PEERCRED`), and it refuses worktrees, stores, specs and model files
//! another user owns, specs that resolve outside their repository, and models that are not in
//! the user's registry — a job names files, and the daemon must never read someone else's
//! crafted GGUF or a symlink into the user's own files on their behalf.

pub mod client;
pub mod control;
pub mod protocol;
pub mod server;

use std::path::PathBuf;

/// Where the socket, pid file, log and list of repositories live: `$XDG_RUNTIME_DIR/git-hybrid`,
/// else the user's cache.
pub fn runtime_dir() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir).join("git-hybrid"),
        None => crate::config::home_dir().join(".cache/git-hybrid/daemon"),
    }
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

/// Creates `dir` (and its parents) so that only this user may enter it: 0700 whatever the umask.
/// A folder that exists already must be this user's; its mode is narrowed to 0700.
pub fn private_dir(dir: &std::path::Path) -> Result<(), Error> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    let io = |source| Error::Io {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io)?;
    let meta = std::fs::symlink_metadata(dir).map_err(io)?;
    if !meta.is_dir() || meta.uid() != crate::sys::euid() {
        return Err(Error::Foreign {
            path: dir.to_path_buf(),
            what: "the daemon's folder",
        });
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)
}

/// Refuses a path this user does not own (the path itself, not a symlink's target: callers
/// resolve first when they mean the target).
pub fn owned_by_me(path: &std::path::Path, what: &'static str) -> Result<(), Error> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if meta.uid() != crate::sys::euid() {
        return Err(Error::Foreign {
            path: path.to_path_buf(),
            what,
        });
    }
    Ok(())
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
    #[error("{what} {path} belongs to another user: the daemon works only for its own user")]
    Foreign { path: PathBuf, what: &'static str },
    #[error("{what} {path} resolves outside {within}")]
    Outside {
        path: PathBuf,
        what: &'static str,
        within: &'static str,
    },
    #[error("daemon I/O on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the daemon (pid {pid}) did not answer within {} s", waited.as_secs())]
    Silent {
        pid: u32,
        waited: std::time::Duration,
    },
    #[error("the daemon (pid {pid}) was asked to stop and still runs after {} s", waited.as_secs())]
    Lingering {
        pid: u32,
        waited: std::time::Duration,
    },
    #[error("the daemon said something this binary does not understand: {0}")]
    Garbled(String),
    #[error(
        "the daemon stopped before the job finished; it will resume the job when it starts again"
    )]
    Lost,
}
