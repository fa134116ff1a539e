//! The `openai` backend: any OpenAI-compatible `/v1/chat/completions` server (Ollama,
//! llama-server, vLLM, LM Studio), streamed.
//!
//! It sends the conversation as is and reads the streamed deltas; usage comes from the server
//! when it reports it (`stream_options.include_usage`), otherwise it is estimated and marked so.
//! An optional key goes in `Authorization` and nowhere else.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Backend, ChatMessage, Error, Generated};
use crate::backend::Constraint;

pub struct OpenAi {
    http: reqwest::Client,
    url: String,
    model: String,
    key: Option<String>,
    sampling: Sampling,
    /// How the edit format is enforced; `Auto` until the server has been asked what it is.
    mode: std::cell::Cell<Constrain>,
    /// Set for the next request when it is a retry (see `Backend::retrying`).
    retry: std::cell::Cell<Option<usize>>,
    shape: Option<Constraint>,
    runtime: tokio::runtime::Runtime,
}

/// Sampling settings sent with every request (servers otherwise pick their own).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sampling {
    pub max_tokens: u32,
    pub temperature: f32,
    pub seed: u32,
}

/// How a server is told the answer's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Constrain {
    /// Ask the server what it is (`/v1/models`' `owned_by`) and choose.
    Auto,
    /// `grammar`: a GBNF string (llama.cpp's server, llama-cpp-python).
    Grammar,
    /// `response_format` with a strict `json_schema` (OpenAI-style; Ollama 0.5 and later, LM
    /// Studio).
    JsonSchema,
    /// vLLM's guided decoding: `guided_json`, and `structured_outputs` for newer releases.
    Vllm,
    /// Nothing: the answer is parsed strictly and the model asked again when it does not parse.
    None,
}

impl Constrain {
    pub fn parse(name: &str) -> Option<Constrain> {
        Some(match name {
            "auto" => Constrain::Auto,
            "grammar" | "llama.cpp" | "llamacpp" => Constrain::Grammar,
            "json_schema" | "json-schema" | "ollama" | "openai" => Constrain::JsonSchema,
            "vllm" => Constrain::Vllm,
            "none" => Constrain::None,
            _ => return None,
        })
    }

    /// The request fields this mode sends.
    fn fields(self) -> &'static [&'static str] {
        match self {
            Constrain::Grammar => &["grammar"],
            Constrain::JsonSchema => &["response_format"],
            Constrain::Vllm => &["guided_json", "structured_outputs"],
            Constrain::Auto | Constrain::None => &[],
        }
    }

    /// What a server's model listing says it is.
    /// (Ollama, LM Studio and OpenAI-style servers all take the JSON schema.)
    fn detect(owned_by: &str) -> Constrain {
        match owned_by {
            "llamacpp" | "me" => Constrain::Grammar,
            "vllm" => Constrain::Vllm,
            _ => Constrain::JsonSchema,
        }
    }
}

/// What JSON-answering servers are told, since the edit blocks' instructions describe blocks.
const JSON_ANSWER: &str = "Answer with one JSON object, nothing else: {\"files\": [{\"path\", \"content\"}] \
for files written whole, \"edits\": [{\"path\", \"search\", \"replace\"}] for replacements in existing files}.";

impl OpenAi {
    /// `base_url` may end in `/v1` or not.
    pub fn new(
        base_url: &str,
        model: &str,
        key: Option<String>,
        sampling: Sampling,
        mode: Constrain,
    ) -> Result<OpenAi, Error> {
        let base = base_url.trim_end_matches('/');
        let url = if base.ends_with("/v1") {
            format!("{base}/chat/completions")
        } else {
            format!("{base}/v1/chat/completions")
        };
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(300))
            .build()
            .map_err(|e| Error::Engine(e.to_string()))?;
        let runtime = crate::runtime::blocking().map_err(|e| Error::Engine(e.to_string()))?;
        Ok(OpenAi {
            http,
            url,
            model: model.to_string(),
            key,
            sampling,
            mode: std::cell::Cell::new(mode),
            retry: std::cell::Cell::new(None),
            shape: None,
            runtime,
        })
    }

    /// The server's kind from its model listing; JSON schema when it cannot be told.
    async fn detect(&self) -> Constrain {
        let models = self.url.replace("/chat/completions", "/models");
        let mut request = self.http.get(&models).timeout(Duration::from_secs(5));
        if let Some(key) = &self.key {
            request = request.bearer_auth(key);
        }
        let owned_by = match request.send().await {
            Ok(r) => r
                .json::<Value>()
                .await
                .ok()
                .and_then(|v| v["data"][0]["owned_by"].as_str().map(str::to_string))
                .unwrap_or_default(),
            Err(_) => String::new(),
        };
        let mode = Constrain::detect(&owned_by);
        tracing::debug!(owned_by, ?mode, "the server's kind");
        mode
    }

    /// The request body: the conversation, sampling, and the answer's shape in the form `mode`
    /// says.
    fn body(&self, messages: &[ChatMessage], mode: Constrain) -> Value {
        let mut messages: Vec<Value> = messages
            .iter()
            .map(|m| json!({"role": m.role, "content": m.content}))
            .collect();
        let mut body = json!({
            "model": self.model,
            "stream": true,
            "stream_options": {"include_usage": true},
            "max_tokens": self.sampling.max_tokens,
            "temperature": self.sampling.temperature,
            "seed": self.sampling.seed,
        });
        if let Some(attempt) = self.retry.get()
            && self.sampling.temperature <= 0.0
        {
            body["temperature"] = json!(crate::backend::RETRY_TEMPERATURE);
            body["seed"] = json!(self.sampling.seed.wrapping_add(attempt as u32));
        }
        if let Some(shape) = &self.shape {
            match mode {
                Constrain::Grammar => body["grammar"] = json!(shape.gbnf),
                Constrain::JsonSchema => {
                    body["response_format"] = json!({
                        "type": "json_schema",
                        "json_schema": {"name": "edits", "strict": true, "schema": shape.json_schema},
                    })
                }
                Constrain::Vllm => {
                    body["guided_json"] = shape.json_schema.clone();
                    body["structured_outputs"] = json!({"json": shape.json_schema});
                }
                Constrain::Auto | Constrain::None => {}
            }
            // The block format's instructions are in the system message: say what replaces them.
            if matches!(mode, Constrain::JsonSchema | Constrain::Vllm)
                && let Some(first) = messages.first_mut()
                && first["role"] == "system"
            {
                let text = format!(
                    "{}\n\n{JSON_ANSWER}",
                    first["content"].as_str().unwrap_or_default()
                );
                first["content"] = json!(text);
            }
        }
        body["messages"] = Value::Array(messages);
        body
    }

    async fn call(
        &self,
        messages: &[ChatMessage],
        progress: &mut dyn FnMut(u64) -> crate::backend::Flow,
    ) -> Result<Generated, Error> {
        let started = Instant::now();
        if self.mode.get() == Constrain::Auto {
            self.mode.set(self.detect().await);
        }
        let mode = self.mode.get();
        let result = self.stream(messages, mode, started, progress).await;
        match result {
            // A server that refuses the shape's field still answers without it: parsed
            // strictly, asked again when it does not parse.
            // (llama-cpp-python answers a field it cannot validate with a 500 naming it.)
            Err(Failed::Http { status, message })
                if self.shape.is_some()
                    && mode != Constrain::None
                    && (status == 400
                        || status == 422
                        || (status == 500
                            && mode.fields().iter().any(|f| message.contains(f)))) =>
            {
                tracing::warn!(
                    status,
                    message,
                    ?mode,
                    "the server refused the answer's shape; sending none from now on"
                );
                self.mode.set(Constrain::None);
                Ok(self
                    .stream(messages, Constrain::None, started, progress)
                    .await?)
            }
            other => Ok(other?),
        }
    }

    async fn stream(
        &self,
        messages: &[ChatMessage],
        mode: Constrain,
        started: Instant,
        progress: &mut dyn FnMut(u64) -> crate::backend::Flow,
    ) -> Result<Generated, Failed> {
        let body = self.body(messages, mode);
        tracing::trace!(body = %body, "openai request");
        let mut request = self.http.post(&self.url).json(&body);
        if let Some(key) = &self.key {
            request = request.bearer_auth(key);
        }
        let mut response = request.send().await.map_err(|e| {
            Error::Unreachable(format!("cannot reach {}: {}", self.url, e.without_url()))
        })?;
        let status = response.status();
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            let message = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
                .unwrap_or(text);
            return Err(Failed::Http {
                status: status.as_u16(),
                message: format!("{} answered HTTP {}: {message}", self.url, status.as_u16()),
            });
        }
        let mut framer = crate::sse::Framer::default();
        let mut answer = Answer::default();
        // An answer that loops is not read to its end: dropping the response closes the
        // connection, and the server stops writing it.
        'read: while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| Error::Broken(format!("the stream broke: {}", e.without_url())))?
        {
            for event in framer.push(&chunk) {
                answer.take(&event.data, started, progress)?;
                if answer.looped.is_some() {
                    break 'read;
                }
            }
        }
        if answer.looped.is_none()
            && let Some(event) = framer.finish()
        {
            answer.take(&event.data, started, progress)?;
        }
        if !answer.done && answer.looped.is_none() {
            return Err(Error::Broken("the stream ended before [DONE]".to_string()).into());
        }
        let Answer {
            text,
            usage,
            pieces,
            truncated,
            looped,
            first_token,
            ..
        } = answer;
        let estimated = usage.is_none();
        let (tokens_in, tokens_out) = usage.unwrap_or_else(|| {
            let chars: usize = messages.iter().map(|m| m.content.len()).sum();
            (chars.div_ceil(4) as u64, pieces)
        });
        Ok(Generated {
            text,
            tokens_in,
            tokens_out,
            estimated,
            truncated,
            looped,
            grammar: self.shape.is_some() && mode == Constrain::Grammar,
            wall: started.elapsed(),
            first_token: first_token.unwrap_or_else(|| started.elapsed()),
        })
    }
}

/// Why one request failed: the server's HTTP refusal (which may be of the answer's shape), or
/// anything else.
enum Failed {
    Http { status: u16, message: String },
    Other(Error),
}

impl From<Error> for Failed {
    fn from(e: Error) -> Failed {
        Failed::Other(e)
    }
}

impl From<Failed> for Error {
    fn from(f: Failed) -> Error {
        match f {
            Failed::Http { message, .. } => Error::Refused(message),
            Failed::Other(e) => e,
        }
    }
}

/// A streamed answer as its events arrive.
#[derive(Default)]
struct Answer {
    text: String,
    usage: Option<(u64, u64)>,
    pieces: u64,
    done: bool,
    truncated: bool,
    first_token: Option<Duration>,
    repeats: crate::backend::Repeats,
    looped: Option<crate::backend::Looped>,
}

impl Answer {
    fn take(
        &mut self,
        data: &str,
        started: Instant,
        progress: &mut dyn FnMut(u64) -> crate::backend::Flow,
    ) -> Result<(), Error> {
        let data = data.trim();
        if data.is_empty() {
            return Ok(());
        }
        if data == "[DONE]" {
            self.done = true;
            return Ok(());
        }
        let v: Value = serde_json::from_str(data)
            .map_err(|e| Error::Broken(format!("unreadable stream event: {e}")))?;
        if v["choices"][0]["finish_reason"] == "length" {
            self.truncated = true;
        }
        if let Some(piece) = v["choices"][0]["delta"]["content"].as_str() {
            self.first_token.get_or_insert_with(|| started.elapsed());
            self.text.push_str(piece);
            self.pieces += 1;
            self.looped = self.repeats.push(piece.as_bytes());
            if progress(self.pieces).is_break() {
                return Err(Error::Cancelled);
            }
        }
        if let (Some(i), Some(o)) = (
            v["usage"]["prompt_tokens"].as_u64(),
            v["usage"]["completion_tokens"].as_u64(),
        ) {
            self.usage = Some((i, o));
        }
        Ok(())
    }
}

impl Backend for OpenAi {
    fn provider(&self) -> crate::store::Provider {
        crate::store::Provider::OpenAi
    }

    fn model(&self) -> &str {
        &self.model
    }

    fn identity(&self) -> serde_json::Value {
        serde_json::json!({"server": self.url})
    }

    fn generate(
        &mut self,
        messages: &[ChatMessage],
        progress: &mut dyn FnMut(u64) -> crate::backend::Flow,
    ) -> Result<Generated, Error> {
        self.runtime.block_on(self.call(messages, progress))
    }

    fn constrain(&mut self, shape: &Constraint) {
        self.shape = Some(shape.clone());
    }

    fn max_tokens(&self) -> Option<u32> {
        Some(self.sampling.max_tokens)
    }

    fn retrying(&mut self, attempt: usize) {
        self.retry.set(Some(attempt));
    }
}
