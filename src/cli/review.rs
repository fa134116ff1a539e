//! `git hybrid review [<branch|A..B>|--staged] [--model M]`: a Claude review of a change; an
//! approval is what opens the gate.

use super::Status;
use crate::change::Change;
use crate::cloud::batch::{self, Collected};
use crate::cloud::review::{self, PartFailure};
use crate::error::CommandError;
use crate::store::Store;
use crate::ui;
use crate::workflow::{self, review::Planned, review::Reviewer};

/// Reviews a change with Claude and records the verdict; an approval lets the gate pass it.
///
/// By default the current branch is reviewed against its merge-base with the default branch.
/// Needs ANTHROPIC_API_KEY (and honours ANTHROPIC_BASE_URL). Secrets are redacted before
/// sending and files matched by .hybridignore are withheld. Exits 0 when approved, 1 otherwise.
///
/// With --batch the reviews go through the Message Batches API at half the price, answered
/// within 24 hours; `review --collect` fetches the finished ones (exit 0 when every review it
/// concluded was approved and no batch is still running), and `pending` lists those in flight.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Branches (against their merge-base with the default branch) or ranges A..B; several only
    /// with --batch
    #[arg(conflicts_with_all = ["staged", "collect"])]
    targets: Vec<String>,
    /// Review the staged changes (HEAD to the index) instead
    #[arg(long)]
    staged: bool,
    /// Submit through the Message Batches API (half price, answered within 24 hours)
    #[arg(long, conflicts_with = "collect")]
    batch: bool,
    /// Fetch the reviews of finished batches and record their verdicts
    #[arg(long)]
    collect: bool,
    /// With --collect: wait until every batch has ended (polls every GIT_HYBRID_BATCH_POLL
    /// seconds, default 30)
    #[arg(long, requires = "collect")]
    wait: bool,
    /// The reviewer model [default: claude-opus-5-5, or `[review] model` in .hybrid.toml,
    /// git config hybrid.reviewModel, GIT_HYBRID_REVIEW_MODEL]
    #[arg(long)]
    model: Option<String>,
    /// Tokens of diff per request; larger changes are reviewed in parts [default: 30000, or
    /// `[review] part_tokens`, hybrid.reviewPartTokens, GIT_HYBRID_REVIEW_PART_TOKENS]
    #[arg(long)]
    part_tokens: Option<usize>,
    /// Also print the outcome as JSON on stdout: {"version": 1, "target", "change_id",
    /// "approved", "usd", "verdict_id", "withheld", "redactions", "local_findings", "parts":
    /// [{"index", "files", "decision", "summary", "findings"} or {"index", "files", "error"}]}
    #[arg(long, conflicts_with_all = ["batch", "collect"])]
    json: bool,
    /// The verdict's lines go to stderr (another command's result owns stdout).
    #[arg(skip)]
    verdict_to_stderr: bool,
}

impl Args {
    /// One immediate review of `target`, as another command asks for it; its verdict lines go
    /// to stderr.
    pub(super) fn of(target: &str) -> Args {
        Args {
            targets: vec![target.to_string()],
            staged: false,
            batch: false,
            collect: false,
            wait: false,
            model: None,
            part_tokens: None,
            json: false,
            verdict_to_stderr: true,
        }
    }
}

pub fn run(args: Args) -> Result<Status, CommandError> {
    // What it recorded goes to the records ref, and to the remote, whatever the outcome.
    let result = record(args);
    super::sync::publish_after();
    result
}

pub(super) fn record(args: Args) -> Result<Status, CommandError> {
    let (repo, settings) = super::open()?;
    let mut store = Store::open_for(&repo)?;
    if args.collect {
        return collect(&mut store, args.wait);
    }
    if args.targets.len() > 1 && !args.batch {
        return Err(
            CommandError::user("several targets are reviewed only as a batch")
                .hint("add --batch, or review them one at a time"),
        );
    }
    let model = args
        .model
        .clone()
        .unwrap_or_else(|| settings.review_model.clone());
    let part_tokens = workflow::review::part_tokens(&settings, args.part_tokens)?;
    let targets: Vec<Option<&str>> = if args.targets.is_empty() {
        vec![None]
    } else {
        args.targets.iter().map(|t| Some(t.as_str())).collect()
    };
    let mut prepared = Vec::new();
    for target in targets {
        let found = prepare(
            &repo,
            &settings,
            &store,
            target,
            args.staged,
            &Reviewer {
                model: &model,
                part_tokens,
            },
        )?;
        let Some((label, change, p)) = found else {
            continue;
        };
        if let Some(batch) = store.open_batch_of(&p.plan.change_id)? {
            if args.batch {
                ui::say(format!(
                    "{label}: change {} is already in batch {batch}; collect it with `git hybrid review --collect`",
                    crate::ui::abbrev(&p.plan.change_id, 16)
                ));
                continue;
            }
            ui::say(format!(
                "note: change {} is also in batch {batch}, not yet collected",
                crate::ui::abbrev(&p.plan.change_id, 16)
            ));
        }
        prepared.push((label, change, p));
    }
    if args.batch {
        return submit(&mut store, prepared);
    }
    let Some((target, change, prepared)) = prepared.pop() else {
        return Ok(Status::Ok);
    };
    let bar = ui::spinner();
    let outcome = review::send(&mut store, prepared, &|m| bar.set_message(m.to_string()));
    bar.finish_and_clear();
    let outcome = outcome?;
    let (added, removed) = change.line_counts();
    let answered = outcome.parts.iter().filter(|p| p.usage.is_some()).count();
    if answered == 0 {
        // Nothing reached the reviewer: say so, not "reviewed".
        ui::say(format!(
            "could not review {target} (change {}): no part of it reached {model}",
            crate::ui::abbrev(&outcome.change_id, 16)
        ));
    } else {
        ui::say(format!(
            "reviewed {target} (change {}): {} file{}, +{added} -{removed}, {} of {} part{} answered by {}",
            crate::ui::abbrev(&outcome.change_id, 16),
            change.files.len(),
            ui::plural(change.files.len()),
            answered,
            outcome.parts.len(),
            ui::plural(outcome.parts.len()),
            model
        ));
    }
    if args.json {
        ui::out(crate::workflow::review::outcome_json(&target, &outcome).to_string());
    }
    let unsent_local = store
        .local_matches(&outcome.unsent.iter().copied().collect())?
        .len();
    report(&outcome, args.json || args.verdict_to_stderr, unsent_local)
}

/// Finds the change a target names and prepares its review, saying what was found before
/// anything is sent. `None` when there is nothing to review or it is already approved.
fn prepare(
    repo: &crate::git::Repo,
    settings: &crate::config::Settings,
    store: &Store,
    target: Option<&str>,
    staged: bool,
    reviewer: &Reviewer<'_>,
) -> Result<Option<(String, Change, review::Prepared)>, CommandError> {
    let ready = match workflow::review::plan(repo, settings, store, target, staged, reviewer)? {
        Planned::Nothing { label } => {
            ui::say(format!(
                "{label}: nothing to review (no change against its base)"
            ));
            return Ok(None);
        }
        Planned::Approved { label, change_id } => {
            ui::say(format!(
                "{label}: change {} is already approved",
                crate::ui::abbrev(&change_id, 16)
            ));
            return Ok(None);
        }
        Planned::Uncounted {
            label,
            change_id,
            signers,
        } => {
            return Err(CommandError::user(format!(
                "{label}: change {} is approved here, but by no signer {signers} lists, so the server and CI do not count it",
                crate::ui::abbrev(&change_id, 16)
            ))
            .hint(format!(
                "a signer {signers} lists reviews it in a clone that signs (git config gpg.format ssh; git config user.signingkey <key>)"
            )));
        }
        Planned::Ready(ready) => *ready,
    };
    if let Some(signers) = &ready.reviewing_again_for {
        ui::say(format!(
            "{}: approved here, but by no signer {signers} lists; reviewing it so an approval that counts exists",
            ready.label
        ));
    }
    if let Some(path) = &ready.unreadable_spec {
        ui::warn(format!(
            "the spec {path} cannot be read; reviewing without it"
        ));
    }
    // Everything found before sending is said before sending.
    let plan = &ready.prepared.plan;
    if plan.redactions > 0 {
        ui::say(format!(
            "{} secret{} redacted before sending",
            plan.redactions,
            ui::plural(plan.redactions)
        ));
    }
    for path in &plan.withheld {
        ui::say(format!(
            "not reviewed: {path} (withheld by .hybridignore; its lines stay unapproved)"
        ));
    }
    for f in &plan.local_findings {
        ui::say(format!("  {}:{} {}", f.path, f.line, f.describe()));
    }
    Ok(Some((ready.label, ready.change, ready.prepared)))
}

/// Each part's answer, then whether the gate now lets the change through.
/// `unsent_local` is how many lines of local output the requests could not carry as written.
fn report(
    outcome: &review::Outcome,
    json: bool,
    unsent_local: usize,
) -> Result<Status, CommandError> {
    // The verdict is the command's result: stdout, unless stdout holds the JSON document.
    let verdict = |line: String| {
        if json { ui::say(line) } else { ui::out(line) }
    };
    let mut failures = Vec::new();
    for part in &outcome.parts {
        let label = if outcome.parts.len() > 1 {
            format!("part {} ({})", part.index + 1, part.files.join(", "))
        } else {
            "review".to_string()
        };
        match &part.result {
            Ok(v) => {
                verdict(format!("{label}: {} — {}", v.decision.as_str(), v.summary));
                for f in v.findings.iter().map(review::finding_row) {
                    verdict(format!("  {}:{} {}", f.path, f.line, f.describe()));
                }
            }
            Err(e) => {
                verdict(format!("{label}: not reviewed: {e}"));
                failures.push(e);
            }
        }
    }
    if outcome.approved && unsent_local > 0 {
        // Approved is what was sent; lines that were not sent as written stay unapproved.
        verdict(format!(
            "approved what was sent (${:.4}), but {unsent_local} line{} of local output {} not sent as written (a secret redacted, or a withheld file): {} unapproved, and the gate still blocks {}",
            outcome.usd,
            ui::plural(unsent_local),
            if unsent_local == 1 { "was" } else { "were" },
            if unsent_local == 1 {
                "it stays"
            } else {
                "they stay"
            },
            if unsent_local == 1 { "it" } else { "them" },
        ));
        verdict("  to get past: move the secret out of the code (an environment variable, a file git ignores), or rewrite the line yourself: a line you write is human work".to_string());
        return Ok(Status::Failed);
    }
    if outcome.approved {
        verdict(format!(
            "approved: the gate now lets change {} through (${:.4})",
            crate::ui::abbrev(&outcome.change_id, 16),
            outcome.usd
        ));
        return Ok(Status::Ok);
    }
    verdict(format!(
        "not approved (${:.4}); the gate still blocks this change",
        outcome.usd
    ));
    if let Some(e) = failures.first() {
        return Err(part_error(e));
    }
    Ok(Status::Failed)
}

fn submit(
    store: &mut Store,
    prepared: Vec<(String, Change, review::Prepared)>,
) -> Result<Status, CommandError> {
    if prepared.is_empty() {
        return Ok(Status::Ok);
    }
    let labels: Vec<String> = prepared.iter().map(|(l, _, _)| l.clone()).collect();
    let bar = ui::spinner();
    bar.set_message("submitting the batch");
    let submitted = batch::submit(store, prepared.into_iter().map(|(_, _, p)| p).collect());
    bar.finish_and_clear();
    let submitted = submitted?;
    ui::say(format!(
        "submitted {} for review at half price: batch {} ({} request{}{})",
        labels.join(", "),
        submitted.id,
        submitted.requests,
        ui::plural(submitted.requests),
        submitted
            .expires_at
            .as_deref()
            .map(|e| format!(", expires {e}"))
            .unwrap_or_default()
    ));
    ui::say(
        "the gate blocks these changes until then; fetch the verdicts with: git hybrid review --collect",
    );
    Ok(Status::Ok)
}

fn collect(store: &mut Store, wait: bool) -> Result<Status, CommandError> {
    let waiting = ui::Waiting::new();
    let found = batch::collect(store, wait, &|m| waiting.set(m));
    waiting.finish();
    let found = found?;
    if found.is_empty() {
        ui::say("no review batches in flight");
        return Ok(Status::Ok);
    }
    let now = crate::store::now_secs();
    let mut status = Status::Ok;
    for c in found {
        match c {
            Collected::Running {
                id,
                counts,
                submitted_at,
                targets,
            } => {
                ui::say(format!(
                    "batch {id} ({}): still running, submitted {}; {} done, {} to go",
                    targets.join(", "),
                    ui::age(now - submitted_at),
                    counts.succeeded + counts.errored + counts.canceled + counts.expired,
                    counts.processing
                ));
                status = Status::Failed;
            }
            Collected::Lost { id, why, targets } => {
                ui::say(format!(
                    "batch {id} ({}): lost — {why}; review again: git hybrid review --batch {}",
                    targets.join(", "),
                    targets.join(" ")
                ));
                status = Status::Failed;
            }
            Collected::Ended { id, reviews } => {
                for (r, outcome) in reviews {
                    ui::say(format!(
                        "reviewed {} (change {}) in batch {id}, in {} part{}",
                        r.target,
                        crate::ui::abbrev(&r.change_id, 16),
                        outcome.parts.len(),
                        ui::plural(outcome.parts.len()),
                    ));
                    let unsent_local = store
                        .local_matches(&outcome.unsent.iter().copied().collect())?
                        .len();
                    match report(&outcome, false, unsent_local) {
                        Ok(Status::Ok) => {}
                        Ok(Status::Failed) => status = Status::Failed,
                        Err(e) => {
                            // One review's failure must not hide the others' verdicts.
                            ui::say(format!(
                                "  {}; review it again: git hybrid review --batch {}",
                                e.message, r.target
                            ));
                            status = Status::Failed;
                        }
                    }
                }
            }
        }
    }
    Ok(status)
}

/// The first failed part, as the command's error: says why nothing was approved and what to do.
fn part_error(e: &PartFailure) -> CommandError {
    let err = CommandError::user(format!("nothing was approved: {e}"));
    match e {
        PartFailure::Call(call) => err.hint(crate::error::client_hint(call)),
        PartFailure::Answer(_) => err.hint(
            "the answer was not a usable verdict; run the review again, or try another --model",
        ),
    }
}
