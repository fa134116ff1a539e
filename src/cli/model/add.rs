//! `git hybrid model add`: registers a GGUF file.

use crate::cli::Status;
use crate::error::CommandError;
use crate::local::models::Registry;
use crate::ui;

pub fn run(path: std::path::PathBuf) -> Result<Status, CommandError> {
    // Hashing a model takes seconds: said while it happens.
    let bar = ui::spinner();
    bar.set_message(format!("hashing {} (sha256)", path.display()));
    let model = Registry::add(&path);
    bar.finish_and_clear();
    let model = model?;
    let registry = Registry::load()?;
    let default = registry.default.as_deref() == Some(model.name.as_str());
    ui::say(format!(
        "added {} ({} MB, sha256 {}){}",
        model.name,
        model.size / 1_000_000,
        crate::ui::abbrev(&model.sha256, 16),
        if default { ", the default model" } else { "" }
    ));
    Ok(Status::Ok)
}
