//! `git hybrid fix <branch>`: the local model fixes the latest review's findings on the same
//! branch, and only the interdiff is reviewed again.

use super::Status;
use crate::error::CommandError;
use crate::route::Side;
use crate::store::Store;
use crate::ui;
use crate::workflow::fix::{Implementers, Routing};

/// Fixes the findings of the branch's latest `request_changes` verdict (a new generation on the
/// same branch), then reviews only the fix, with the previous review as context. Findings are
/// routed like tasks: security findings and Claude's kind of work go to Claude, the rest to the
/// local model. Repeats up to --rounds times; exits 0 once approved.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The quarantine branch that was reviewed
    branch: String,
    /// Fix-and-re-review rounds at most
    #[arg(long, default_value_t = 2)]
    rounds: usize,
    /// Who fixes the findings: auto (security and novel logic to Claude, the rest local),
    /// local (all of them by the local model) or cloud (all of them by Claude)
    #[arg(long, value_enum, default_value_t = super::args::RouteArg::Auto)]
    route: super::args::RouteArg,
    #[command(flatten)]
    engine: super::args::EngineArgs,
    /// Also print the result as JSON on stdout: {"version": 1, "branch", "approved",
    /// "rounds": [{"commit", "approved", "usd", "reviewed_usd", "findings", "fixed_locally",
    /// "fixed_by_claude"}]}
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<Status, CommandError> {
    // What it recorded goes to the records ref, and to the remote, whatever the outcome.
    let result = record(args);
    super::sync::publish_after();
    result
}

fn record(args: Args) -> Result<Status, CommandError> {
    let (repo, settings) = super::open()?;
    // Its re-review is cut by the part size: an unreadable one stops it before any fix.
    crate::workflow::review::part_tokens(&settings, None)?;
    let engine = args.engine.engine(&settings)?;
    let routing = args.route.forced().map_or(Routing::Auto, Routing::Forced);
    let bar = ui::spinner();
    // Loading a model takes seconds: said while it happens, and skipped when every finding
    // goes to Claude.
    let mut local = match routing {
        Routing::Forced(Side::Cloud) => None,
        _ => {
            bar.set_message("loading the local model");
            Some(engine.open()?)
        }
    };
    // Building Claude's client reads the key and sends nothing. Without a key there is no
    // Claude: findings routed to it then stop the fix with a hint, and so would the re-review.
    let mut cloud = match routing {
        Routing::Forced(Side::Local) => None,
        _ => match crate::cloud::implementer::Claude::new(&settings.review_model) {
            Ok(claude) => Some(claude),
            Err(crate::cloud::client::Error::NoKey) => None,
            Err(e) => return Err(e.into()),
        },
    };
    let mut store = Store::open_for(&repo)?;
    let branch = args.branch.trim_start_matches("refs/heads/").to_string();
    let outcome = crate::workflow::fix::run(
        &repo,
        &settings,
        &mut store,
        &mut Implementers {
            local: local
                .as_mut()
                .map(|l| l.as_mut() as &mut dyn crate::local::Backend),
            cloud: cloud.as_mut().map(|c| c as &mut dyn crate::local::Backend),
            routing,
            check: engine.check.as_ref(),
            edit_format: engine.edit_format,
        },
        &branch,
        args.rounds,
        engine.context_tokens,
        &|m| bar.set_message(m.to_string()),
    );
    bar.finish_and_clear();
    let outcome = outcome?;
    if args.json {
        let mut json = serde_json::to_value(&outcome)?;
        json["version"] = 1.into();
        json["branch"] = branch.clone().into();
        ui::out(json.to_string());
    }
    for (i, r) in outcome.rounds.iter().enumerate() {
        let who = match (r.fixed_locally, r.fixed_by_claude) {
            (_, 0) => "local model".to_string(),
            (0, _) => "Claude".to_string(),
            (l, c) => format!("local model {l}, Claude {c}"),
        };
        ui::say(format!(
            "round {}: fix {} ({who}) — re-review {} ({} finding{}, ${:.4}{})",
            i + 1,
            crate::ui::abbrev(&r.commit, 10),
            if r.approved {
                "approved"
            } else {
                "requested changes"
            },
            r.findings,
            ui::plural(r.findings),
            r.usd,
            match r.reviewed_usd {
                Some(before) if before > 0.0 => format!(
                    ", {:.2}x the review it answers (${before:.4})",
                    r.usd / before
                ),
                _ => String::new(),
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
            ui::plural(outcome.rounds.len())
        ));
        Ok(Status::Failed)
    }
}
