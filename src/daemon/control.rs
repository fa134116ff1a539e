//! Starting and stopping the daemon from a command: spawn it in the background and wait until it
//! answers, or ask it to stop and wait until it is gone. Each wait is bounded, and says what it
//! waits for through `progress`; this module never prints.

use std::time::{Duration, Instant};

use super::client::Client;
use super::protocol::{Reply, Request};
use super::{Error, log_path, runtime_dir};

/// How long a start or a stop may take before the command gives up on it.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// What `start` found or did.
pub enum Started {
    /// A daemon was already running.
    Already { pid: u32 },
    /// This call started it, and it answers.
    Now { pid: u32 },
}

/// Starts the daemon in the background (`git-hybrid daemon run` with its output in the log)
/// unless one runs, and waits until it answers on its socket.
pub fn start(progress: &dyn Fn(&str)) -> Result<Started, Error> {
    if let Ok(client) = Client::connect() {
        return Ok(Started::Already {
            pid: client.daemon_pid,
        });
    }
    let io = |path: std::path::PathBuf| move |source| Error::Io { path, source };
    let dir = runtime_dir();
    std::fs::create_dir_all(&dir).map_err(io(dir.clone()))?;
    let log = std::fs::File::options()
        .create(true)
        .append(true)
        .open(log_path())
        .map_err(io(log_path()))?;
    let exe = std::env::current_exe().map_err(io("the git-hybrid binary".into()))?;
    let child = std::process::Command::new(&exe)
        .args(["daemon", "run"])
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone().map_err(io(log_path()))?)
        .stderr(log)
        .spawn()
        .map_err(io(exe))?;
    progress(&format!("starting the daemon (pid {})", child.id()));
    let started = Instant::now();
    while started.elapsed() < PATIENCE {
        if let Ok(client) = Client::connect() {
            return Ok(Started::Now {
                pid: client.daemon_pid,
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(Error::Silent {
        pid: child.id(),
        waited: PATIENCE,
    })
}

/// Asks the running daemon to stop and waits until its process is gone: its pid, or `None` when
/// none was running.
pub fn stop(progress: &dyn Fn(&str)) -> Result<Option<u32>, Error> {
    let mut client = match Client::connect() {
        Ok(c) => c,
        Err(Error::NotRunning) => return Ok(None),
        Err(e) => return Err(e),
    };
    let pid = client.daemon_pid;
    client.send(&Request::Stop)?;
    // It may close the socket before it answers; either way it was told.
    let _ = client.receive();
    progress(&format!(
        "waiting for the daemon (pid {pid}) to finish and stop"
    ));
    let started = Instant::now();
    while crate::sys::alive(i64::from(pid)) {
        if started.elapsed() >= PATIENCE {
            return Err(Error::Lingering {
                pid,
                waited: PATIENCE,
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(Some(pid))
}

/// What the running daemon says of itself.
pub struct State {
    pub pid: u32,
    pub uptime_s: u64,
    pub model: Option<String>,
    pub jobs_done: u64,
}

/// The running daemon's state, or `None` when none runs.
pub fn status() -> Result<Option<State>, Error> {
    let mut client = match Client::connect() {
        Ok(c) => c,
        Err(Error::NotRunning) => return Ok(None),
        Err(e) => return Err(e),
    };
    client.send(&Request::Status)?;
    match client.receive()? {
        Reply::Status {
            pid,
            uptime_s,
            model,
            jobs_done,
        } => Ok(Some(State {
            pid,
            uptime_s,
            model,
            jobs_done,
        })),
        other => Err(Error::Garbled(format!("{other:?}"))),
    }
}
