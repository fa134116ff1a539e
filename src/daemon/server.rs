//! The daemon process: a tokio accept loop on the Unix socket, one job at a time on a blocking
//! thread with the loaded model, an idle timer that unloads it, and, at start, the resumption of
//! jobs a killed daemon left behind.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;

use super::protocol::{Failure, ImplementJob, JobResult, PROTOCOL, Reply, Request};
use super::{Error, pid_path, runtime_dir, socket_path};
use crate::backend::Cancel;
use crate::config::Settings;
use crate::git::Repo;
use crate::local::embedded::Embedded;
use crate::local::implement;
use crate::local::models::Registry;
use crate::spec::Spec;
use crate::store::Store;
use crate::sys::alive;

/// Why a job failed, with its cause's type kept, so that the client can be told what to do next
/// (the hints are written where every error gets its hints, and passed in as `explain`).
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Daemon(#[from] Error),
    #[error(transparent)]
    Repo(#[from] crate::git::Error),
    #[error(transparent)]
    Store(#[from] crate::store::Error),
    #[error(transparent)]
    Spec(#[from] crate::spec::ReadError),
    #[error(transparent)]
    Config(#[from] crate::config::Error),
    #[error(transparent)]
    Model(#[from] crate::local::models::Error),
    #[error("the model could not be loaded: {0}")]
    Load(crate::backend::Error),
    #[error(transparent)]
    Implement(#[from] implement::Error),
    #[error("job {job} is unreadable: {message}")]
    Payload { job: i64, message: String },
    #[error("there is no job {0}")]
    NoJob(i64),
    #[error("job {job} is {state} under another daemon")]
    Busy {
        job: i64,
        state: crate::store::JobState,
    },
    #[error("the repository has no working tree")]
    Bare,
    #[error("the daemon's model slot is unusable after a job panicked: restart the daemon")]
    Poisoned,
    #[error("the job ran but its outcome could not be recorded: {0}")]
    Unrecorded(crate::store::Error),
}

/// Turns a job's error into what the client shows: message, hints and whether it is the user's
/// to fix.
pub type Explain = fn(JobError) -> Failure;

/// How long a loaded model stays loaded without a job.
fn idle_timeout() -> Duration {
    std::env::var("GIT_HYBRID_DAEMON_IDLE")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(600))
}

struct State {
    /// The loaded model, by path; one job uses it at a time.
    model: Mutex<Option<(PathBuf, Embedded)>>,
    last_used: Mutex<Instant>,
    started: Instant,
    jobs_done: AtomicU64,
    explain: Explain,
    /// The jobs clients wait for, by worktree and id, with the switch that stops each.
    running: Mutex<Vec<(PathBuf, i64, Cancel)>>,
}

/// Runs the daemon in the foreground until asked to stop. `explain` words a failed job for its
/// client.
pub fn run(explain: Explain) -> Result<(), Error> {
    let dir = runtime_dir();
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    super::private_dir(&dir)?;
    // The pid file stays locked for the daemon's whole life: a second daemon cannot start.
    let pid_file = pid_path();
    let mut lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&pid_file)
        .map_err(io(&pid_file))?;
    if lock.try_lock().is_err() {
        return Err(Error::AlreadyRunning(pid_file));
    }
    lock.set_len(0).map_err(io(&pid_file))?;
    writeln!(lock, "{}", std::process::id()).map_err(io(&pid_file))?;
    let socket = socket_path();
    // Only the lock holder gets here, so a socket file left by a killed daemon is stale.
    let _ = std::fs::remove_file(&socket);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(io(&socket))?;
    let state = Arc::new(State {
        model: Mutex::new(None),
        last_used: Mutex::new(Instant::now()),
        started: Instant::now(),
        jobs_done: AtomicU64::new(0),
        explain,
        running: Mutex::new(Vec::new()),
    });
    let result = runtime.block_on(serve(&socket, Arc::clone(&state)));
    let _ = std::fs::remove_file(&socket);
    drop(lock);
    result
}

async fn serve(socket: &Path, state: Arc<State>) -> Result<(), Error> {
    let listener = UnixListener::bind(socket).map_err(|source| Error::Io {
        path: socket.to_path_buf(),
        source,
    })?;
    // The folder (0700) already keeps others out; the socket is narrowed too, whatever the umask.
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o600)).map_err(
            |source| Error::Io {
                path: socket.to_path_buf(),
                source,
            },
        )?;
    }
    tracing::info!(socket = %socket.display(), pid = std::process::id(), "daemon listening");
    // Jobs a killed daemon left behind, in every repository that ever sent one.
    {
        let state = Arc::clone(&state);
        tokio::task::spawn_blocking(move || resume_all(&state));
    }
    // Unload the model after a while without jobs.
    {
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(5)).await;
                let idle = state
                    .last_used
                    .lock()
                    .map(|t| t.elapsed())
                    .unwrap_or_default();
                if idle > idle_timeout()
                    && let Ok(mut model) = state.model.try_lock()
                    && model.take().is_some()
                {
                    tracing::info!(?idle, "model unloaded");
                }
            }
        });
    }
    let (stop_tx, mut stop_rx) = mpsc::channel::<()>(1);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let state = Arc::clone(&state);
                let stop = stop_tx.clone();
                tokio::spawn(async move {
                    if let Err(e) = connection(stream, state, stop).await {
                        tracing::warn!(error = %e, "client connection ended");
                    }
                });
            }
            _ = stop_rx.recv() => {
                tracing::info!("daemon stopping");
                return Ok(());
            }
        }
    }
}

async fn send(stream: &mut tokio::net::unix::OwnedWriteHalf, reply: &Reply) -> std::io::Result<()> {
    let mut line = serde_json::to_string(reply).map_err(std::io::Error::other)?;
    line.push('\n');
    stream.write_all(line.as_bytes()).await
}

async fn connection(
    stream: UnixStream,
    state: Arc<State>,
    stop: mpsc::Sender<()>,
) -> std::io::Result<()> {
    // Only this user's processes may talk to it, whatever the file modes say.
    let peer = stream.peer_cred()?.uid();
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    if peer != crate::sys::euid() {
        tracing::warn!(peer, "refused a connection from another user");
        // The refusal answers the client's first line, as any reply does: closing before it was
        // read would break the client's write instead of telling it why.
        let _ = tokio::time::timeout(Duration::from_secs(2), lines.next_line()).await;
        send(
            &mut write,
            &Reply::Refused {
                message: format!("this daemon serves uid {} only", crate::sys::euid()),
            },
        )
        .await?;
        return Ok(());
    }
    let mut greeted = false;
    while let Some(line) = lines.next_line().await? {
        let request: Request = match serde_json::from_str(&line) {
            Ok(r) => r,
            Err(e) => {
                send(
                    &mut write,
                    &Reply::Refused {
                        message: format!("unreadable request: {e}"),
                    },
                )
                .await?;
                return Ok(());
            }
        };
        match request {
            Request::Hello { protocol, .. } => {
                send(
                    &mut write,
                    &Reply::Hello {
                        protocol: PROTOCOL,
                        version: env!("CARGO_PKG_VERSION").to_string(),
                        pid: std::process::id(),
                    },
                )
                .await?;
                if protocol != PROTOCOL {
                    // The client sees the version in the hello and explains; nothing else is said.
                    return Ok(());
                }
                greeted = true;
            }
            _ if !greeted => {
                send(
                    &mut write,
                    &Reply::Refused {
                        message: "say hello first".into(),
                    },
                )
                .await?;
                return Ok(());
            }
            Request::Status => {
                let model = state
                    .model
                    .try_lock()
                    .ok()
                    .and_then(|m| m.as_ref().map(|(p, _)| p.display().to_string()));
                send(
                    &mut write,
                    &Reply::Status {
                        pid: std::process::id(),
                        uptime_s: state.started.elapsed().as_secs(),
                        model,
                        jobs_done: state.jobs_done.load(Ordering::Relaxed),
                    },
                )
                .await?;
            }
            Request::Stop => {
                send(&mut write, &Reply::Stopping).await?;
                let _ = stop.send(()).await;
                return Ok(());
            }
            Request::Cancel { worktree, job } => {
                let found = state.running.lock().ok().and_then(|running| {
                    running
                        .iter()
                        .find(|(w, j, _)| *w == worktree && *j == job)
                        .map(|(_, _, cancel)| cancel.clone())
                });
                let reply = match found {
                    Some(cancel) => {
                        cancel.cancel();
                        Reply::Cancelling
                    }
                    None => Reply::Refused {
                        message: format!("job {job} is not running in this daemon"),
                    },
                };
                send(&mut write, &reply).await?;
            }
            Request::Run { worktree, job } => {
                let (tx, mut rx) = mpsc::unbounded_channel::<Reply>();
                let state = Arc::clone(&state);
                let cancel = Cancel::default();
                if let Ok(mut running) = state.running.lock() {
                    running.push((worktree.clone(), job, cancel.clone()));
                }
                let worker = tokio::task::spawn_blocking(move || {
                    let progress = tx.clone();
                    let outcome = run_job(&state, &worktree, job, &cancel, &mut |m| {
                        let _ = progress.send(Reply::Progress {
                            message: m.to_string(),
                        });
                    });
                    if let Ok(mut running) = state.running.lock() {
                        running.retain(|(w, j, _)| !(*w == worktree && *j == job));
                    }
                    let _ = tx.send(match outcome {
                        Ok(result) => Reply::Done { result },
                        Err(error) => Reply::Failed {
                            error: (state.explain)(error),
                        },
                    });
                });
                while let Some(reply) = rx.recv().await {
                    // A client that went away does not stop the job: it finishes, recorded.
                    let _ = send(&mut write, &reply).await;
                }
                let _ = worker.await;
            }
        }
    }
    Ok(())
}

/// A job's spec: resolved (symlinks followed) inside the worktree, and this user's own file.
fn inside(top: &Path, relative: &str) -> Result<PathBuf, Error> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    let top = top.canonicalize().map_err(io(top))?;
    let joined = top.join(relative);
    let resolved = joined.canonicalize().map_err(io(&joined))?;
    if !resolved.starts_with(&top) {
        return Err(Error::Outside {
            path: joined,
            what: "the spec",
            within: "its repository",
        });
    }
    super::owned_by_me(&resolved, "the spec")?;
    Ok(resolved)
}

/// Runs (or resumes) one job to its end and records the outcome in the job's store.
fn run_job(
    state: &State,
    worktree: &Path,
    job_id: i64,
    cancel: &Cancel,
    progress: &mut dyn FnMut(&str),
) -> Result<JobResult, JobError> {
    super::owned_by_me(worktree, "the worktree")?;
    let repo = Repo::at(worktree)?;
    super::owned_by_me(repo.common_dir(), "the repository")?;
    let store_path = Store::path_for(repo.common_dir());
    if store_path.exists() {
        super::owned_by_me(&store_path, "the store")?;
    }
    let mut store = Store::open_for(&repo)?;
    let me = i64::from(std::process::id());
    if !store.claim_job(job_id, me, alive)? {
        return match store.job(job_id)? {
            Some(j) if j.state == crate::store::JobState::Done => Ok(j
                .result
                .and_then(|r| serde_json::from_str(&r).ok())
                .unwrap_or_default()),
            Some(j) => Err(JobError::Busy {
                job: job_id,
                state: j.state,
            }),
            None => Err(JobError::NoJob(job_id)),
        };
    }
    let outcome = execute(state, &repo, &mut store, job_id, cancel, progress);
    let recorded = match &outcome {
        Ok(result) => match serde_json::to_string(result) {
            Ok(text) => store.finish_job(job_id, Ok(&text)),
            // Recorded as the job's failure rather than as an empty success.
            Err(e) => {
                store.finish_job(job_id, Err(&format!("its result would not serialise: {e}")))
            }
        },
        Err(error) => store.finish_job(job_id, Err(&error.to_string())),
    };
    if let Err(e) = recorded {
        return Err(JobError::Unrecorded(e));
    }
    state.jobs_done.fetch_add(1, Ordering::Relaxed);
    outcome
}

fn execute(
    state: &State,
    repo: &Repo,
    store: &mut Store,
    job_id: i64,
    cancel: &Cancel,
    progress: &mut dyn FnMut(&str),
) -> Result<JobResult, JobError> {
    let job = store.job(job_id)?.ok_or(JobError::NoJob(job_id))?;
    // What an earlier, interrupted attempt left: a finished branch means the job is done; a
    // commit that never got its branch is forgotten (nothing points at it).
    for (generation, commit, branch) in store.job_generations(job_id)? {
        let on_branch = branch
            .as_deref()
            .and_then(|b| repo.git.refname_to_id(b).ok())
            .is_some_and(|tip| tip.to_string() == commit);
        if on_branch {
            return Ok(JobResult {
                branch: branch
                    .unwrap_or_default()
                    .trim_start_matches("refs/heads/")
                    .to_string(),
                commit,
                generation,
                resumed: true,
                ..JobResult::default()
            });
        }
        store.forget_generation(&generation)?;
    }
    let payload: ImplementJob =
        serde_json::from_str(&job.payload).map_err(|e| JobError::Payload {
            job: job_id,
            message: e.to_string(),
        })?;
    let top = repo.worktree().ok_or(JobError::Bare)?.to_path_buf();
    let spec_path = inside(&top, &payload.spec)?;
    let spec = Spec::read(&top, &spec_path)?;
    let settings = Settings::load(repo)?;
    let path = Registry::resolve_registered(payload.model.as_deref())?;
    super::owned_by_me(&path, "the model file")?;
    let job_started = Instant::now();
    let mut slot = state.model.lock().map_err(|_| JobError::Poisoned)?;
    // The warm model serves the job when its context can: sampling settings are taken over,
    // a context of another size or for another number of candidates is made anew.
    let reuse = match slot.as_mut() {
        Some((p, model)) if *p == path => model.take_options(&payload.options),
        _ => false,
    };
    if !reuse {
        progress(&format!("loading {}", path.display()));
        *slot = None;
        let options = payload.options.clone();
        *slot = Some((
            path.clone(),
            Embedded::load(&path, options).map_err(JobError::Load)?,
        ));
    }
    let Some((_, model)) = slot.as_mut() else {
        return Err(JobError::Poisoned);
    };
    let done = implement::implement(
        repo,
        &settings,
        store,
        model,
        &implement::Request {
            spec: &spec,
            branch: payload.branch.as_deref(),
            context_tokens: payload.context_tokens,
            edit_format: payload.edit_format,
            job_id: Some(job_id),
            route: payload.route.clone(),
            onto: None,
            check: payload.check.as_ref(),
            cancel: Some(cancel),
        },
        progress,
    )?;
    // From the job's start: a cold job pays for loading the model, a warm one does not.
    let first_token = job_started.elapsed().saturating_sub(done.wall) + done.first_token;
    if let Ok(mut t) = state.last_used.lock() {
        *t = Instant::now();
    }
    Ok(JobResult {
        branch: done.branch,
        commit: done.commit.to_string(),
        generation: done.generation_id,
        files: done.files,
        tokens_in: done.tokens_in,
        tokens_out: done.tokens_out,
        wall_ms: done.wall.as_millis() as u64,
        first_token_ms: first_token.as_millis() as u64,
        attempts: done.attempts,
        left_out: done.left_out,
        model_reused: reuse,
        resumed: false,
        check: done.check,
        reused_tokens: model.reused_tokens as u64,
    })
}

/// Resumes the unfinished jobs of every repository that ever sent one.
fn resume_all(state: &State) {
    for worktree in super::known_worktrees() {
        let Ok(repo) = Repo::at(Path::new(&worktree)) else {
            continue;
        };
        let Ok(Some(store)) = Store::open_existing_for(&repo) else {
            continue;
        };
        let Ok(jobs) = store.unfinished_jobs(alive) else {
            continue;
        };
        drop(store);
        for job in jobs {
            tracing::info!(worktree, job, "resuming a job left unfinished");
            let _ = run_job(
                state,
                Path::new(&worktree),
                job,
                &Cancel::default(),
                &mut |_| {},
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_must_resolve_inside_its_repository() {
        let top = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.txt"), "private\n").unwrap();
        std::fs::write(top.path().join("spec.md"), "# spec\n").unwrap();
        std::os::unix::fs::symlink(
            outside.path().join("secret.txt"),
            top.path().join("link.md"),
        )
        .unwrap();
        assert!(inside(top.path(), "spec.md").is_ok());
        let err = inside(top.path(), "link.md").unwrap_err().to_string();
        assert!(err.contains("outside its repository"), "{err}");
        let err = inside(top.path(), "../x.md").unwrap_err().to_string();
        assert!(err.contains("x.md"), "{err}");
    }
}
