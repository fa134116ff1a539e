//! Argument types more than one command takes: how the local model runs (`implement`, `fix`)
//! and who does the work (`--route`).

use crate::config::Settings;
use crate::error::CommandError;
use crate::local::embedded;
use crate::route;
use crate::workflow::engine::{Asked, Engine};

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
    #[arg(long, default_value_t = crate::workflow::engine::CONTEXT_TOKENS)]
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
    /// Most tokens one answer may have (sent to a server as max_tokens)
    #[arg(long, default_value_t = 1024)]
    pub max_tokens: u32,
    /// Sampling temperature; 0 is greedy, and then a retry samples at 0.8 so that it can differ
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f32,
    /// Sampling seed when the temperature is above 0 (a retry adds its attempt number)
    #[arg(long, default_value_t = 42)]
    pub seed: u32,
    /// Answers the embedded model writes side by side in one batch (sharing the prompt); the
    /// first usable one that passes the check is kept, or where the spec's Python examples are
    /// the check, the one the others agree with most beyond them (a server backend writes one)
    /// [default: 1;
    /// also `[implement] candidates` in .hybrid.toml, hybrid.implementCandidates,
    /// GIT_HYBRID_CANDIDATES]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=i64::from(crate::workflow::engine::MAX_CANDIDATES)))]
    pub candidates: Option<u32>,
    /// How the model changes a file that exists: auto (whole when small, merged when larger),
    /// whole (merged where too long for the answer's budget), edit (EDIT blocks), or merge (a
    /// FILE block of only the definitions added or changed) [default: auto; also `[implement] edit_format`,
    /// hybrid.implementEditFormat, GIT_HYBRID_EDIT_FORMAT]
    #[arg(long, value_name = "FORMAT", value_parser = ["auto", "whole", "edit", "merge"])]
    pub edit_format: Option<String>,
    /// A command run on each answer, in a temporary copy of the tree, before it becomes a
    /// commit (e.g. "pytest -q"); its failure goes back to the model [also `[implement] check`
    /// in .hybrid.toml, git config hybrid.implementCheck, GIT_HYBRID_IMPLEMENT_CHECK]
    #[arg(long, value_name = "CMD", conflicts_with = "no_check")]
    pub check: Option<String>,
    /// Run no check, whatever the settings say
    #[arg(long)]
    pub no_check: bool,
    /// Seconds a check may run before it is killed [default: 300]
    #[arg(long, value_name = "SECONDS")]
    pub check_timeout: Option<u64>,
    /// Answers asked again after a failed check [default: 2, and 4 after the spec's examples]
    #[arg(long, value_name = "N")]
    pub check_rounds: Option<usize>,
}

impl EngineArgs {
    /// The engine asked for, every gap filled from the settings' layers (policy, git config,
    /// environment).
    pub(super) fn engine(&self, settings: &Settings) -> Result<Engine, CommandError> {
        Engine::settle(
            Asked {
                backend: self.backend.clone(),
                model: self.model.clone(),
                base_url: self.base_url.clone(),
                check: if self.no_check {
                    Some(String::new())
                } else {
                    self.check.clone()
                },
                check_timeout: self.check_timeout,
                check_rounds: self.check_rounds,
                edit_format: self.edit_format.clone(),
                candidates: self.candidates,
            },
            settings,
            self.context_tokens,
            embedded::Options {
                n_ctx: self.ctx,
                threads: self.threads,
                gpu_layers: self.gpu_layers,
                max_tokens: self.max_tokens,
                temperature: self.temperature,
                seed: self.seed,
                // Settled with the other settings (`Engine::settle`).
                candidates: 1,
            },
        )
        .map_err(CommandError::from)
    }
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

    pub(super) fn name(self) -> &'static str {
        match self {
            RouteArg::Auto => "auto",
            RouteArg::Local => "local",
            RouteArg::Cloud => "cloud",
        }
    }
}
