//! The Messages API's stream assembled into a response; the framing is `crate::sse`'s.

use serde_json::Value;

use super::wire::{Block, Response, Usage, block_of};

pub(super) enum StreamEnd {
    Api { kind: String, message: String },
    Broken(String),
}

/// Assembles the Messages API's server-sent events into a response.
#[derive(Default)]
pub(super) struct SseAssembler {
    framer: crate::sse::Framer,
    raw: String,
    id: String,
    model: String,
    blocks: Vec<Block>,
    stop_reason: Option<String>,
    usage: Usage,
    stopped: bool,
    error: Option<(String, String)>,
    pub(super) output_chars: usize,
}

impl SseAssembler {
    pub(super) fn feed(&mut self, chunk: &[u8]) -> Result<(), String> {
        for event in self.framer.push(chunk) {
            self.raw.push_str(&event.text);
            self.raw.push_str("\n\n");
            if !event.data.is_empty() {
                self.event(&event.data)?;
            }
        }
        Ok(())
    }

    pub(super) fn event(&mut self, data: &str) -> Result<(), String> {
        let v: Value = serde_json::from_str(data).map_err(|e| format!("bad event data: {e}"))?;
        match v["type"].as_str().unwrap_or_default() {
            "message_start" => {
                let m = &v["message"];
                self.id = m["id"].as_str().unwrap_or_default().to_string();
                self.model = m["model"].as_str().unwrap_or_default().to_string();
                self.usage = serde_json::from_value(m["usage"].clone()).unwrap_or_default();
            }
            "content_block_start" => {
                self.blocks.push(block_of(&v["content_block"]));
            }
            "content_block_delta" => {
                let d = &v["delta"];
                if d["type"] == "text_delta" {
                    let piece = d["text"].as_str().unwrap_or_default();
                    self.output_chars += piece.chars().count();
                    match self.blocks.last_mut() {
                        Some(Block::Text(t)) => t.push_str(piece),
                        _ => return Err("a text delta outside a text block".into()),
                    }
                }
            }
            "message_delta" => {
                if let Some(reason) = v["delta"]["stop_reason"].as_str() {
                    self.stop_reason = Some(reason.to_string());
                }
                // The final usage counts replace the running ones field by field.
                let u = &v["usage"];
                for (field, slot) in [
                    ("output_tokens", &mut self.usage.output_tokens),
                    ("input_tokens", &mut self.usage.input_tokens),
                    (
                        "cache_creation_input_tokens",
                        &mut self.usage.cache_creation_input_tokens,
                    ),
                    (
                        "cache_read_input_tokens",
                        &mut self.usage.cache_read_input_tokens,
                    ),
                ] {
                    if let Some(n) = u[field].as_u64() {
                        *slot = n;
                    }
                }
            }
            "message_stop" => self.stopped = true,
            "error" => {
                self.error = Some((
                    v["error"]["type"].as_str().unwrap_or("error").to_string(),
                    v["error"]["message"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                ));
            }
            // ping, content_block_stop and event types added later carry nothing we need.
            _ => {}
        }
        Ok(())
    }

    pub(super) fn finish(self, request_id: Option<String>) -> Result<Response, StreamEnd> {
        if let Some((kind, message)) = self.error {
            return Err(StreamEnd::Api { kind, message });
        }
        if !self.stopped {
            return Err(StreamEnd::Broken(
                "the stream ended before message_stop".into(),
            ));
        }
        Ok(Response {
            id: self.id,
            model: self.model,
            content: self.blocks,
            stop_reason: self.stop_reason,
            usage: self.usage,
            request_id,
            raw: self.raw,
        })
    }
}
