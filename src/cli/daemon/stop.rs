//! `git hybrid daemon stop`.

use crate::cli::Status;
use crate::daemon::control;
use crate::error::CommandError;
use crate::ui;

pub fn run() -> Result<Status, CommandError> {
    let spinner = ui::spinner();
    let stopped = control::stop(&|line| spinner.set_message(line.to_string()));
    spinner.finish_and_clear();
    match stopped? {
        Some(pid) => ui::say(format!("the daemon (pid {pid}) stopped")),
        None => ui::say("no daemon is running"),
    }
    Ok(Status::Ok)
}
