//! `git hybrid model add|pull|list|recommend|default|rm`: the local models the embedded backend
//! can run. A file per subcommand.

use clap::Subcommand;

use super::Status;
use crate::error::CommandError;

mod add;
mod default_model;
mod list;
mod pull;
mod recommend;
mod rm;

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
        ModelCommand::Add { path } => add::run(path),
        ModelCommand::Pull { url, sha256 } => pull::run(url, sha256),
        ModelCommand::Recommend { json } => recommend::run(json),
        ModelCommand::Default { name } => default_model::run(name),
        ModelCommand::Rm { name, delete_file } => rm::run(name, delete_file),
        ModelCommand::List { json } => list::run(json),
    }
}
