//! `git hybrid model add|pull|list|recommend|default|rm`: the local models the embedded backend
//! can run.

use clap::Subcommand;
use serde_json::json;

use super::Status;
use crate::error::CommandError;
use crate::local::models::{PullProgress, Registry};
use crate::ui;

/// Manages the local GGUF models the embedded backend runs: register, download, list, and which
/// size this machine can run.
///
/// Models are registered in ~/.local/share/git-hybrid/models.toml ($XDG_DATA_HOME) by name (the
/// file's stem); the
/// first one becomes the default. Every file is checked to be GGUF and hashed before use.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: ModelCommand,
}

#[derive(Debug, Subcommand)]
enum ModelCommand {
    /// Registers a GGUF model file (checked and hashed); the first one becomes the default
    Add { path: std::path::PathBuf },
    /// Downloads a GGUF model over HTTP into the cache (resuming a cut-off download), checks
    /// it and registers it
    Pull {
        url: String,
        /// The expected sha256 of the file; a file with another hash is refused
        #[arg(long)]
        sha256: Option<String>,
    },
    /// Names the model this machine runs best: the largest of the catalogue that fits its
    /// memory (GPU memory in a GPU build) at 8 tokens a second or more, estimated from its cores
    /// and measured memory bandwidth; with its download URL and the command that pulls it
    Recommend {
        /// Print JSON on stdout
        #[arg(long)]
        json: bool,
    },
    /// Forgets a registered model (the next oldest becomes the default)
    Rm {
        /// The model's name, as `model list` shows it
        name: String,
        /// Also delete the file, when it is in the model cache (where `model pull` puts files)
        #[arg(long)]
        delete_file: bool,
    },
    /// Makes a registered model the default
    Default {
        /// The model's name, as `model list` shows it
        name: String,
    },
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
        ModelCommand::Pull { url, sha256 } => {
            let bar = ui::byte_bar();
            let model = crate::local::models::pull(&url, sha256.as_deref(), &|progress| {
                match progress {
                    PullProgress::Downloaded { done, total } => {
                        if let Some(t) = total {
                            bar.set_length(t);
                        }
                        bar.set_position(done);
                    }
                    // The bar would sit at 100% for the seconds a large file takes to hash.
                    PullProgress::Hashing => {
                        bar.finish_and_clear();
                        ui::say("checking the download's sha256");
                    }
                }
            });
            bar.finish_and_clear();
            let model = model?;
            ui::say(format!(
                "pulled {} ({} MB, sha256 {}) to {}",
                model.name,
                model.size / 1_000_000,
                model.sha256,
                model.path.display()
            ));
            Ok(Status::Ok)
        }
        ModelCommand::Recommend { json } => {
            let r = crate::local::models::recommend(crate::local::models::Machine::detect());
            if json {
                ui::out(serde_json::to_string(&r).unwrap_or_default());
                return Ok(Status::Ok);
            }
            let m = &r.machine;
            ui::out(format!(
                "{} cores, RAM {:.1} GB, memory bandwidth {:.1} GB/s, GPU memory {}{}",
                m.cores,
                m.ram_gb,
                m.bandwidth_gbs,
                m.vram_gb
                    .map_or("none found".to_string(), |v| format!("{v:.1} GB")),
                if m.gpu_build { " (GPU build)" } else { "" }
            ));
            for e in &r.estimates {
                let mark = if r.model.as_ref() == Some(&e.model) {
                    "->"
                } else {
                    "  "
                };
                ui::out(format!(
                    "{mark} {:<36} {:>5.1} GB  {}",
                    e.model.name,
                    e.model.gb,
                    if e.fits {
                        format!(
                            "~{:.0} tok/s{}",
                            e.tokens_per_second,
                            if e.on_gpu { " on the GPU" } else { "" }
                        )
                    } else {
                        "does not fit".to_string()
                    }
                ));
            }
            ui::out(&r.reason);
            if let Some(model) = &r.model {
                ui::out(format!(
                    "git hybrid model pull {}{}",
                    model.url,
                    model
                        .sha256
                        .map_or(String::new(), |s| format!(" --sha256 {s}"))
                ));
                if model.sha256.is_none() {
                    ui::say(
                        "its sha256 was not verified here: take it from the publisher's page and pass it with --sha256",
                    );
                }
            }
            Ok(Status::Ok)
        }
        ModelCommand::Default { name } => {
            let model = Registry::set_default(&name)?;
            ui::say(format!(
                "{} ({}) is the default model now",
                model.name,
                model.path.display()
            ));
            Ok(Status::Ok)
        }
        ModelCommand::Rm { name, delete_file } => {
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
                ui::out(format!(
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
