//! The `embedded` backend: a GGUF model run in-process by llama.cpp (llama-cpp-2), with the
//! model's own chat template and a GBNF grammar that makes every answer parse as the edit format.
//!
//! llama.cpp's own logging stays quiet unless `GIT_HYBRID_LOG` is set. The backend is initialised
//! once per process (llama.cpp allows no second init). A prompt that does not fit the context is
//! an error that says by how much — never silently truncated.

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;

use super::{Backend, ChatMessage, Error, Generated};

/// Settings of one embedded run (also what a daemon job carries).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Options {
    /// Context window; `None` takes the model's training context, capped at 8192.
    pub n_ctx: Option<u32>,
    pub threads: Option<i32>,
    /// Layers to offload to a GPU (builds with a GPU feature only).
    pub gpu_layers: u32,
    pub max_tokens: u32,
    /// 0 samples greedily; above 0, with `seed`.
    pub temperature: f32,
    pub seed: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            n_ctx: None,
            threads: None,
            gpu_layers: 0,
            max_tokens: 1024,
            temperature: 0.0,
            seed: 42,
        }
    }
}

fn backend() -> Result<&'static LlamaBackend, Error> {
    static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            // llama.cpp writes thousands of lines to stderr per run; they go to tracing, and
            // only when the user asked for logs.
            let wanted = std::env::var_os("GIT_HYBRID_LOG").is_some();
            llama_cpp_2::send_logs_to_tracing(
                llama_cpp_2::LogOptions::default().with_logs_enabled(wanted),
            );
            LlamaBackend::init().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::Backend(format!("llama.cpp did not start: {e}")))
}

/// Physical cores (hyperthreads share a core's arithmetic units, and llama.cpp runs slower when
/// given them), from /proc/cpuinfo; the logical CPU count where that cannot be read.
pub fn physical_cores() -> i32 {
    let logical = std::thread::available_parallelism()
        .map(|n| n.get() as i32)
        .unwrap_or(2);
    let Ok(info) = std::fs::read_to_string("/proc/cpuinfo") else {
        return logical;
    };
    let mut cores = std::collections::HashSet::new();
    let mut physical = "";
    for line in info.lines() {
        let mut parts = line.splitn(2, ':');
        match (parts.next().map(str::trim), parts.next().map(str::trim)) {
            (Some("physical id"), Some(v)) => physical = v,
            (Some("core id"), Some(v)) => {
                cores.insert(format!("{physical}/{v}"));
            }
            _ => {}
        }
    }
    if cores.is_empty() {
        logical
    } else {
        (cores.len() as i32).min(logical)
    }
}

pub struct Embedded {
    model: LlamaModel,
    name: String,
    pub path: PathBuf,
    options: Options,
    /// The grammar answers must follow; `None` lets the model write freely.
    grammar: Option<String>,
}

impl Embedded {
    /// Loads a GGUF model; the file's header is checked first, so a wrong file is named as such.
    pub fn load(path: &Path, options: Options) -> Result<Embedded, Error> {
        super::models::check_gguf(path).map_err(|e| Error::Backend(e.to_string()))?;
        let backend = backend()?;
        let params = LlamaModelParams::default().with_n_gpu_layers(options.gpu_layers);
        let model = LlamaModel::load_from_file(backend, path, &params).map_err(|e| {
            Error::Backend(format!("llama.cpp could not load {}: {e}", path.display()))
        })?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model".into());
        Ok(Embedded {
            model,
            name,
            path: path.to_path_buf(),
            options,
            grammar: None,
        })
    }

    pub fn n_ctx(&self) -> u32 {
        self.options
            .n_ctx
            .unwrap_or_else(|| self.model.n_ctx_train().min(8192))
            .max(512)
    }

    fn threads(&self) -> i32 {
        self.options.threads.unwrap_or_else(physical_cores)
    }

    fn prompt(&self, messages: &[ChatMessage]) -> Result<String, Error> {
        let template = self
            .model
            .chat_template(None)
            .map_err(|e| Error::Backend(format!("{} has no chat template: {e}", self.name)))?;
        let chat = messages
            .iter()
            .map(|m| LlamaChatMessage::new(m.role.to_string(), m.content.clone()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::Backend(format!("a message cannot be passed to llama.cpp: {e}")))?;
        self.model
            .apply_chat_template(&template, &chat, true)
            .map_err(|e| Error::Backend(format!("the chat template failed: {e}")))
    }
}

impl Backend for Embedded {
    fn provider(&self) -> crate::store::Provider {
        crate::store::Provider::Embedded
    }

    fn model(&self) -> &str {
        &self.name
    }

    fn identity(&self) -> serde_json::Value {
        // The registry hashed the file when it was added; hashing gigabytes on every run would
        // cost more than the run.
        let sha256 = super::models::Registry::load().ok().and_then(|r| {
            let path = self.path.canonicalize().ok()?;
            r.models
                .into_iter()
                .find(|m| m.path == path)
                .map(|m| m.sha256)
        });
        serde_json::json!({
            "file": self.path.display().to_string(),
            "sha256": sha256,
            "threads": self.threads(),
            "n_ctx": self.n_ctx(),
            "max_tokens": self.options.max_tokens,
            "temperature": self.options.temperature,
            "seed": self.options.seed,
            "gpu_layers": self.options.gpu_layers,
        })
    }

    fn constrain(&mut self, shape: &crate::backend::Constraint) {
        self.grammar = Some(shape.gbnf.clone());
    }

    fn max_tokens(&self) -> Option<u32> {
        Some(self.options.max_tokens)
    }

    fn count_tokens(&self, text: &str) -> usize {
        self.model
            .vocab()
            .tokenize(text.as_bytes(), false, true)
            .len()
    }

    fn generate(
        &mut self,
        messages: &[ChatMessage],
        progress: &mut dyn FnMut(u64),
    ) -> Result<Generated, Error> {
        let started = Instant::now();
        let backend = backend()?;
        let prompt = self.prompt(messages)?;
        let vocab = self.model.vocab();
        let tokens = vocab.tokenize(prompt.as_bytes(), true, true);
        let n_ctx = self.n_ctx();
        let needed = tokens.len() as u64 + u64::from(self.options.max_tokens);
        if needed > u64::from(n_ctx) {
            return Err(Error::Backend(format!(
                "the prompt is {} tokens and the answer may take {}, but the context holds {n_ctx}: \
                 shorten the spec or the context (--context-tokens), or raise --ctx",
                tokens.len(),
                self.options.max_tokens
            )));
        }
        let threads = self.threads();
        let n_batch = 512u32;
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(n_ctx))
            .with_n_batch(n_batch)
            .with_n_threads(threads)
            .with_n_threads_batch(threads);
        let mut ctx = self
            .model
            .new_context(backend, params)
            .map_err(|e| Error::Backend(format!("no llama.cpp context: {e}")))?;
        let mut batch = LlamaBatch::new(n_batch as usize, 1);
        let last = tokens.len().saturating_sub(1);
        for (chunk_index, chunk) in tokens.chunks(n_batch as usize).enumerate() {
            batch.clear();
            for (i, token) in chunk.iter().enumerate() {
                let pos = chunk_index * n_batch as usize + i;
                batch
                    .add(*token, pos as i32, &[0], pos == last)
                    .map_err(|e| Error::Backend(format!("batch: {e}")))?;
            }
            ctx.decode(&mut batch)
                .map_err(|e| Error::Backend(format!("llama.cpp could not read the prompt: {e}")))?;
        }
        let mut samplers = Vec::new();
        if let Some(gbnf) = &self.grammar {
            samplers.push(
                LlamaSampler::grammar(&self.model, gbnf, "root")
                    .map_err(|e| Error::Backend(format!("the answer grammar is invalid: {e}")))?,
            );
        }
        if self.options.temperature > 0.0 {
            samplers.push(LlamaSampler::temp(self.options.temperature));
            samplers.push(LlamaSampler::dist(self.options.seed));
        } else {
            samplers.push(LlamaSampler::greedy());
        }
        let mut sampler = LlamaSampler::chain_simple(samplers);
        let mut out = Vec::new();
        let mut produced = 0u64;
        let mut first_token = None;
        let mut truncated = false;
        let mut pos = tokens.len() as i32;
        loop {
            // `sample` also accepts the token into the grammar: accepting again would advance
            // the grammar twice.
            let token = sampler.sample(&ctx, batch.n_tokens() - 1);
            if vocab.is_eog(token) {
                break;
            }
            out.extend_from_slice(&vocab.token_to_piece(token, true, None));
            first_token.get_or_insert_with(|| started.elapsed());
            produced += 1;
            progress(produced);
            if produced >= u64::from(self.options.max_tokens) {
                truncated = true;
                break;
            }
            batch.clear();
            batch
                .add(token, pos, &[0], true)
                .map_err(|e| Error::Backend(format!("batch: {e}")))?;
            pos += 1;
            ctx.decode(&mut batch)
                .map_err(|e| Error::Backend(format!("llama.cpp stopped: {e}")))?;
        }
        Ok(Generated {
            text: String::from_utf8_lossy(&out).into_owned(),
            tokens_in: tokens.len() as u64,
            tokens_out: produced,
            estimated: false,
            truncated,
            wall: started.elapsed(),
            first_token: first_token.unwrap_or_else(|| started.elapsed()),
        })
    }
}
