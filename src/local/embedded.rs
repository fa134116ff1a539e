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

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;

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
    /// Answers written side by side in one batch (llama.cpp's parallel sequences, sharing the
    /// prompt's cache): the check picks among them.
    #[serde(default = "one")]
    pub candidates: u32,
}

fn one() -> u32 {
    1
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
            candidates: 1,
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
        .map_err(|e| Error::Engine(format!("llama.cpp did not start: {e}")))
}

/// A context (its KV cache) and the tokens it holds, kept between generations: a later
/// conversation that starts the same way (the instructions, the repository's files, an earlier
/// attempt) is read only from where it differs.
struct Warm<'m> {
    ctx: LlamaContext<'m>,
    evaluated: Vec<LlamaToken>,
}

self_cell::self_cell!(
    /// The model and the context that borrows it, in one value the daemon can keep.
    struct Loaded {
        owner: LlamaModel,
        #[covariant]
        dependent: Warm,
    }
);

// SAFETY: llama.cpp contexts are not tied to the thread that made them; they must only not be
// used by two threads at once. `Loaded` is reached only through `&mut Embedded` (one generation
// at a time), and the daemon keeps it behind a mutex.
unsafe impl Send for Loaded {}

pub struct Embedded {
    loaded: Loaded,
    name: String,
    pub path: PathBuf,
    options: Options,
    /// The grammar answers must follow; `None` lets the model write freely.
    grammar: Option<String>,
    /// Tokens of the last prompt that were already in the cache (a warm start's saving).
    pub reused_tokens: usize,
    /// Mask the whole vocabulary with the grammar for every token (llama.cpp's plain grammar
    /// sampler) instead of checking the preferred token first: only to measure one against the
    /// other (`cargo bench --bench grammar_speed`).
    pub full_mask: bool,
    /// Set for the next generation when it is a retry (see `Backend::retrying`).
    retry: Option<usize>,
}

impl Embedded {
    /// Loads a GGUF model; the file's header is checked first, so a wrong file is named as such.
    pub fn load(path: &Path, options: Options) -> Result<Embedded, Error> {
        super::models::check_gguf(path).map_err(|e| Error::Load(e.to_string()))?;
        let backend = backend()?;
        let params = LlamaModelParams::default().with_n_gpu_layers(options.gpu_layers);
        let model = LlamaModel::load_from_file(backend, path, &params).map_err(|e| {
            Error::Load(format!("llama.cpp could not load {}: {e}", path.display()))
        })?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model".into());
        let n_ctx = n_ctx_for(&options, &model);
        let threads = options.threads.unwrap_or_else(crate::sys::physical_cores);
        let loaded = Loaded::try_new(model, |model| {
            // Candidates share one cache: the prompt's cells once, then each answer's own.
            let params = LlamaContextParams::default()
                .with_n_ctx(NonZeroU32::new(n_ctx))
                .with_n_batch(N_BATCH)
                .with_n_threads(threads)
                .with_n_threads_batch(threads)
                .with_n_seq_max(options.candidates.max(1))
                .with_kv_unified(true);
            model
                .new_context(backend, params)
                .map(|ctx| Warm {
                    ctx,
                    evaluated: Vec::new(),
                })
                .map_err(|e| Error::Load(format!("no llama.cpp context: {e}")))
        })?;
        Ok(Embedded {
            loaded,
            name,
            path: path.to_path_buf(),
            options,
            grammar: None,
            reused_tokens: 0,
            full_mask: false,
            retry: None,
        })
    }

    /// Takes `options` for the next generations when the loaded context can serve them (the
    /// same context size, threads, GPU layers and number of candidates); `false` when the
    /// model must be loaded again for them.
    pub fn take_options(&mut self, options: &Options) -> bool {
        let context = |o: &Options| (o.n_ctx, o.threads, o.gpu_layers, o.candidates.max(1));
        if context(&self.options) != context(options) {
            return false;
        }
        self.options = options.clone();
        true
    }

    fn model_ref(&self) -> &LlamaModel {
        self.loaded.borrow_owner()
    }

    pub fn n_ctx(&self) -> u32 {
        n_ctx_for(&self.options, self.model_ref())
    }

    fn threads(&self) -> i32 {
        self.options
            .threads
            .unwrap_or_else(crate::sys::physical_cores)
    }

    fn prompt(&self, messages: &[ChatMessage]) -> Result<String, Error> {
        let model = self.model_ref();
        let template = model
            .chat_template(None)
            .map_err(|e| Error::Load(format!("{} has no chat template: {e}", self.name)))?;
        let chat = messages
            .iter()
            .map(|m| LlamaChatMessage::new(m.role.to_string(), m.content.clone()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::Engine(format!("a message cannot be passed to llama.cpp: {e}")))?;
        model
            .apply_chat_template(&template, &chat, true)
            .map_err(|e| Error::Engine(format!("the chat template failed: {e}")))
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
        // An empty grammar lifts the constraint.
        self.grammar = Some(shape.gbnf.clone()).filter(|g| !g.is_empty());
    }

    fn max_tokens(&self) -> Option<u32> {
        Some(self.options.max_tokens)
    }

    fn retrying(&mut self, attempt: usize) {
        self.retry = Some(attempt);
    }

    fn candidates(&self) -> usize {
        self.options.candidates.max(1) as usize
    }

    fn generate_candidates(
        &mut self,
        messages: &[ChatMessage],
        progress: &mut dyn FnMut(u64) -> crate::backend::Flow,
        done: &mut dyn FnMut(usize, Generated) -> crate::backend::Flow,
    ) -> Result<(), Error> {
        let n = self.candidates();
        if n <= 1 {
            let generated = self.generate(messages, progress)?;
            let _ = done(0, generated);
            return Ok(());
        }
        let started = Instant::now();
        let prompt = self.prompt(messages)?;
        let n_ctx = self.n_ctx();
        let max_tokens = self.options.max_tokens;
        // The first answer as a single one would be; the others sampled, each with its own
        // seed, so that they differ (a greedy second answer would repeat the first).
        let retry = self.retry.take();
        let base = self.options.seed.wrapping_add(retry.unwrap_or(0) as u32);
        let sampling: Vec<(f32, u32)> = (0..n)
            .map(|i| match (i, retry) {
                (0, None) => (self.options.temperature, self.options.seed),
                _ if self.options.temperature <= 0.0 => (
                    crate::backend::RETRY_TEMPERATURE,
                    base.wrapping_add(i as u32 * 1000),
                ),
                _ => (self.options.temperature, base.wrapping_add(i as u32 * 1000)),
            })
            .collect();
        let grammar = self.grammar.clone();
        let mut reused = 0;
        let result = self.loaded.with_dependent_mut(|model, warm| {
            let vocab = model.vocab();
            let tokens = vocab.tokenize(prompt.as_bytes(), true, true);
            fits(tokens.len(), n, max_tokens, n_ctx)?;
            reused = warm.read_prompt(&tokens)?;
            let written = warm.side_by_side(
                model,
                &tokens,
                &sampling,
                grammar.as_deref(),
                max_tokens,
                started,
                progress,
                done,
            );
            // Only the prompt stays cached: the next conversation starts the same way, and
            // none of the answers is part of it.
            warm.forget_answers(tokens.len(), n);
            written
        });
        self.reused_tokens = reused;
        result
    }

    fn count_tokens(&self, text: &str) -> usize {
        self.model_ref()
            .vocab()
            .tokenize(text.as_bytes(), false, true)
            .len()
    }

    fn generate(
        &mut self,
        messages: &[ChatMessage],
        progress: &mut dyn FnMut(u64) -> crate::backend::Flow,
    ) -> Result<Generated, Error> {
        let started = Instant::now();
        let prompt = self.prompt(messages)?;
        let n_ctx = self.n_ctx();
        let max_tokens = self.options.max_tokens;
        let (temperature, seed) = match self.retry.take() {
            Some(attempt) if self.options.temperature <= 0.0 => (
                crate::backend::RETRY_TEMPERATURE,
                self.options.seed.wrapping_add(attempt as u32),
            ),
            _ => (self.options.temperature, self.options.seed),
        };
        let grammar = self.grammar.clone();
        let full_mask = self.full_mask;
        let mut reused = 0;
        let result = self.loaded.with_dependent_mut(|model, warm| {
            let vocab = model.vocab();
            let tokens = vocab.tokenize(prompt.as_bytes(), true, true);
            fits(tokens.len(), 1, max_tokens, n_ctx)?;
            reused = warm.read_prompt(&tokens)?;
            let mut sampler = Sampler::new(model, grammar.as_deref(), temperature, seed)?;
            sampler.check_first = !full_mask;
            let mut out = Vec::new();
            let mut produced = 0u64;
            let mut first_token = None;
            let mut truncated = false;
            let mut repeats = crate::backend::Repeats::default();
            let mut looped = None;
            let mut batch = LlamaBatch::new(1, 1);
            loop {
                let token = sampler.next(warm.ctx.get_logits_ith(-1))?;
                if vocab.is_eog(token) {
                    break;
                }
                let piece = vocab.token_to_piece(token, true, None);
                out.extend_from_slice(&piece);
                first_token.get_or_insert_with(|| started.elapsed());
                produced += 1;
                if progress(produced).is_break() {
                    return Err(Error::Cancelled);
                }
                looped = repeats.push(&piece);
                if looped.is_some() {
                    break;
                }
                if produced >= u64::from(max_tokens) {
                    truncated = true;
                    break;
                }
                warm.read_one(&mut batch, token)?;
            }
            Ok(Generated {
                text: String::from_utf8_lossy(&out).into_owned(),
                tokens_in: tokens.len() as u64,
                tokens_out: produced,
                estimated: false,
                truncated,
                looped,
                grammar: grammar.is_some(),
                wall: started.elapsed(),
                first_token: first_token.unwrap_or_else(|| started.elapsed()),
            })
        });
        self.reused_tokens = reused;
        result
    }
}

/// Whether a prompt of `prompt` tokens and `answers` answers of up to `max_tokens` each fit a
/// context of `n_ctx` (the candidates share the prompt's cells, not their answers').
fn fits(prompt: usize, answers: usize, max_tokens: u32, n_ctx: u32) -> Result<(), Error> {
    let needed = prompt as u64 + answers as u64 * u64::from(max_tokens);
    if needed <= u64::from(n_ctx) {
        return Ok(());
    }
    let (answering, fewer) = if answers > 1 {
        (
            format!("{answers} answers may take {max_tokens} each"),
            "ask for fewer candidates, ",
        )
    } else {
        (format!("the answer may take {max_tokens}"), "")
    };
    Err(Error::TooLong(format!(
        "the prompt is {prompt} tokens and {answering}, but the context holds {n_ctx}: \
         {fewer}shorten the spec or the context (--context-tokens), or raise --ctx"
    )))
}

/// Prompt tokens read per decode.
const N_BATCH: u32 = 512;

fn n_ctx_for(options: &Options, model: &LlamaModel) -> u32 {
    options
        .n_ctx
        .unwrap_or_else(|| model.n_ctx_train().min(8192))
        .max(512)
}

impl Warm<'_> {
    /// Brings the cache to `tokens`: what it already holds of their beginning stays, the rest
    /// is read. Returns how many tokens were reused. At least the last token is always read
    /// again, since its logits are what the first answer token is sampled from.
    fn read_prompt(&mut self, tokens: &[LlamaToken]) -> Result<usize, Error> {
        let common = self
            .evaluated
            .iter()
            .zip(tokens)
            .take_while(|(a, b)| a == b)
            .count()
            .min(tokens.len().saturating_sub(1));
        let kept = self
            .ctx
            .clear_kv_cache_seq(Some(0), Some(common as u32), None)
            .unwrap_or(false);
        let common = if kept {
            common
        } else {
            // A cache that cannot be cut there is started afresh.
            self.ctx.clear_kv_cache();
            0
        };
        self.evaluated.truncate(common);
        let rest = &tokens[common..];
        let mut batch = LlamaBatch::new(N_BATCH as usize, 1);
        for (chunk_index, chunk) in rest.chunks(N_BATCH as usize).enumerate() {
            batch.clear();
            for (i, token) in chunk.iter().enumerate() {
                let at = chunk_index * N_BATCH as usize + i;
                batch
                    .add(*token, (common + at) as i32, &[0], at == rest.len() - 1)
                    .map_err(|e| Error::Engine(format!("batch: {e}")))?;
            }
            self.decode(&mut batch)?;
            self.evaluated.extend_from_slice(chunk);
        }
        Ok(common)
    }

    /// `sampling.len()` answers after the prompt the cache holds in sequence 0 (its last
    /// logits current), one sequence each, every step one decode for all that are still
    /// writing.
    #[allow(clippy::too_many_arguments)]
    fn side_by_side(
        &mut self,
        model: &LlamaModel,
        prompt: &[LlamaToken],
        sampling: &[(f32, u32)],
        grammar: Option<&str>,
        max_tokens: u32,
        started: Instant,
        progress: &mut dyn FnMut(u64) -> crate::backend::Flow,
        done: &mut dyn FnMut(usize, Generated) -> crate::backend::Flow,
    ) -> Result<(), Error> {
        let n = sampling.len();
        for seq in 1..n as i32 {
            self.ctx
                .clear_kv_cache_seq(Some(seq as u32), None, None)
                .ok();
            self.ctx
                .copy_kv_cache_seq(0, seq, None, None)
                .map_err(|e| Error::Engine(format!("cache copy: {e}")))?;
        }
        let vocab = model.vocab();
        let mut samplers = sampling
            .iter()
            .map(|&(temperature, seed)| Sampler::new(model, grammar, temperature, seed))
            .collect::<Result<Vec<_>, _>>()?;
        let mut answers: Vec<Answer> = (0..n).map(|_| Answer::default()).collect();
        let mut batch = LlamaBatch::new(n, n as i32);
        let mut total = 0u64;
        // The prompt is read once, for all of them: the first answer handed on carries it.
        let mut prompt_tokens = prompt.len() as u64;
        let mut hand_on = |index: usize, answer: &mut Answer, truncated: bool| {
            answer.done = true;
            done(
                index,
                Generated {
                    text: String::from_utf8_lossy(&std::mem::take(&mut answer.out)).into_owned(),
                    tokens_in: std::mem::take(&mut prompt_tokens),
                    tokens_out: answer.produced,
                    estimated: false,
                    truncated,
                    looped: answer.looped.take(),
                    grammar: grammar.is_some(),
                    wall: started.elapsed(),
                    first_token: answer.first_token.unwrap_or_else(|| started.elapsed()),
                },
            )
        };
        let mut stop = false;
        while !stop && answers.iter().any(|a| !a.done) {
            batch.clear();
            let mut rows = 0;
            for (seq, answer) in answers.iter_mut().enumerate().filter(|(_, a)| !a.done) {
                if stop {
                    break;
                }
                let token = samplers[seq].next(self.ctx.get_logits_ith(answer.row))?;
                if vocab.is_eog(token) {
                    stop = hand_on(seq, answer, false).is_break();
                    continue;
                }
                let piece = vocab.token_to_piece(token, true, None);
                answer.out.extend_from_slice(&piece);
                answer.first_token.get_or_insert_with(|| started.elapsed());
                answer.produced += 1;
                total += 1;
                answer.looped = answer.repeats.push(&piece);
                if answer.looped.is_some() {
                    stop = hand_on(seq, answer, false).is_break();
                    continue;
                }
                if answer.produced >= u64::from(max_tokens) {
                    stop = hand_on(seq, answer, true).is_break();
                    continue;
                }
                let position = (prompt.len() as u64 + answer.produced - 1) as i32;
                batch
                    .add(token, position, &[seq as i32], true)
                    .map_err(|e| Error::Engine(format!("batch: {e}")))?;
                answer.row = rows;
                rows += 1;
            }
            if progress(total).is_break() {
                return Err(Error::Cancelled);
            }
            if rows > 0 && !stop {
                self.decode(&mut batch)?;
            }
        }
        // An answer passed: the others stop here, unfinished, and are counted as such.
        for (index, answer) in answers.iter_mut().enumerate().filter(|(_, a)| !a.done) {
            let _ = hand_on(index, answer, true);
        }
        Ok(())
    }

    /// Drops every answer's cells after side-by-side writing: sequences 1.. entirely, and
    /// sequence 0 past the prompt, so the cache holds exactly `evaluated`.
    fn forget_answers(&mut self, prompt: usize, n: usize) {
        for seq in 1..n as u32 {
            self.ctx.clear_kv_cache_seq(Some(seq), None, None).ok();
        }
        let cut = self
            .ctx
            .clear_kv_cache_seq(Some(0), Some(prompt as u32), None)
            .unwrap_or(false);
        if cut {
            self.evaluated.truncate(prompt);
        } else {
            self.ctx.clear_kv_cache();
            self.evaluated.clear();
        }
    }

    /// Reads one generated token, so the next is sampled after it.
    fn read_one(&mut self, batch: &mut LlamaBatch<'_>, token: LlamaToken) -> Result<(), Error> {
        batch.clear();
        batch
            .add(token, self.evaluated.len() as i32, &[0], true)
            .map_err(|e| Error::Engine(format!("batch: {e}")))?;
        self.decode(batch)?;
        self.evaluated.push(token);
        Ok(())
    }

    fn decode(&mut self, batch: &mut LlamaBatch<'_>) -> Result<(), Error> {
        self.ctx.decode(batch).map_err(|e| {
            // What the cache holds is unknown after a failed decode: start afresh next time.
            self.evaluated.clear();
            self.ctx.clear_kv_cache();
            Error::Engine(format!("llama.cpp could not decode: {e}"))
        })
    }
}

/// Every token of the vocabulary with its logit, for samplers that need them all.
fn candidates(logits: &[f32]) -> LlamaTokenDataArray {
    LlamaTokenDataArray::from_iter(
        logits
            .iter()
            .enumerate()
            .map(|(i, &l)| LlamaTokenData::new(LlamaToken(i as i32), l, 0.0)),
        false,
    )
}

/// One answer being written side by side with others.
struct Answer {
    out: Vec<u8>,
    produced: u64,
    first_token: Option<std::time::Duration>,
    done: bool,
    /// Where its logits are in the last batch (`-1`: the prompt's last token).
    row: i32,
    repeats: crate::backend::Repeats,
    looped: Option<crate::backend::Looped>,
}

impl Default for Answer {
    fn default() -> Self {
        Answer {
            out: Vec::new(),
            produced: 0,
            first_token: None,
            done: false,
            row: -1,
            repeats: Default::default(),
            looped: None,
        }
    }
}

/// What a sampled answer may pick from: the `TOP_K` likeliest tokens, within `TOP_P` of the
/// probability, none less than `MIN_P` times as likely as the likeliest (llama.cpp's defaults).
const TOP_K: i32 = 40;
const TOP_P: f32 = 0.95;
const MIN_P: f32 = 0.05;

/// Picks each answer token. With a grammar, the token the model prefers is picked first and
/// checked against the grammar alone; only when the grammar refuses it is the grammar applied
/// to the whole vocabulary (as llama.cpp's own sampler does): most tokens of an edit block are
/// allowed, and masking 150,000 candidates for every token halved the speed.
struct Sampler {
    grammar: Option<LlamaSampler>,
    /// temperature + distribution, or greedy.
    pick: LlamaSampler,
    greedy: bool,
    /// Check the preferred token before masking everything (see above).
    check_first: bool,
}

impl Sampler {
    fn new(
        model: &LlamaModel,
        gbnf: Option<&str>,
        temperature: f32,
        seed: u32,
    ) -> Result<Sampler, Error> {
        let grammar = gbnf
            .map(|g| {
                LlamaSampler::grammar(model, g, "root")
                    .map_err(|e| Error::Engine(format!("the answer grammar is invalid: {e}")))
            })
            .transpose()?;
        let greedy = temperature <= 0.0;
        let pick = if greedy {
            LlamaSampler::greedy()
        } else {
            // llama.cpp's own defaults for sampled text (its server and CLI): the tail of the
            // distribution cut before the temperature flattens it. Sampled from the whole
            // vocabulary at 0.8, a small model picks a stray token now and then, and an answer
            // that goes off the rails there tends to repeat itself to the line limit.
            LlamaSampler::chain_simple([
                LlamaSampler::top_k(TOP_K),
                LlamaSampler::top_p(TOP_P, 1),
                LlamaSampler::min_p(MIN_P, 1),
                LlamaSampler::temp(temperature),
                LlamaSampler::dist(seed),
            ])
        };
        Ok(Sampler {
            grammar,
            pick,
            greedy,
            check_first: true,
        })
    }

    /// The next token, given the logits after the last token read.
    fn next(&mut self, logits: &[f32]) -> Result<LlamaToken, Error> {
        let preferred = if self.greedy {
            // The argmax straight from the logits: no candidate array at all.
            let (id, logit) =
                logits
                    .iter()
                    .enumerate()
                    .fold((0usize, f32::NEG_INFINITY), |best, (i, &l)| {
                        if l > best.1 { (i, l) } else { best }
                    });
            (LlamaToken(id as i32), logit)
        } else {
            let mut all = candidates(logits);
            all.apply_sampler(&mut self.pick);
            let token = all
                .selected_token()
                .ok_or_else(|| Error::Engine("the sampler chose no token".into()))?;
            (token, logits.get(token.0 as usize).copied().unwrap_or(0.0))
        };
        let Some(grammar) = self.grammar.as_mut() else {
            if !self.greedy {
                self.pick.accept(preferred.0);
            }
            return Ok(preferred.0);
        };
        let mut one = LlamaTokenDataArray::new(
            vec![LlamaTokenData::new(preferred.0, preferred.1, 0.0)],
            false,
        );
        grammar.apply(&mut one);
        let token = if self.check_first && one.data[0].logit().is_finite() {
            preferred.0
        } else {
            let mut all = candidates(logits);
            grammar.apply(&mut all);
            all.apply_sampler(&mut self.pick);
            all.selected_token()
                .ok_or_else(|| Error::Engine("the grammar allows no token here".into()))?
        };
        grammar.accept(token);
        if !self.greedy {
            self.pick.accept(token);
        }
        Ok(token)
    }
}
