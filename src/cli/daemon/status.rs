//! `git hybrid daemon status`.

use crate::cli::Status;
use crate::daemon::control;
use crate::error::CommandError;
use crate::ui;

pub fn run(json: bool) -> Result<Status, CommandError> {
    let Some(state) = control::status()? else {
        if json {
            ui::out(serde_json::json!({"version": 1, "running": false}).to_string());
        }
        ui::say("no daemon is running (start one with: git hybrid daemon start)");
        return Ok(Status::Failed);
    };
    if json {
        ui::out(
            serde_json::json!({
                "version": 1,
                "running": true,
                "pid": state.pid,
                "uptime_s": state.uptime_s,
                "model": state.model,
                "jobs_done": state.jobs_done,
            })
            .to_string(),
        );
    } else {
        ui::out(format!(
            "the daemon runs: pid {}, up {} s, {} job{} done, model {}",
            state.pid,
            state.uptime_s,
            state.jobs_done,
            ui::plural(state.jobs_done as usize),
            state.model.as_deref().unwrap_or("not loaded")
        ));
    }
    Ok(Status::Ok)
}
