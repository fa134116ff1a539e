//! `git hybrid adopt <rev|A..B> [--model M]`: records commits another local-model tool made
//! (Aider on Ollama, Continue...) as local output, so the gate guards them like its own.

use super::Status;
use crate::error::CommandError;
use crate::provenance::{self, Range};
use crate::store::Store;
use crate::ui;

/// Records the change of a commit (against its first parent), of a branch (everything on it
/// since its merge-base with the default branch) or of a range A..B as one generation of
/// local-model output; each commit's own added lines are recorded too.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A commit, a branch (everything since its merge-base with the default branch), or A..B
    revision: String,
    /// The model that wrote it, for reports and the cost ledger
    #[arg(long)]
    model: Option<String>,
}

pub fn run(args: Args) -> Result<Status, CommandError> {
    let (repo, settings) = super::open()?;
    let range = Range::of_target(&repo, &args.revision, settings.default_branch.as_deref())?;
    let mut store = Store::open_for(&repo)?;
    let adopted = provenance::adopt(&repo, &mut store, &range, args.model.as_deref())?;
    if !adopted.newly_recorded {
        ui::say(format!(
            "{} was already adopted as generation {}; nothing changed",
            args.revision, adopted.generation_id
        ));
        return Ok(Status::Ok);
    }
    ui::say(format!(
        "adopted {} as generation {}: {} file{}, {} added line{}, {} fingerprinted (model {})",
        args.revision,
        adopted.generation_id,
        adopted.files,
        if adopted.files == 1 { "" } else { "s" },
        adopted.added_lines,
        if adopted.added_lines == 1 { "" } else { "s" },
        adopted.fingerprinted,
        args.model.as_deref().unwrap_or("unknown"),
    ));
    let target = range
        .branch
        .as_deref()
        .map(|b| b.trim_start_matches("refs/heads/").to_string())
        .unwrap_or_else(|| args.revision.clone());
    ui::say(format!(
        "protected refs will refuse these lines until a review approves them: git hybrid review {target}"
    ));
    Ok(Status::Ok)
}
