//! `git hybrid pending`: local output that no approval covers yet, by generation, and the
//! reviews waiting in a batch.

use serde_json::json;

use super::Status;
use crate::error::CommandError;
use crate::store::Store;
use crate::ui;

/// Lists local-model output not yet covered by an approved review — branch, model, lines, age,
/// and whose it is when a teammate (or CI) recorded it — and the reviews submitted with
/// `review --batch` that are not collected yet.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON on stdout
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<Status, CommandError> {
    let repo = crate::git::Repo::open()?;
    let (pending, batches) = match Store::open_existing_for(&repo)? {
        Some(store) => (store.pending_generations()?, store.open_batches()?),
        None => (Vec::new(), Vec::new()),
    };
    // Which batch, if any, a branch's review is waiting in.
    let in_batch = |branch: Option<&str>| {
        let branch = branch?.trim_start_matches("refs/heads/");
        batches
            .iter()
            .find(|b| b.reviews.iter().any(|r| !r.concluded && r.target == branch))
            .map(|b| b.id.clone())
    };
    let now = crate::store::now_secs();
    if args.json {
        let rows: Vec<_> = pending
            .iter()
            .map(|g| {
                json!({
                    "generation": g.id,
                    "branch": g.branch,
                    "model": g.model,
                    "commit": g.result_commit,
                    "lines": g.lines,
                    "uncovered": g.uncovered,
                    "check": g.check,
                    "created_at": g.created_at,
                    "recorded_by": g.recorded_by,
                    "in_batch": in_batch(g.branch.as_deref()),
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(rows));
        return Ok(Status::Ok);
    }
    for b in &batches {
        let waiting: Vec<String> = b
            .reviews
            .iter()
            .filter(|r| !r.concluded)
            .map(|r| {
                format!(
                    "{} (change {})",
                    r.target,
                    crate::ui::abbrev(&r.change_id, 16)
                )
            })
            .collect();
        ui::out(format!(
            "in review batch {} (submitted {}): {}",
            b.id,
            ui::age(now - b.submitted_at),
            waiting.join(", ")
        ));
    }
    if !batches.is_empty() {
        ui::say("fetch their verdicts with: git hybrid review --collect");
    }
    if pending.is_empty() {
        ui::say("no unreviewed local output");
        return Ok(Status::Ok);
    }
    ui::out(format!(
        "{} generation{} with unreviewed local output:",
        pending.len(),
        ui::plural(pending.len())
    ));
    for g in &pending {
        let branch = g
            .branch
            .as_deref()
            .map(|b| b.trim_start_matches("refs/heads/"))
            .unwrap_or("-");
        ui::out(format!(
            "  {}  {:<24} model {:<20} {}/{} lines unreviewed  {}{}{}",
            g.id,
            branch,
            g.model.as_deref().unwrap_or("unknown"),
            g.uncovered,
            g.lines,
            ui::age(now - g.created_at),
            match g.check {
                crate::store::CheckState::NotRun => String::new(),
                state => format!("  check {state}"),
            },
            g.recorded_by
                .as_deref()
                .map(|by| format!("  by {by}"))
                .unwrap_or_default()
        ));
        if let Some(id) = in_batch(g.branch.as_deref()) {
            ui::out(format!("      its review is waiting in batch {id}"));
        }
    }
    let first = &pending[0];
    let target = first
        .branch
        .as_deref()
        .map(|b| b.trim_start_matches("refs/heads/").to_string())
        .unwrap_or_else(|| crate::ui::abbrev(&first.result_commit, 10).to_string());
    ui::say(format!("review one with: git hybrid review {target}"));
    Ok(Status::Ok)
}
