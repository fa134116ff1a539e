//! `git hybrid pending`: local output that no approval covers yet, by generation.

use serde_json::json;

use super::Status;
use crate::error::CommandError;
use crate::store::Store;
use crate::ui;

/// Lists local-model output not yet covered by an approved review: branch, model, lines, age.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON on stdout
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<Status, CommandError> {
    let repo = crate::git::Repo::open()?;
    let pending = match Store::open_existing(&Store::path_for(repo.common_dir()))? {
        Some(store) => store.pending_generations()?,
        None => Vec::new(),
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
                    "created_at": g.created_at,
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(rows));
        return Ok(Status::Ok);
    }
    if pending.is_empty() {
        ui::say("no unreviewed local output");
        return Ok(Status::Ok);
    }
    ui::say(format!(
        "{} generation{} with unreviewed local output:",
        pending.len(),
        if pending.len() == 1 { "" } else { "s" }
    ));
    for g in &pending {
        let branch = g
            .branch
            .as_deref()
            .map(|b| b.trim_start_matches("refs/heads/"))
            .unwrap_or("-");
        ui::say(format!(
            "  {}  {:<24} model {:<20} {}/{} lines unreviewed  {}",
            g.id,
            branch,
            g.model.as_deref().unwrap_or("unknown"),
            g.uncovered,
            g.lines,
            ui::age(now - g.created_at)
        ));
    }
    let first = &pending[0];
    let target = first
        .branch
        .as_deref()
        .map(|b| b.trim_start_matches("refs/heads/").to_string())
        .unwrap_or_else(|| first.result_commit[..10].to_string());
    ui::say(format!("review one with: git hybrid review {target}"));
    Ok(Status::Ok)
}
