//! `git hybrid daemon start|stop|status|run`: the per-user process that keeps a model loaded.

use std::time::{Duration, Instant};

use clap::Subcommand;

use super::Status;
use crate::daemon::client::Client;
use crate::daemon::protocol::{Reply, Request};
use crate::daemon::{self, Error};
use crate::error::CommandError;
use crate::ui;

/// Keeps the local model loaded between jobs: a per-user background process that runs
/// `implement` jobs from a queue kept in each repository's store.
///
/// Optional: every command works without it. When it runs, embedded `implement` jobs go through
/// it (the model stays loaded, progress streams back); a daemon killed mid-job resumes the job
/// when it starts again. It serves only its own user.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: DaemonCommand,
}

#[derive(Debug, Subcommand)]
enum DaemonCommand {
    /// Starts the daemon in the background (one per user)
    Start,
    /// Stops the running daemon
    Stop,
    /// Says whether a daemon runs, and what it holds
    Status {
        /// Print JSON on stdout: {"version": 1, "running": bool, "pid", "uptime_s", "model",
        /// "jobs_done"} (the last four only while it runs)
        #[arg(long)]
        json: bool,
    },
    /// Runs the daemon in the foreground
    Run,
}

pub fn run(args: Args) -> Result<Status, CommandError> {
    match args.command {
        DaemonCommand::Run => {
            daemon::server::run(crate::error::explain_job)?;
            Ok(Status::Ok)
        }
        DaemonCommand::Start => {
            if let Ok(client) = Client::connect() {
                ui::say(format!(
                    "the daemon already runs (pid {})",
                    client.daemon_pid
                ));
                return Ok(Status::Ok);
            }
            let dir = daemon::runtime_dir();
            std::fs::create_dir_all(&dir)?;
            let log = std::fs::File::options()
                .create(true)
                .append(true)
                .open(daemon::log_path())?;
            let exe = std::env::current_exe()?;
            let child = std::process::Command::new(exe)
                .args(["daemon", "run"])
                .stdin(std::process::Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log)
                .spawn()?;
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(15) {
                if let Ok(client) = Client::connect() {
                    ui::say(format!(
                        "the daemon runs (pid {}); socket {}",
                        client.daemon_pid,
                        daemon::socket_path().display()
                    ));
                    return Ok(Status::Ok);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(CommandError::user(format!(
                "the daemon (pid {}) did not answer within 15 s",
                child.id()
            ))
            .hint(format!("see {}", daemon::log_path().display())))
        }
        DaemonCommand::Stop => {
            let mut client = match Client::connect() {
                Ok(c) => c,
                Err(Error::NotRunning) => {
                    ui::say("no daemon is running");
                    return Ok(Status::Ok);
                }
                Err(e) => return Err(e.into()),
            };
            let pid = client.daemon_pid;
            client.send(&Request::Stop)?;
            let _ = client.receive();
            let started = Instant::now();
            while daemon::alive(i64::from(pid)) && started.elapsed() < Duration::from_secs(15) {
                std::thread::sleep(Duration::from_millis(50));
            }
            ui::say(format!("the daemon (pid {pid}) stopped"));
            Ok(Status::Ok)
        }
        DaemonCommand::Status { json } => {
            let mut client = match Client::connect() {
                Ok(c) => c,
                Err(Error::NotRunning) => {
                    if json {
                        ui::out(serde_json::json!({"version": 1, "running": false}).to_string());
                    }
                    ui::say("no daemon is running (start one with: git hybrid daemon start)");
                    return Ok(Status::Failed);
                }
                Err(e) => return Err(e.into()),
            };
            client.send(&Request::Status)?;
            match client.receive()? {
                Reply::Status {
                    pid,
                    uptime_s,
                    model,
                    jobs_done,
                } => {
                    if json {
                        ui::out(
                            serde_json::json!({
                                "version": 1,
                                "running": true,
                                "pid": pid,
                                "uptime_s": uptime_s,
                                "model": model,
                                "jobs_done": jobs_done,
                            })
                            .to_string(),
                        );
                        return Ok(Status::Ok);
                    }
                    ui::out(format!(
                        "the daemon runs: pid {pid}, up {uptime_s} s, {jobs_done} job{} done, model {}",
                        if jobs_done == 1 { "" } else { "s" },
                        model.as_deref().unwrap_or("not loaded")
                    ));
                    Ok(Status::Ok)
                }
                other => Err(CommandError::internal(format!(
                    "unexpected answer from the daemon: {other:?}"
                ))),
            }
        }
    }
}
