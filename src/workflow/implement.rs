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
}

/// What happens while the job runs.
pub enum Event<'a> {
    /// The job was queued and handed to the daemon with this pid.
    Queued { job: i64, pid: u32 },
    /// Generation progress, for a spinner.
    Progress(&'a str),
}

/// Where the job ran, and what it made.
pub enum Ran {
    Here(Implemented),
    Daemon(JobResult),
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
    if job.engine.backend == BackendKind::Embedded && !job.no_daemon && !cloud {
        match Client::connect() {
            Ok(client) => return via_daemon(client, repo, job, events),
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
            job_id: None,
            route: Some(serde_json::to_value(job.decision).map_err(Error::from)?),
            onto: None,
            check: job.engine.check.as_ref(),
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
        check: job.engine.check.clone(),
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
