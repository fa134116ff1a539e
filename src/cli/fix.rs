//! `git hybrid fix <branch>`: the local model fixes the latest review's findings on the same
//! branch, and only the interdiff is reviewed again.

use super::Status;
use crate::error::CommandError;
use crate::store::Store;
use crate::ui;

/// Fixes the findings of the branch's latest `request_changes` verdict with the local model (a
/// new generation on the same branch), then reviews only the fix, with the previous review as
/// context. Repeats up to --rounds times; exits 0 once approved.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The quarantine branch that was reviewed
    branch: String,
    /// Fix-and-re-review rounds at most
    #[arg(long, default_value_t = 2)]
    rounds: usize,
    #[command(flatten)]
    engine: super::implement::EngineArgs,
}

pub fn run(args: Args) -> Result<Status, CommandError> {
    let (repo, settings) = super::open()?;
    let mut backend = args.engine.backend()?;
    let mut store = Store::open(&Store::path_for(repo.common_dir()))?;
    let branch = args.branch.trim_start_matches("refs/heads/").to_string();
    // What reviewing this branch has cost so far: the yardstick for the cheaper re-review.
    let reviewed_usd: f64 = store
        .usage_since(0)?
        .iter()
        .filter(|r| r.phase == "review")
        .filter_map(|r| r.usd)
        .sum();
    let bar = ui::spinner();
    let outcome = crate::fix::run(
        &repo,
        &settings,
        &mut store,
        backend.as_mut(),
        &branch,
        args.rounds,
        args.engine.context_tokens,
        &|m| bar.set_message(m.to_string()),
    );
    bar.finish_and_clear();
    let outcome = outcome?;
    for (i, r) in outcome.rounds.iter().enumerate() {
        ui::say(format!(
            "round {}: fix {} — re-review {} ({} finding{}, ${:.4}{})",
            i + 1,
            &r.commit[..10],
            if r.approved {
                "approved"
            } else {
                "requested changes"
            },
            r.findings,
            if r.findings == 1 { "" } else { "s" },
            r.usd,
            if reviewed_usd > 0.0 {
                format!(
                    ", {:.2}x what the reviews before it cost",
                    r.usd / reviewed_usd
                )
            } else {
                String::new()
            }
        ));
    }
    if outcome.approved {
        ui::say(format!("{branch} is approved: the gate lets it through"));
        Ok(Status::Ok)
    } else {
        ui::say(format!(
            "{branch} is still not approved after {} round{}: see `git hybrid show {branch}`, fix by hand or run fix again",
            outcome.rounds.len(),
            if outcome.rounds.len() == 1 { "" } else { "s" }
        ));
        Ok(Status::Failed)
    }
}
