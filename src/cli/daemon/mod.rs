//! `git hybrid daemon start|stop|status|run`: the per-user process that keeps a model loaded.
//! A file per subcommand; the work is `crate::daemon::control`'s.

use clap::Subcommand;

use super::Status;
use crate::error::CommandError;

mod start;
mod status;
mod stop;

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
            crate::daemon::server::run(crate::error::explain_job)?;
            Ok(Status::Ok)
        }
        DaemonCommand::Start => start::run(),
        DaemonCommand::Stop => stop::run(),
        DaemonCommand::Status { json } => status::run(json),
    }
}
