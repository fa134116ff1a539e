//! Which backend runs the local model, settled from flags and the settings' layers, and opened.

use crate::backend::Backend;
use crate::config::Settings;
use crate::local::embedded::{self, Embedded};
use crate::local::implement::Check;
use crate::local::models::Registry;
use crate::local::openai::{Constrain, OpenAi, Sampling};

use super::Error;

/// The local engines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendKind {
    /// llama.cpp inside this process, on a registered GGUF file.
    Embedded,
    /// An OpenAI-compatible server (Ollama, llama.cpp's server, vLLM…).
    OpenAi,
}

impl BackendKind {
    pub fn parse(name: &str) -> Result<BackendKind, Error> {
        match name {
            "embedded" => Ok(BackendKind::Embedded),
            "openai" => Ok(BackendKind::OpenAi),
            other => Err(Error::UnknownBackend(other.to_string())),
        }
    }
}

/// How the local model runs: what `implement` and `fix` were asked for, with every gap filled
/// from the settings.
#[derive(Clone, Debug)]
pub struct Engine {
    pub backend: BackendKind,
    /// A registered name or GGUF path (embedded), or the server's model name (openai); `None`
    /// is the registry's default.
    pub model: Option<String>,
    pub base_url: String,
    /// Tokens of repository context sent at most.
    pub context_tokens: usize,
    pub options: embedded::Options,
    /// Run on each answer before it becomes a commit.
    pub check: Option<Check>,
    /// How an OpenAI-compatible server is told the answer's shape.
    pub constrain: Constrain,
}

/// Tokens of repository context a job sends at most, unless asked otherwise.
pub const CONTEXT_TOKENS: usize = 3000;

/// What the command line said; `None` where it said nothing.
#[derive(Clone, Debug, Default)]
pub struct Asked {
    pub backend: Option<String>,
    pub model: Option<String>,
    pub base_url: Option<String>,
    /// `--check CMD`; `Some("")` is `--no-check`.
    pub check: Option<String>,
    pub check_timeout: Option<u64>,
    pub check_rounds: Option<usize>,
}

impl Engine {
    /// Fills what no flag said from the settings' layers (policy, git config, environment).
    pub fn settle(
        asked: Asked,
        settings: &Settings,
        context_tokens: usize,
        options: embedded::Options,
    ) -> Result<Engine, Error> {
        let defaults = &settings.implement;
        let backend = BackendKind::parse(asked.backend.as_deref().unwrap_or(&defaults.backend))?;
        let constrain = Constrain::parse(&defaults.constrain)
            .ok_or_else(|| Error::UnknownConstrain(defaults.constrain.clone()))?;
        Ok(Engine {
            backend,
            model: asked.model.or_else(|| defaults.model.clone()),
            base_url: asked.base_url.unwrap_or_else(|| defaults.base_url.clone()),
            context_tokens,
            options,
            constrain,
            check: asked
                .check
                .or_else(|| defaults.check.clone())
                .filter(|c| !c.trim().is_empty())
                .map(|command| Check {
                    command,
                    timeout: std::time::Duration::from_secs(
                        asked.check_timeout.unwrap_or(defaults.check_timeout),
                    ),
                    rounds: asked.check_rounds.unwrap_or(defaults.check_rounds),
                }),
        })
    }

    /// Loads the model (embedded) or prepares the server's client (openai).
    pub fn open(&self) -> Result<Box<dyn Backend>, Error> {
        match self.backend {
            BackendKind::OpenAi => {
                let model = self.model.as_deref().ok_or(Error::NoModelName)?;
                let key = std::env::var("OPENAI_API_KEY")
                    .ok()
                    .filter(|k| !k.is_empty());
                Ok(Box::new(
                    OpenAi::new(
                        &self.base_url,
                        model,
                        key,
                        Sampling {
                            max_tokens: self.options.max_tokens,
                            temperature: self.options.temperature,
                            seed: self.options.seed,
                        },
                        self.constrain,
                    )
                    .map_err(Error::Client)?,
                ))
            }
            BackendKind::Embedded => {
                let path = Registry::resolve(self.model.as_deref())?;
                Ok(Box::new(
                    Embedded::load(&path, self.options.clone()).map_err(Error::Load)?,
                ))
            }
        }
    }
}
