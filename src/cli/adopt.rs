//! `git hybrid adopt <rev|A..B> [--model M | --from agent-trace|git-ai]`: records commits another
//! local-model tool made (Aider on Ollama, Continue...) as local output, so the gate guards them
//! like its own.

use super::Status;
use crate::attribution::{self, Source};
use crate::error::CommandError;
use crate::provenance::{self, Range};
use crate::store::Store;
use crate::ui;

/// Records the change of a commit (against its first parent), of a branch (everything on it
/// since its merge-base with the default branch) or of a range A..B as one generation of
/// local-model output; each commit's own added lines are recorded too.
///
/// With --from, only the lines another tool's notes attribute to an AI are recorded, one
/// generation per commit that carries a note: Agent Trace (refs/notes/agent-trace) or git-ai
/// (refs/notes/ai). The committed policy can narrow them to the tools and models that are local
/// ([adopt] tools = ["aider"], models = ["ollama/*"]: glob patterns); a human's lines never
/// count.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A commit, a branch (everything since its merge-base with the default branch), or A..B
    revision: String,
    /// The model that wrote it, for reports and the cost ledger
    #[arg(long, conflicts_with = "from")]
    model: Option<String>,
    /// Record only the lines another tool's attribution notes give to an AI
    #[arg(long, value_enum)]
    from: Option<Source>,
}

pub fn run(args: Args) -> Result<Status, CommandError> {
    // What it recorded goes to the records ref, and to the remote, whatever the outcome.
    let result = record(args);
    super::sync::publish_after();
    result
}

fn record(args: Args) -> Result<Status, CommandError> {
    let (repo, settings) = super::open()?;
    let range = Range::of_target(&repo, &args.revision, settings.default_branch.as_deref())?;
    let mut store = Store::open_for(&repo)?;
    let target = range
        .branch
        .as_deref()
        .map(|b| b.trim_start_matches("refs/heads/").to_string())
        .unwrap_or_else(|| args.revision.clone());
    if let Some(source) = args.from {
        let filter = attribution::Filter::new(&settings.adopt)?;
        let imported = attribution::import(&repo, &mut store, source, &range, &filter)?;
        if imported.notes == 0 {
            return Err(CommandError::user(format!(
                "no {} notes ({}) on the commits of {}",
                source.name(),
                source.notes_ref(),
                args.revision
            ))
            .hint(format!(
                "fetch them first: git fetch origin '{0}:{0}'",
                source.notes_ref()
            )));
        }
        ui::say(format!(
            "read {} {} note{} in {}: {} generation{} recorded, {} line{} of local output; {} attributed line{} left out (a human's, or a tool or model [adopt] does not name)",
            imported.notes,
            source.name(),
            ui::plural(imported.notes),
            args.revision,
            imported.generations.len(),
            ui::plural(imported.generations.len()),
            imported.lines,
            ui::plural(imported.lines),
            imported.left_out,
            ui::plural(imported.left_out),
        ));
        if !imported.generations.is_empty() {
            ui::say(what_the_gate_holds(imported.lines, 0, &target));
        }
        return Ok(Status::Ok);
    }
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
        ui::plural(adopted.files),
        adopted.added_lines,
        ui::plural(adopted.added_lines),
        adopted.fingerprinted,
        args.model.as_deref().unwrap_or("unknown"),
    ));
    ui::say(what_the_gate_holds(
        adopted.fingerprinted,
        adopted.edits,
        &target,
    ));
    Ok(Status::Ok)
}

/// What the gate will do with what was just recorded, said as it is: the recorded change is
/// refused as it stands until reviewed; only fingerprinted lines are also recognised when they
/// turn up elsewhere (lines too short to tell apart, or already in the base tree, are not).
fn what_the_gate_holds(fingerprinted: usize, edits: usize, target: &str) -> String {
    let review = format!("git hybrid review {target}");
    match (edits, fingerprinted) {
        (0, 0) => format!(
            "none of these lines can be told apart from human work (too short, or already in the base tree), so no protected ref will refuse them; review them anyway if they matter: {review}"
        ),
        (_, 0) => format!(
            "protected refs will refuse this change until a review approves it: {review} (its lines are too short to recognise on their own: copied elsewhere, they are not caught)"
        ),
        (0, _) => format!(
            "protected refs will refuse these {fingerprinted} line{} until a review approves them: {review}",
            ui::plural(fingerprinted)
        ),
        (_, _) => format!(
            "protected refs will refuse this change until a review approves it: {review} ({fingerprinted} of its lines are also recognised wherever they turn up)"
        ),
    }
}
