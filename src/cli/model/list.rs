//! `git hybrid model list`: the registered models.

use serde_json::json;

use crate::cli::Status;
use crate::error::CommandError;
use crate::local::models::Registry;
use crate::ui;

pub fn run(json: bool) -> Result<Status, CommandError> {
    let registry = Registry::load()?;
    if json {
        println!(
            "{}",
            json!({"default": registry.default, "models": registry.models})
        );
        return Ok(Status::Ok);
    }
    if registry.models.is_empty() {
        ui::say("no models registered; add one with: git hybrid model add PATH.gguf");
    }
    for m in &registry.models {
        let mark = if registry.default.as_deref() == Some(m.name.as_str()) {
            "*"
        } else {
            " "
        };
        let present = if m.path.is_file() {
            ""
        } else {
            "  (file missing)"
        };
        ui::out(format!(
            "{mark} {:<40} {:>7} MB  {}{present}",
            m.name,
            m.size / 1_000_000,
            m.path.display()
        ));
    }
    Ok(Status::Ok)
}
