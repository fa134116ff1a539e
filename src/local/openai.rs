//! The `openai` backend: any OpenAI-compatible `/v1/chat/completions` server (Ollama,
//! llama-server, vLLM, LM Studio), streamed.
//!
//! It sends the conversation as is and reads the streamed deltas; usage comes from the server
//! when it reports it (`stream_options.include_usage`), otherwise it is estimated and marked so.
//! An optional key goes in `Authorization` and nowhere else.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Backend, ChatMessage, Error, Generated};

pub struct OpenAi {
    http: reqwest::Client,
    url: String,
    model: String,
    key: Option<String>,
    runtime: tokio::runtime::Runtime,
}

impl OpenAi {
    /// `base_url` may end in `/v1` or not.
    pub fn new(base_url: &str, model: &str, key: Option<String>) -> Result<OpenAi, Error> {
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
            .map_err(|e| Error::Backend(e.to_string()))?;
        let runtime = crate::runtime::blocking().map_err(|e| Error::Backend(e.to_string()))?;
        Ok(OpenAi {
            http,
            url,
            model: model.to_string(),
            key,
            runtime,
        })
    }

    async fn call(
        &self,
        messages: &[ChatMessage],
        progress: &mut dyn FnMut(u64),
    ) -> Result<Generated, Error> {
        let started = Instant::now();
        let body = json!({
            "model": self.model,
            "messages": messages.iter().map(|m| json!({"role": m.role, "content": m.content})).collect::<Vec<_>>(),
            "stream": true,
            "stream_options": {"include_usage": true},
        });
        let mut request = self.http.post(&self.url).json(&body);
        if let Some(key) = &self.key {
            request = request.bearer_auth(key);
        }
        let mut response = request.send().await.map_err(|e| {
            Error::Backend(format!("cannot reach {}: {}", self.url, e.without_url()))
        })?;
        let status = response.status();
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            let message = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
                .unwrap_or(text);
            return Err(Error::Backend(format!(
                "{} answered HTTP {}: {message}",
                self.url,
                status.as_u16()
            )));
        }
        let mut framer = crate::sse::Framer::default();
        let mut answer = Answer::default();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| Error::Backend(format!("the stream broke: {}", e.without_url())))?
        {
            for event in framer.push(&chunk) {
                answer.take(&event.data, started, progress)?;
            }
        }
        if let Some(event) = framer.finish() {
            answer.take(&event.data, started, progress)?;
        }
        if !answer.done {
            return Err(Error::Backend("the stream ended before [DONE]".to_string()));
        }
        let Answer {
            text,
            usage,
            pieces,
            truncated,
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
            wall: started.elapsed(),
            first_token: first_token.unwrap_or_else(|| started.elapsed()),
        })
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
}

impl Answer {
    fn take(
        &mut self,
        data: &str,
        started: Instant,
        progress: &mut dyn FnMut(u64),
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
            .map_err(|e| Error::Backend(format!("unreadable stream event: {e}")))?;
        if v["choices"][0]["finish_reason"] == "length" {
            self.truncated = true;
        }
        if let Some(piece) = v["choices"][0]["delta"]["content"].as_str() {
            self.first_token.get_or_insert_with(|| started.elapsed());
            self.text.push_str(piece);
            self.pieces += 1;
            progress(self.pieces);
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
        progress: &mut dyn FnMut(u64),
    ) -> Result<Generated, Error> {
        self.runtime.block_on(self.call(messages, progress))
    }
}
