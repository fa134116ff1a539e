//! Who implements a spec (routing) and where the job runs: here, with the engine asked for or
//! Claude, or in the daemon, which keeps the embedded model loaded between jobs.

use super::{BackendKind, Engine, Error};
use crate::config::Settings;
use crate::daemon::client::Client;
use crate::daemon::protocol::{Failure, ImplementJob, JobResult, Reply, Request};
use crate::git::Repo;
use crate::local::implement::{self, Implemented};
use crate::route::{self, Side};
use crate::spec::{Spec, paths_named};
use crate::store::Store;

/// Who implements `spec`: the side the user forced (with the flag that forced it), or routing's
/// own decision from the spec and the settings.
pub fn decide(spec: &Spec, settings: &Settings, forced: Option<(Side, &str)>) -> route::Decision {
    match forced {
        None => route::classify(&spec.text, paths_named(&spec.text).len(), &settings.route),
        Some((side, flag)) => route::Decision {
            side,
            reasons: vec![flag.to_string()],
        },
    }
}

/// What the job asks besides the spec.
pub struct Job<'a> {
    pub spec: &'a Spec,
    pub engine: &'a Engine,
    pub decision: &'a route::Decision,
    /// The quarantine branch to create; `None` derives it from the spec's title.
    pub branch: Option<&'a str>,
    /// Run here even when a daemon runs.
    pub no_daemon: bool,
    /// Stops the job when set, here or in the daemon.
    pub cancel: Option<&'a crate::backend::Cancel>,
}

/// What happens while the job runs.
pub enum Event<'a> {
    /// The job was queued and handed to the daemon with this pid.
    Queued { job: i64, pid: u32 },
    /// Generation progress, for a spinner.
    Progress(&'a str),
    /// Something the person running the job should read (which check runs).
    Note(&'a str),
}

/// Where the job ran, and what it made.
pub enum Ran {
    Here(Implemented),
    Daemon(JobResult),
}

/// What a finished job made, as `implement --json` prints it and the MCP `implement` tool
/// returns it. A daemon's job leaves out what it does not report (zero).
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct Report {
    /// Of this shape; bumped when a field changes meaning.
    pub version: u32,
    /// The spec's path, relative to the repository's top.
    pub spec: String,
    /// The quarantine branch (without refs/heads/) that holds the work.
    pub branch: String,
    pub commit: String,
    /// The generation id: what `show`, `review` and `pending` name.
    pub generation: String,
    /// The files the commit changes.
    pub files: Vec<String>,
    /// Answers the model gave (a malformed or failing answer is asked again).
    pub attempts: usize,
    pub tokens_in: u64,
    pub tokens_out: u64,
    /// From the job's start (a cold start includes loading the model).
    pub first_token_ms: u64,
    pub wall_ms: u64,
    /// Files left out of the model's context (over --context-tokens).
    pub left_out: Vec<String>,
    pub check: CheckReport,
    /// The daemon ran it, with its model kept loaded.
    pub by_daemon: bool,
    /// A daemon's job: prompt tokens its warm model already held.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reused_tokens: Option<u64>,
}

/// The check command's last run on the committed answer.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct CheckReport {
    /// passed, failed or not_run
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// `exit 0`, `exit 1`, `killed after 300 s`…
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runs: Option<u32>,
    /// Head and tail of its output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
}

impl CheckReport {
    fn of(check: Option<&crate::store::CheckRecord>) -> CheckReport {
        match check {
            None => CheckReport {
                state: crate::store::CheckState::NotRun.to_string(),
                command: None,
                status: None,
                runs: None,
                output: None,
            },
            Some(c) => CheckReport {
                state: c.state().to_string(),
                command: Some(c.command.clone()),
                status: Some(c.status.clone()),
                runs: Some(c.runs),
                output: Some(c.output.clone()),
            },
        }
    }
}

impl Ran {
    /// The quarantine branch and the check's last run, wherever the job ran.
    pub fn branch_and_check(&self) -> (&str, Option<&crate::store::CheckRecord>) {
        match self {
            Ran::Here(done) => (&done.branch, done.check.as_ref()),
            Ran::Daemon(result) => (&result.branch, result.check.as_ref()),
        }
    }

    pub fn report(&self, spec: &Spec) -> Report {
        match self {
            Ran::Here(done) => Report {
                version: 1,
                spec: spec.path.clone(),
                branch: done.branch.clone(),
                commit: done.commit.to_string(),
                generation: done.generation_id.clone(),
                files: done.files.clone(),
                attempts: done.attempts,
                tokens_in: done.tokens_in,
                tokens_out: done.tokens_out,
                first_token_ms: done.first_token.as_millis() as u64,
                wall_ms: done.wall.as_millis() as u64,
                left_out: done.left_out.clone(),
                check: CheckReport::of(done.check.as_ref()),
                by_daemon: false,
                reused_tokens: None,
            },
            Ran::Daemon(result) => Report {
                version: 1,
                spec: spec.path.clone(),
                branch: result.branch.clone(),
                commit: result.commit.clone(),
                generation: result.generation.clone(),
                files: result.files.clone(),
                attempts: result.attempts,
                tokens_in: result.tokens_in,
                tokens_out: result.tokens_out,
                first_token_ms: result.first_token_ms,
                wall_ms: result.wall_ms,
                left_out: result.left_out.clone(),
                check: CheckReport::of(result.check.as_ref()),
                by_daemon: true,
                reused_tokens: Some(result.reused_tokens),
            },
        }
    }
}

/// A job the daemon ran and refused: its failure as the daemon worded it, hints included.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.message)]
pub struct DaemonFailed(pub Failure);

/// Runs the job: in the daemon when one runs and the job is an embedded model's, else here.
pub fn run(
    repo: &Repo,
    settings: &Settings,
    job: &Job<'_>,
    events: &mut dyn FnMut(Event<'_>),
) -> Result<Ran, RunError> {
    let cloud = job.decision.side == Side::Cloud;
    let check = {
        let head = repo.head_tree().ok().flatten();
        let check = job.engine.check_for(job.spec, head.as_ref(), &repo.git);
        if let Some(label) = check.as_ref().and_then(|c| c.label.as_deref()) {
            events(Event::Note(&format!(
                "check: {label}, run on each answer (--check CMD to choose another, --no-check for none)"
            )));
        }
        check
    };
    if job.engine.backend == BackendKind::Embedded && !job.no_daemon && !cloud {
        match Client::connect() {
            Ok(client) => return via_daemon(client, repo, job, check, events),
            Err(crate::daemon::Error::NotRunning) => {}
            Err(e) => return Err(Error::from(e).into()),
        }
    }
    // From here: a run's first token counts the model's loading, as a cold daemon job's does.
    let started = std::time::Instant::now();
    if !cloud {
        events(Event::Progress(&format!(
            "loading {}",
            job.engine.model.as_deref().unwrap_or("the default model")
        )));
    }
    let mut backend: Box<dyn crate::backend::Backend> = if cloud {
        Box::new(
            crate::cloud::implementer::Claude::new(&settings.review_model).map_err(Error::from)?,
        )
    } else {
        job.engine.open()?
    };
    let loading = started.elapsed();
    let mut store = Store::open_for(repo).map_err(Error::from)?;
    let mut done = implement::implement(
        repo,
        settings,
        &mut store,
        backend.as_mut(),
        &implement::Request {
            spec: job.spec,
            branch: job.branch,
            context_tokens: job.engine.context_tokens,
            edit_format: job.engine.edit_format,
            job_id: None,
            route: Some(serde_json::to_value(job.decision).map_err(Error::from)?),
            onto: None,
            check: check.as_ref(),
            cancel: job.cancel,
        },
        &mut |m| events(Event::Progress(m)),
    )
    .map_err(Error::from)?;
    done.first_token += loading;
    done.wall += loading;
    Ok(Ran::Here(done))
}

/// Why a run failed: here, or in the daemon (whose failure arrives already worded).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Here(#[from] Error),
    #[error(transparent)]
    Daemon(#[from] DaemonFailed),
}

/// Hands the job to the daemon: it is queued in the repository's store first, so it survives the
/// daemon, and its progress is streamed back.
fn via_daemon(
    mut client: Client,
    repo: &Repo,
    job: &Job<'_>,
    check: Option<crate::local::implement::Check>,
    events: &mut dyn FnMut(Event<'_>),
) -> Result<Ran, RunError> {
    let top = repo
        .worktree()
        .ok_or(Error::Implement(implement::Error::Bare))?;
    let payload = ImplementJob {
        route: Some(serde_json::to_value(job.decision).map_err(Error::from)?),
        spec: job.spec.path.clone(),
        branch: job.branch.map(str::to_string),
        model: job.engine.model.clone(),
        context_tokens: job.engine.context_tokens,
        options: job.engine.options.clone(),
        check,
        edit_format: job.engine.edit_format,
    };
    let mut store = Store::open_for(repo).map_err(Error::from)?;
    let id = store
        .enqueue_job(
            "implement",
            &serde_json::to_string(&payload).map_err(Error::from)?,
        )
        .map_err(Error::from)?;
    drop(store);
    crate::daemon::remember_worktree(top).map_err(|source| {
        Error::from(crate::daemon::Error::Io {
            path: crate::daemon::runtime_dir(),
            source,
        })
    })?;
    events(Event::Queued {
        job: id,
        pid: client.daemon_pid,
    });
    client
        .send(&Request::Run {
            worktree: top.to_path_buf(),
            job: id,
        })
        .map_err(Error::from)?;
    let finished = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        if let Some(cancel) = job.cancel {
            scope.spawn(|| pass_cancel_on(cancel, &finished, top, id));
        }
        let outcome = wait_for_daemon(&mut client, events);
        finished.store(true, std::sync::atomic::Ordering::Relaxed);
        outcome
    })
}

fn wait_for_daemon(
    client: &mut Client,
    events: &mut dyn FnMut(Event<'_>),
) -> Result<Ran, RunError> {
    loop {
        match client.receive().map_err(Error::from)? {
            Reply::Progress { message } => events(Event::Progress(&message)),
            Reply::Done { result } => return Ok(Ran::Daemon(result)),
            Reply::Failed { error } => return Err(DaemonFailed(error).into()),
            other => {
                return Err(Error::from(crate::daemon::Error::Garbled(format!(
                    "unexpected answer: {other:?}"
                )))
                .into());
            }
        }
    }
}

/// Watches `cancel` while the daemon runs job `id`, and asks the daemon (on a connection of its
/// own: the job's is busy with progress) to stop the job once it is set — again until the daemon
/// says it is stopping it, since the request to run it may not have reached the daemon yet.
fn pass_cancel_on(
    cancel: &crate::backend::Cancel,
    finished: &std::sync::atomic::AtomicBool,
    top: &std::path::Path,
    id: i64,
) {
    while !finished.load(std::sync::atomic::Ordering::Relaxed) {
        if cancel.is_cancelled() {
            let request = Request::Cancel {
                worktree: top.to_path_buf(),
                job: id,
            };
            match Client::connect().and_then(|mut c| c.send(&request).and_then(|()| c.receive())) {
                Ok(Reply::Cancelling) => {
                    tracing::info!(job = id, "the daemon stops the job");
                    return;
                }
                Ok(reply) => tracing::debug!(job = id, ?reply, "the daemon does not run it yet"),
                Err(e) => {
                    tracing::warn!(job = id, error = %e, "could not ask the daemon to cancel")
                }
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
