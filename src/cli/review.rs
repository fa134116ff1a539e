//! `git hybrid review [<branch|A..B>|--staged] [--model M]`: a Claude review of a change; an
//! approval is what opens the gate.

use super::Status;
use crate::change::Change;
use crate::cloud::review::{self, Options, PartFailure};
use crate::error::CommandError;
use crate::provenance::Range;
use crate::store::Store;
use crate::ui;

/// Reviews a change with Claude and records the verdict; an approval lets the gate pass it.
///
/// By default the current branch is reviewed against its merge-base with the default branch.
/// Needs ANTHROPIC_API_KEY (and honours ANTHROPIC_BASE_URL). Secrets are redacted before
/// sending and files matched by .hybridignore are withheld. Exits 0 when approved, 1 otherwise.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A branch (against its merge-base with the default branch) or a range A..B
    #[arg(conflicts_with = "staged")]
    target: Option<String>,
    /// Review the staged changes (HEAD to the index) instead
    #[arg(long)]
    staged: bool,
    /// The reviewer model [default: claude-opus-5-5, or `[review] model` in .hybrid.toml,
    /// git config hybrid.reviewModel, GIT_HYBRID_REVIEW_MODEL]
    #[arg(long)]
    model: Option<String>,
    /// Tokens of diff per request; larger changes are reviewed in parts [default: 30000, or
    /// `[review] part_tokens`, hybrid.reviewPartTokens, GIT_HYBRID_REVIEW_PART_TOKENS]
    #[arg(long)]
    part_tokens: Option<usize>,
}

pub fn run(args: Args) -> Result<Status, CommandError> {
    let (repo, settings) = super::open()?;
    let model = args.model.unwrap_or_else(|| settings.review_model.clone());
    let part_tokens = args.part_tokens.unwrap_or(settings.review_part_tokens);
    let (target, base, tip_commit, change) = if args.staged {
        let head = repo.head_tree()?;
        let index = repo.staged_index()?;
        let change = Change::tree_to_index(&repo.git, head.as_ref(), &index)?;
        let base = repo.git.head().ok().and_then(|h| h.target());
        ("--staged".to_string(), base, None, change)
    } else {
        let spec = match &args.target {
            Some(t) => t.clone(),
            None => repo
                .head_ref()
                .map(|r| r.trim_start_matches("refs/heads/").to_string())
                .unwrap_or_else(|| "HEAD".into()),
        };
        let range = Range::against_default(&repo, &spec, settings.default_branch.as_deref())?;
        let change = range.change(&repo)?;
        (spec, range.base, Some(range.tip), change)
    };
    if change.is_empty() {
        ui::say(format!(
            "{target}: nothing to review (no change against its base)"
        ));
        return Ok(Status::Ok);
    }
    let mut store = Store::open(&Store::path_for(repo.common_dir()))?;
    let change_id = change.id().to_string();
    if store.is_change_approved(&change_id)? {
        ui::say(format!(
            "{target}: change {} is already approved",
            &change_id[..16]
        ));
        return Ok(Status::Ok);
    }
    let spec = match tip_commit {
        Some(tip) => store.spec_for_commit(&tip.to_string())?,
        None => None,
    }
    .and_then(|path| {
        let text = repo
            .worktree()
            .and_then(|top| std::fs::read_to_string(top.join(&path)).ok());
        if text.is_none() {
            ui::say(format!(
                "warning: the spec {path} cannot be read; reviewing without it"
            ));
        }
        Some((path, text?))
    });
    let tip_tree = match tip_commit {
        Some(c) => Some(repo.tree_of(c)?.id()),
        None => None,
    };
    let options = Options {
        model: &model,
        phase: "review",
        part_tokens,
        spec,
        tip_tree,
        target: target.clone(),
        base_commit: base.map(|b| b.to_string()),
        tip_commit: tip_commit.map(|t| t.to_string()),
        worktree: repo.worktree(),
    };
    // Everything found before sending is said before sending.
    let prepared = review::prepare(&repo.git, &change, &options)?;
    if prepared.redactions > 0 {
        ui::say(format!(
            "{} secret{} redacted before sending",
            prepared.redactions,
            if prepared.redactions == 1 { "" } else { "s" }
        ));
    }
    for path in &prepared.withheld {
        ui::say(format!(
            "not reviewed: {path} (withheld by .hybridignore; its lines stay unapproved)"
        ));
    }
    for f in &prepared.local_findings {
        ui::say(format!("  {}:{} {}", f.path, f.line, f.describe()));
    }
    let bar = ui::spinner();
    let outcome = review::send(&mut store, prepared, &options, &|m| {
        bar.set_message(m.to_string())
    });
    bar.finish_and_clear();
    let outcome = outcome?;

    let (added, removed) = change.line_counts();
    ui::say(format!(
        "reviewed {target} (change {}): {} file{}, +{added} -{removed}, in {} part{} with {}",
        &outcome.change_id[..16],
        change.files.len(),
        if change.files.len() == 1 { "" } else { "s" },
        outcome.parts.len(),
        if outcome.parts.len() == 1 { "" } else { "s" },
        model
    ));
    let mut failures = Vec::new();
    for part in &outcome.parts {
        let label = if outcome.parts.len() > 1 {
            format!("part {} ({})", part.index + 1, part.files.join(", "))
        } else {
            "review".to_string()
        };
        match &part.result {
            Ok(v) => {
                ui::say(format!("{label}: {} — {}", v.decision.as_str(), v.summary));
                for f in v.findings.iter().map(review::finding_row) {
                    ui::say(format!("  {}:{} {}", f.path, f.line, f.describe()));
                }
            }
            Err(e) => {
                ui::say(format!("{label}: not reviewed: {e}"));
                failures.push(e);
            }
        }
    }
    let expected = outcome.parts.len().max(1);
    if outcome.approved {
        ui::say(format!(
            "approved: the gate now lets change {} through (${:.4})",
            &outcome.change_id[..16],
            outcome.usd
        ));
        return Ok(Status::Ok);
    }
    ui::say(format!(
        "not approved (${:.4}); the gate still blocks this change",
        outcome.usd
    ));
    if let Some(e) = failures.first() {
        return Err(part_error(e));
    }
    if outcome.verdict_id.is_none() && outcome.parts.len() < expected {
        ui::say("some parts were not reviewed");
    }
    Ok(Status::Failed)
}

/// The first failed part, as the command's error: says why nothing was approved and what to do.
fn part_error(e: &PartFailure) -> CommandError {
    use crate::cloud::client::Error as E;
    let err = CommandError::user(format!("nothing was approved: {e}"));
    match e {
        PartFailure::Call(E::NoKey) => err.hint("set ANTHROPIC_API_KEY to an Anthropic API key and run the review again"),
        PartFailure::Call(E::Auth { .. }) => err.hint("check ANTHROPIC_API_KEY: the API did not accept it"),
        PartFailure::Call(E::Api { status: 404, .. }) => err.hint("check the model id given with --model (or GIT_HYBRID_REVIEW_MODEL)"),
        PartFailure::Call(E::Timeout(_) | E::Exhausted { .. } | E::Connect(_)) => {
            err.hint("the API could not be reached in time; run the review again later (GIT_HYBRID_API_TIMEOUT sets the wait)")
        }
        PartFailure::Call(_) => err.hint("run the review again; `GIT_HYBRID_LOG=debug` shows each attempt"),
        PartFailure::Answer(_) => err.hint("the answer was not a usable verdict; run the review again, or try another --model"),
    }
}
