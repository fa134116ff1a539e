//! `git hybrid model rm`: forgets a registered model.

use crate::cli::Status;
use crate::error::CommandError;
use crate::local::models::Registry;
use crate::ui;

pub fn run(name: String, delete_file: bool) -> Result<Status, CommandError> {
    let (model, deleted) = Registry::remove(&name, delete_file)?;
    let registry = Registry::load()?;
    ui::say(format!(
        "removed {}{}; the default model is now {}",
        model.name,
        if deleted {
            format!(" and deleted {}", model.path.display())
        } else {
            format!(" (the file {} is left where it is)", model.path.display())
        },
        registry.default.as_deref().unwrap_or("none")
    ));
    Ok(Status::Ok)
}
