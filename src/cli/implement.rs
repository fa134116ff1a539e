//! `git hybrid implement SPEC [--branch B] [--model M] [--backend embedded|openai]`: a local
//! model implements a spec onto a quarantine branch.

use std::path::PathBuf;

use super::Status;
use super::args::{EngineArgs, RouteArg};
use crate::error::CommandError;
use crate::route;
use crate::spec::Spec;
use crate::store::CheckRecord;
use crate::ui;
use crate::workflow::implement::{self, Event, Job, Ran};

/// Has a local model implement a spec, as a commit on a new hybrid/<slug> branch.
///
/// The commit is built from HEAD without touching your working tree, index or HEAD, carries the
/// trailers Hybrid-Generation, Hybrid-Model and Hybrid-Spec, and is recorded as local output: the
/// gate blocks it from protected branches until a review approves it.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The spec (Markdown) to implement
    spec: PathBuf,
    /// The quarantine branch to create [default: hybrid/<slug of the spec's title>]
    #[arg(long)]
    branch: Option<String>,
    #[command(flatten)]
    engine: EngineArgs,
    /// Who implements it: auto (by the kind of task — CRUD, handlers, tests and docs go local,
    /// architecture and security-critical code to Claude — and its size), local, or cloud
    /// (Claude, needs ANTHROPIC_API_KEY)
    #[arg(long, value_enum, default_value_t = RouteArg::Auto)]
    route: RouteArg,
    /// Implement even when `git hybrid spec lint` finds problems in the spec
    #[arg(long)]
    force: bool,
    /// Run here even when a daemon runs (by default the daemon runs embedded jobs, with its
    /// model already loaded)
    #[arg(long)]
    no_daemon: bool,
    /// Also print the result as JSON on stdout: {"version": 1, "spec", "branch", "commit",
    /// "generation", "files", "attempts", "tokens_in", "tokens_out", "first_token_ms",
    /// "wall_ms", "left_out", "check": {"state", "command", "status", "runs", "output"},
    /// "by_daemon", "reused_tokens" (a daemon's job: prompt tokens its warm model already held)}
    /// (a daemon's job leaves out what it does not report)
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
    let engine = args.engine.engine(&settings)?;
    let top = repo.worktree().ok_or_else(|| {
        CommandError::user("implement needs a repository with a working tree (this one is bare)")
    })?;
    let spec = Spec::read(top, &args.spec)?;
    // Vague specs are where local models fail: refuse them before spending a generation.
    let problems = crate::spec::lint_in(&repo, &spec.text);
    if !problems.is_empty() {
        for p in &problems {
            ui::say(format!("{}: {p}", spec.path));
        }
        if !args.force {
            return Err(CommandError::user(format!(
                "{} is too vague for a local model ({} problem{})",
                spec.path,
                problems.len(),
                ui::plural(problems.len())
            ))
            .hint("make the spec precise (see above), or pass --force to implement it anyway"));
        }
    }
    let flag = format!("--route {}", args.route.name());
    let decision = implement::decide(
        &spec,
        &settings,
        args.route.forced().map(|side| (side, flag.as_str())),
    );
    ui::say(format!(
        "route: {} ({})",
        if decision.side == route::Side::Cloud {
            "Claude"
        } else {
            "local model"
        },
        decision.reasons.join("; ")
    ));
    let bar = ui::spinner();
    let ran = implement::run(
        &repo,
        &settings,
        &Job {
            spec: &spec,
            engine: &engine,
            decision: &decision,
            branch: args.branch.as_deref(),
            no_daemon: args.no_daemon,
            cancel: None,
        },
        &mut |event| match event {
            Event::Queued { job, pid } => {
                bar.suspend(|| ui::say(format!("job {job} goes to the daemon (pid {pid})")))
            }
            Event::Progress(m) => bar.set_message(m.to_string()),
            Event::Note(m) => bar.suspend(|| ui::say(m)),
        },
    );
    bar.finish_and_clear();
    let ran = ran?;
    match &ran {
        Ran::Here(done) => report_here(&spec, done),
        Ran::Daemon(result) => report_daemon(&spec, result),
    }
    if args.json {
        ui::out(serde_json::to_string(&ran.report(&spec))?);
    }
    let (branch, check) = ran.branch_and_check();
    Ok(report_check(branch, check))
}

/// What the check said of the committed answer; a failing one makes the command fail, though
/// the branch stays so the work can be inspected and fixed.
fn report_check(branch: &str, check: Option<&CheckRecord>) -> Status {
    let Some(check) = check else {
        return Status::Ok;
    };
    if check.passed {
        ui::say(format!("check {}", check.summary()));
        return Status::Ok;
    }
    ui::say(format!("check {}; its output:", check.summary()));
    for line in check.output.lines() {
        ui::say(format!("  {line}"));
    }
    ui::say(format!(
        "{branch} was created, but its check still fails: see `git hybrid show {branch}`, fix it by hand, or implement again with a more precise spec"
    ));
    Status::Failed
}

fn report_here(spec: &Spec, done: &crate::local::implement::Implemented) {
    for path in &done.left_out {
        ui::say(format!(
            "left out of the context (over --context-tokens): {path}"
        ));
    }
    let generating = done.wall.saturating_sub(done.first_token).as_secs_f64();
    let speed = if generating > 0.0 {
        done.tokens_out.saturating_sub(1) as f64 / generating
    } else {
        0.0
    };
    ui::say(format!(
        "implemented {} on {} ({}): {} file{} in {} attempt{}, {} tokens in, {} out, first token after {} ms, {:.1} tok/s",
        spec.path,
        done.branch,
        &done.commit.to_string()[..10],
        done.files.len(),
        ui::plural(done.files.len()),
        done.attempts,
        ui::plural(done.attempts),
        done.tokens_in,
        done.tokens_out,
        done.first_token.as_millis(),
        speed
    ));
    for f in &done.files {
        ui::say(format!("  {f}"));
    }
    ui::say(format!(
        "generation {} is local output; review it with: git hybrid review {}",
        done.generation_id, done.branch
    ));
}

fn report_daemon(spec: &Spec, result: &crate::daemon::protocol::JobResult) {
    let branch = result.branch.as_str();
    ui::say(format!(
        "implemented {} on {branch} ({}) by the daemon{}: {} tokens in, {} out, first token after {} ms",
        spec.path,
        result.commit.get(..10).unwrap_or_default(),
        if result.model_reused {
            ", model already loaded"
        } else {
            ""
        },
        result.tokens_in,
        result.tokens_out,
        result.first_token_ms
    ));
    ui::say(format!(
        "generation {} is local output; review it with: git hybrid review {branch}",
        result.generation
    ));
}
