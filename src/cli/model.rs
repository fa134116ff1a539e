//! `git hybrid model add|list`: the local models the embedded backend can run.

use clap::Subcommand;
use serde_json::json;

use super::Status;
use crate::error::CommandError;
use crate::local::models::Registry;
use crate::ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: ModelCommand,
}

#[derive(Debug, Subcommand)]
enum ModelCommand {
    /// Registers a GGUF model file (checked and hashed); the first one becomes the default
    Add { path: std::path::PathBuf },
    /// Lists the registered models
    List {
        /// Print JSON on stdout
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: Args) -> Result<Status, CommandError> {
    match args.command {
        ModelCommand::Add { path } => {
            let model = Registry::add(&path)?;
            let registry = Registry::load()?;
            let default = registry.default.as_deref() == Some(model.name.as_str());
            ui::say(format!(
                "added {} ({} MB, sha256 {}){}",
                model.name,
                model.size / 1_000_000,
                &model.sha256[..16],
                if default { ", the default model" } else { "" }
            ));
            Ok(Status::Ok)
        }
        ModelCommand::List { json } => {
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
                ui::say(format!(
                    "{mark} {:<40} {:>7} MB  {}{present}",
                    m.name,
                    m.size / 1_000_000,
                    m.path.display()
                ));
            }
            Ok(Status::Ok)
        }
    }
}
