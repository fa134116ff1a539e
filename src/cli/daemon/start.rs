//! `git hybrid daemon start`.

use crate::cli::Status;
use crate::daemon::{self, control};
use crate::error::CommandError;
use crate::ui;

pub fn run() -> Result<Status, CommandError> {
    let spinner = ui::spinner();
    let started = control::start(&|line| spinner.set_message(line.to_string()));
    spinner.finish_and_clear();
    match started? {
        control::Started::Already { pid } => {
            ui::say(format!("the daemon already runs (pid {pid})"))
        }
        control::Started::Now { pid } => ui::say(format!(
            "the daemon runs (pid {pid}); socket {}",
            daemon::socket_path().display()
        )),
    }
    Ok(Status::Ok)
}
