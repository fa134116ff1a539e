//! `git hybrid implement SPEC [--branch B] [--model M] [--backend embedded|openai]`: a local
//! model implements a spec onto a quarantine branch.

use std::path::PathBuf;

use super::Status;
use crate::daemon::client::Client;
use crate::daemon::protocol::{ImplementJob, Reply, Request};
use crate::error::CommandError;
use crate::local::embedded::{self, Embedded};
use crate::local::implement;
use crate::local::models::Registry;
use crate::local::openai::OpenAi;
use crate::route;
use crate::spec::{Spec, paths_named};
use crate::store::Store;
use crate::ui;

/// How the local model runs: shared by `implement` and `fix`.
#[derive(Debug, clap::Args)]
pub(super) struct EngineArgs {
    /// The model: a registered name or a GGUF path (embedded, default: the registry's default),
    /// or a name the server knows (openai) [also `[implement] model` in .hybrid.toml, git config
    /// hybrid.implementModel, GIT_HYBRID_LOCAL_MODEL]
    #[arg(long)]
    pub model: Option<String>,
    /// Which engine runs the model: embedded (default) or openai [also `[implement] backend`,
    /// hybrid.implementBackend, GIT_HYBRID_BACKEND]
    #[arg(long, value_parser = ["embedded", "openai"])]
    pub backend: Option<String>,
    /// The OpenAI-compatible server [default: Ollama's http://localhost:11434/v1; also
    /// `[implement] base_url`, hybrid.implementBaseUrl, GIT_HYBRID_OPENAI_BASE_URL]
    #[arg(long)]
    pub base_url: Option<String>,
    /// Tokens of repository context (spec files and their neighbours) to send at most
    #[arg(long, default_value_t = 3000)]
    pub context_tokens: usize,
    /// Context window of the embedded model [default: the model's, at most 8192]
    #[arg(long)]
    pub ctx: Option<u32>,
    /// Threads for the embedded model [default: the CPUs available]
    #[arg(long)]
    pub threads: Option<i32>,
    /// Layers to offload to the GPU (builds with --features cuda, vulkan or metal)
    #[arg(long, default_value_t = 0)]
    pub gpu_layers: u32,
    /// Most tokens the embedded model may write
    #[arg(long, default_value_t = 1024)]
    pub max_tokens: u32,
    /// Sampling temperature for the embedded model; 0 is greedy
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f32,
    /// Sampling seed for the embedded model when the temperature is above 0
    #[arg(long, default_value_t = 42)]
    pub seed: u32,
}

impl EngineArgs {
    /// Fills what no flag said from the settings' layers (policy, git config, environment).
    pub(super) fn settle(
        &mut self,
        settings: &crate::config::Settings,
    ) -> Result<(), CommandError> {
        let defaults = &settings.implement;
        let backend = self.backend.get_or_insert_with(|| defaults.backend.clone());
        if !["embedded", "openai"].contains(&backend.as_str()) {
            return Err(CommandError::user(format!(
                "{backend:?} is not a backend (embedded or openai)"
            ))
            .hint("fix `[implement] backend` in .hybrid.toml, git config hybrid.implementBackend or GIT_HYBRID_BACKEND"));
        }
        self.base_url
            .get_or_insert_with(|| defaults.base_url.clone());
        if self.model.is_none() {
            self.model = defaults.model.clone();
        }
        Ok(())
    }

    /// The backend's name once settled.
    pub(super) fn backend_name(&self) -> &str {
        self.backend.as_deref().unwrap_or("embedded")
    }

    pub(super) fn options(&self) -> embedded::Options {
        embedded::Options {
            n_ctx: self.ctx,
            threads: self.threads,
            gpu_layers: self.gpu_layers,
            max_tokens: self.max_tokens,
            temperature: self.temperature,
            seed: self.seed,
        }
    }

    /// The local backend asked for: `openai` (a server) or `embedded` (a GGUF file).
    pub(super) fn backend(&self) -> Result<Box<dyn crate::local::Backend>, CommandError> {
        if self.backend_name() == "openai" {
            let model = self.model.as_deref().ok_or_else(|| {
                CommandError::user("the openai backend needs a model name").hint(
                    "pass --model <name> (as the server lists it), or set it once: git config hybrid.implementModel <name>",
                )
            })?;
            let key = std::env::var("OPENAI_API_KEY")
                .ok()
                .filter(|k| !k.is_empty());
            return Ok(Box::new(
                OpenAi::new(
                    self.base_url
                        .as_deref()
                        .unwrap_or("http://localhost:11434/v1"),
                    model,
                    key,
                )
                .map_err(|e| CommandError::user(e.to_string()))?,
            ));
        }
        let path = Registry::resolve(self.model.as_deref())?;
        Ok(Box::new(Embedded::load(&path, self.options()).map_err(
            |e| {
                CommandError::user(e.to_string())
                    .hint("check the model file, or pick another with --model")
            },
        )?))
    }
}

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
    /// Who implements it: auto (the seed's delegation table and the task's size), local, or
    /// cloud (Claude, needs ANTHROPIC_API_KEY)
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
    /// "wall_ms", "left_out", "by_daemon"} (a daemon's job leaves out what it does not report)
    #[arg(long)]
    json: bool,
}

/// `--route`, for `implement` and `fix`: who does the work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum RouteArg {
    Auto,
    Local,
    Cloud,
}

impl RouteArg {
    /// The side the user forced, or `None` for routing's own decision.
    pub(super) fn forced(self) -> Option<route::Side> {
        match self {
            RouteArg::Auto => None,
            RouteArg::Local => Some(route::Side::Local),
            RouteArg::Cloud => Some(route::Side::Cloud),
        }
    }

    fn name(self) -> &'static str {
        match self {
            RouteArg::Auto => "auto",
            RouteArg::Local => "local",
            RouteArg::Cloud => "cloud",
        }
    }
}

pub fn run(mut args: Args) -> Result<Status, CommandError> {
    let (repo, settings) = super::open()?;
    args.engine.settle(&settings)?;
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
                if problems.len() == 1 { "" } else { "s" }
            ))
            .hint("make the spec precise (see above), or pass --force to implement it anyway"));
        }
    }
    let decision = match args.route.forced() {
        None => route::classify(&spec.text, paths_named(&spec.text).len(), &settings.route),
        Some(side) => route::Decision {
            side,
            reasons: vec![format!("--route {}", args.route.name())],
        },
    };
    ui::say(format!(
        "route: {} ({})",
        if decision.side == route::Side::Cloud {
            "Claude"
        } else {
            "local model"
        },
        decision.reasons.join("; ")
    ));
    let cloud = decision.side == route::Side::Cloud;
    if args.engine.backend_name() == "embedded" && !args.no_daemon && !cloud {
        match Client::connect() {
            Ok(client) => return via_daemon(client, &repo, top, &spec, &args, &decision),
            Err(crate::daemon::Error::NotRunning) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let mut backend: Box<dyn crate::local::Backend> = if cloud {
        Box::new(crate::cloud::implementer::Claude::new(
            &settings.review_model,
        )?)
    } else {
        args.engine.backend()?
    };
    let mut store = Store::open_for(&repo)?;
    let bar = ui::spinner();
    let result = implement::implement(
        &repo,
        &settings,
        &mut store,
        backend.as_mut(),
        &implement::Request {
            spec: &spec,
            branch: args.branch.as_deref(),
            context_tokens: args.engine.context_tokens,
            job_id: None,
            route: Some(serde_json::to_value(&decision).unwrap_or_default()),
            onto: None,
        },
        &mut |m| bar.set_message(m.to_string()),
    );
    bar.finish_and_clear();
    let done = result?;
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
        if done.files.len() == 1 { "" } else { "s" },
        done.attempts,
        if done.attempts == 1 { "" } else { "s" },
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
    if args.json {
        ui::out(
            serde_json::json!({
                "version": 1,
                "spec": spec.path,
                "branch": done.branch,
                "commit": done.commit.to_string(),
                "generation": done.generation_id,
                "files": done.files,
                "attempts": done.attempts,
                "tokens_in": done.tokens_in,
                "tokens_out": done.tokens_out,
                "first_token_ms": done.first_token.as_millis() as u64,
                "wall_ms": done.wall.as_millis() as u64,
                "left_out": done.left_out,
                "by_daemon": false,
            })
            .to_string(),
        );
    }
    Ok(Status::Ok)
}

/// Hands the job to the daemon: it is queued in the repository's store first, so it survives the
/// daemon, and its progress is streamed back here.
fn via_daemon(
    mut client: Client,
    repo: &crate::git::Repo,
    top: &std::path::Path,
    spec: &Spec,
    args: &Args,
    decision: &route::Decision,
) -> Result<Status, CommandError> {
    let payload = ImplementJob {
        route: Some(serde_json::to_value(decision).unwrap_or_default()),
        spec: spec.path.clone(),
        branch: args.branch.clone(),
        model: args.engine.model.clone(),
        context_tokens: args.engine.context_tokens,
        options: args.engine.options(),
    };
    let mut store = Store::open_for(repo)?;
    let job = store.enqueue_job(
        "implement",
        &serde_json::to_string(&payload).map_err(|e| CommandError::internal(e.to_string()))?,
    )?;
    drop(store);
    crate::daemon::remember_worktree(top)?;
    ui::say(format!(
        "job {job} goes to the daemon (pid {})",
        client.daemon_pid
    ));
    client.send(&Request::Run {
        worktree: top.to_path_buf(),
        job,
    })?;
    let bar = ui::spinner();
    let outcome = loop {
        match client.receive() {
            Ok(Reply::Progress { message }) => bar.set_message(message),
            Ok(Reply::Done { result }) => break Ok(result),
            Ok(Reply::Failed { error }) => break Err(CommandError::user(error)),
            Ok(other) => {
                break Err(CommandError::internal(format!(
                    "unexpected answer: {other:?}"
                )));
            }
            Err(e) => break Err(e.into()),
        }
    };
    bar.finish_and_clear();
    let result = outcome?;
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
    if args.json {
        ui::out(
            serde_json::json!({
                "version": 1,
                "spec": spec.path,
                "branch": branch,
                "commit": result.commit,
                "generation": result.generation,
                "files": result.files,
                "attempts": result.attempts,
                "tokens_in": result.tokens_in,
                "tokens_out": result.tokens_out,
                "first_token_ms": result.first_token_ms,
                "wall_ms": result.wall_ms,
                "left_out": result.left_out,
                "by_daemon": true,
            })
            .to_string(),
        );
    }
    Ok(Status::Ok)
}
