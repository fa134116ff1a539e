//! `git hybrid verify <A..B> [--json]`: the gate's rule as a check, for CI and pre-receive.

use super::Status;
use crate::change::Change;
use crate::error::CommandError;
use crate::gate;
use crate::provenance::Range;
use crate::store::Store;
use crate::ui;

/// Checks a range against the gate's rule; exits 1 when any local output in it is unreviewed.
///
/// A single revision means that commit against its first parent.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A range A..B (or one commit)
    range: String,
    /// Print the result as JSON on stdout
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<Status, CommandError> {
    let (repo, settings) = super::open()?;
    let range = Range::of_target(&repo, &args.range, settings.default_branch.as_deref())?;
    let path = Store::path_for(repo.common_dir());
    // Without a store nothing can say what is local output: fail closed rather than pass.
    let Some(store) = Store::open_existing_for(&repo)? else {
        return Err(CommandError::user(format!(
            "no git-hybrid store at {}: this clone has no provenance records, so {} cannot be verified",
            path.display(),
            args.range
        ))
        .hint("run verify in the repository where generations were recorded (implement/adopt)"));
    };
    let old = range.base.map(|b| repo.tree_of(b)).transpose()?;
    let new = repo.tree_of(range.tip)?;
    let change = Change::between_trees(&repo.git, old.as_ref(), Some(&new))?;
    let evaluation = gate::evaluate_in(&repo, &store, &settings, &change)?;
    if args.json {
        println!("{}", gate::verify_json(&args.range, &evaluation));
    } else if evaluation.outcome.allowed() {
        ui::out(format!(
            "ok: {} ({}, change {})",
            args.range,
            evaluation.outcome.describe(),
            evaluation.change_id.short()
        ));
    } else {
        ui::out_all(gate::render_block(
            &args.range,
            &evaluation,
            &format!("git hybrid review {}", args.range),
        ));
    }
    Ok(if evaluation.outcome.allowed() {
        Status::Ok
    } else {
        Status::Failed
    })
}
