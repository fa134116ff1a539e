//! Which backend runs the local model, settled from flags and the settings' layers, and opened.

use crate::backend::Backend;
use crate::config::Settings;
use crate::local::embedded::{self, Embedded};
use crate::local::implement::{Check, EditFormat};
use crate::local::models::Registry;
use crate::local::openai::{Constrain, OpenAi, Sampling};
use crate::spec::{Spec, examples, paths_named};

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
    /// Whether, with no check set, the spec's own examples become one (not after `--no-check`).
    pub spec_check: bool,
    /// Limits of a check made from the spec's examples.
    pub check_timeout: std::time::Duration,
    pub examples_rounds: usize,
    /// How an OpenAI-compatible server is told the answer's shape.
    pub constrain: Constrain,
    /// Whole files or EDIT blocks for the files that exist.
    pub edit_format: EditFormat,
}

/// Answers written side by side at most: each one holds its own part of the context's cache.
pub const MAX_CANDIDATES: u32 = 8;

/// Answers asked again after a check the user set fails, unless asked otherwise: a project's
/// test suite may take minutes a run.
pub const CHECK_ROUNDS: usize = 2;

/// Answers asked again after the spec's examples fail, unless asked otherwise: they run in
/// about a second, and a small model's fourth or fifth sample is where some tasks first pass
/// (README: "More retries on the spec's examples, measured").
pub const EXAMPLES_ROUNDS: usize = 4;

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
    pub edit_format: Option<String>,
    pub candidates: Option<u32>,
}

impl Engine {
    /// Fills what no flag said from the settings' layers (policy, git config, environment).
    pub fn settle(
        asked: Asked,
        settings: &Settings,
        context_tokens: usize,
        mut options: embedded::Options,
    ) -> Result<Engine, Error> {
        let defaults = &settings.implement;
        // A number that does not parse is refused, not ignored for the default: the user set it
        // for a reason. A flag that sets the same thing makes it moot.
        let moot = |field: &str| match field {
            "check_timeout" => asked.check_timeout.is_some(),
            "check_rounds" => asked.check_rounds.is_some(),
            "candidates" => asked.candidates.is_some(),
            _ => false,
        };
        if let Some((_, bad)) = defaults.unreadable.iter().find(|(field, _)| !moot(field)) {
            return Err(Error::Unreadable(bad.clone()));
        }
        let backend = BackendKind::parse(asked.backend.as_deref().unwrap_or(&defaults.backend))?;
        let constrain = Constrain::parse(&defaults.constrain)
            .ok_or_else(|| Error::UnknownConstrain(defaults.constrain.clone()))?;
        let format = asked
            .edit_format
            .unwrap_or_else(|| defaults.edit_format.clone());
        let edit_format = EditFormat::parse(&format).ok_or(Error::UnknownEditFormat(format))?;
        let said = asked.check.or_else(|| defaults.check.clone());
        let check_timeout =
            std::time::Duration::from_secs(asked.check_timeout.unwrap_or(defaults.check_timeout));
        let rounds = asked.check_rounds.or(defaults.check_rounds);
        let check_rounds = rounds.unwrap_or(CHECK_ROUNDS);
        options.candidates = asked.candidates.unwrap_or(defaults.candidates);
        if !(1..=MAX_CANDIDATES).contains(&options.candidates) {
            return Err(Error::Candidates(options.candidates));
        }
        Ok(Engine {
            backend,
            model: asked.model.or_else(|| defaults.model.clone()),
            base_url: asked.base_url.unwrap_or_else(|| defaults.base_url.clone()),
            context_tokens,
            options,
            constrain,
            edit_format,
            spec_check: said.is_none(),
            check: said.filter(|c| !c.trim().is_empty()).map(|command| Check {
                command,
                timeout: check_timeout,
                rounds: check_rounds,
                label: None,
            }),
            check_timeout,
            examples_rounds: rounds.unwrap_or(EXAMPLES_ROUNDS),
        })
    }

    /// The check a job on `spec` runs: the one set, else (unless `--no-check`) one made from the
    /// spec's examples where their language's tool is here (labelled so).
    pub fn check_for(
        &self,
        spec: &Spec,
        head: Option<&git2::Tree<'_>>,
        repo: &git2::Repository,
    ) -> Option<Check> {
        if self.check.is_some() || !self.spec_check {
            return self.check.clone();
        }
        examples_check(spec, head, repo, self.check_timeout, self.examples_rounds)
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

/// The check the spec's own examples become (what `implement` runs when no check is set, and
/// what `git hybrid spec check` runs): `None` where the spec has no example a script can be made
/// of, or the language's tool does not run here.
pub fn examples_check(
    spec: &Spec,
    head: Option<&git2::Tree<'_>>,
    repo: &git2::Repository,
    timeout: std::time::Duration,
    rounds: usize,
) -> Option<Check> {
    let examples = examples::read(&spec.text);
    let named: Vec<String> = paths_named(&spec.text)
        .into_iter()
        .filter(|p| *p != spec.path)
        .collect();
    // The manifest of the crate a Rust file is in: the nearest Cargo.toml above it.
    let manifest = named.first().and_then(|file| {
        let head = head?;
        let mut folder = std::path::Path::new(file).parent();
        while let Some(f) = folder {
            if let Ok(entry) = head.get_path(&f.join("Cargo.toml")) {
                let blob = repo.find_blob(entry.id()).ok()?;
                return Some(String::from_utf8_lossy(blob.content()).into_owned());
            }
            folder = f.parent();
        }
        None
    });
    let mut target = examples::target(&named, manifest.as_deref())?;
    target.scripts = examples::scripts(&spec.text, &target.tests);
    // A spec that writes test files and nothing else (fixtures in a conftest.py count as tests)
    // asks for tests of code that exists.
    target.cases_in_tests = !target.tests.is_empty()
        && crate::spec::files_to_touch(&spec.text).iter().all(|p| {
            *p == spec.path
                || target.tests.contains(p)
                || std::path::Path::new(p).file_name() == Some("conftest.py".as_ref())
        });
    let tool = match target.language {
        examples::Language::Python => "python3",
        examples::Language::Rust => "rustc",
    };
    // A tool that cannot start (absent, or rustup without a toolchain) would fail every
    // answer for the machine's sake: then there is no check from the examples.
    let runs = std::process::Command::new(tool)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .output()
        .is_ok_and(|out| out.status.success());
    if !runs {
        tracing::info!(
            tool,
            "the spec's examples are no check here: the tool does not run"
        );
        return None;
    }
    let cases = format!(
        "{} {}",
        examples.len(),
        if examples.len() == 1 { "case" } else { "cases" }
    );
    let label = match (examples.is_empty(), target.tests.join(", ")) {
        (_, tests) if tests.is_empty() => format!("the spec's examples ({cases}, {tool})"),
        (true, tests) => format!("the spec's tests ({tests}, {tool})"),
        (false, tests) => format!("the spec's examples ({cases}) and tests ({tests}, {tool})"),
    };
    examples::command(&examples, &target).map(|command| Check {
        command,
        timeout,
        rounds,
        label: Some(label),
    })
}
