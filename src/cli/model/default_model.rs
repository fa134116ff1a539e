//! `git hybrid model default`: which registered model is the default.

use crate::cli::Status;
use crate::error::CommandError;
use crate::local::models::Registry;
use crate::ui;

pub fn run(name: String) -> Result<Status, CommandError> {
    let model = Registry::set_default(&name)?;
    ui::say(format!(
        "{} ({}) is the default model now",
        model.name,
        model.path.display()
    ));
    Ok(Status::Ok)
}
