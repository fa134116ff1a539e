//! What goes over the wire: the request and answer types the product uses, and the body as sent
//! with its size and hash for the audit record.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::Error;

/// A block of the `system` prompt or of a message.
#[derive(Clone, Debug, Serialize)]
pub struct TextBlock {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
}

impl TextBlock {
    pub fn new(text: impl Into<String>) -> TextBlock {
        TextBlock {
            kind: "text",
            text: text.into(),
            cache_control: None,
        }
    }

    /// Marks the prompt up to and including this block as cacheable.
    pub fn cached(mut self) -> TextBlock {
        self.cache_control = Some(CacheControl { kind: "ephemeral" });
        self
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct CacheControl {
    #[serde(rename = "type")]
    pub kind: &'static str,
}

#[derive(Clone, Debug, Serialize)]
pub struct Message {
    pub role: &'static str,
    pub content: Vec<TextBlock>,
}

/// A Messages API request. Only the fields the product uses exist here: no sampling parameters
/// (5.x models reject them) and no `tool_choice` (a forced tool is a 400 on always-thinking
/// models); structured output goes through `output_config`.
#[derive(Clone, Debug, Serialize)]
pub struct Request {
    pub model: String,
    pub max_tokens: u32,
    pub system: Vec<TextBlock>,
    pub messages: Vec<Message>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_config: Option<Value>,
    /// False inside a batch, where the field must be absent: batches are never streamed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stream: bool,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct Usage {
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
    #[serde(default)]
    pub cache_creation_input_tokens: u64,
    #[serde(default)]
    pub cache_read_input_tokens: u64,
}

/// One content block of the answer, as far as the product reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    Text(String),
    /// Thinking (and redacted thinking) carries no verdict; kept only to be skipped knowingly.
    Thinking,
    Other(String),
}

/// The whole answer, assembled from the stream.
#[derive(Clone, Debug)]
pub struct Response {
    pub id: String,
    pub model: String,
    pub content: Vec<Block>,
    pub stop_reason: Option<String>,
    pub usage: Usage,
    pub request_id: Option<String>,
    /// The events as received, for the store's raw record.
    pub raw: String,
}

impl Response {
    /// The text blocks joined: where the structured answer is.
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter_map(|b| match b {
                Block::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }
}

impl Response {
    /// A message as a batch result carries it (the non-streamed form).
    pub fn from_message(message: &Value, request_id: Option<String>) -> Response {
        let content = message["content"]
            .as_array()
            .map(|blocks| blocks.iter().map(block_of).collect())
            .unwrap_or_default();
        Response {
            id: message["id"].as_str().unwrap_or_default().to_string(),
            model: message["model"].as_str().unwrap_or_default().to_string(),
            content,
            stop_reason: message["stop_reason"].as_str().map(str::to_string),
            usage: serde_json::from_value(message["usage"].clone()).unwrap_or_default(),
            request_id,
            raw: message.to_string(),
        }
    }
}

/// One content block, by its type.
pub(super) fn block_of(b: &Value) -> Block {
    match b["type"].as_str().unwrap_or_default() {
        "text" => Block::Text(b["text"].as_str().unwrap_or_default().to_string()),
        "thinking" | "redacted_thinking" => Block::Thinking,
        other => Block::Other(other.to_string()),
    }
}

/// What was sent, for the audit record: the body's size and hash.
#[derive(Clone, Debug)]
pub struct Sent {
    pub bytes: usize,
    pub sha256: String,
}

/// A finished call: the answer, what was sent, how many attempts and how long.
#[derive(Clone, Debug)]
pub struct Call {
    pub response: Response,
    pub sent: Sent,
    pub attempts: u32,
    pub wall: Duration,
}

/// The request's body as sent, with its size and hash for the audit record.
pub fn encode(request: &Request) -> Result<(Vec<u8>, Sent), Error> {
    audited(serde_json::to_vec(request))
}

/// A batch's body: each request under its custom id, none of them streamed.
pub fn batch_body(requests: &[(String, Request)]) -> Result<(Vec<u8>, Sent), Error> {
    let items: Vec<Value> = requests
        .iter()
        .map(|(id, r)| {
            let mut r = r.clone();
            r.stream = false;
            serde_json::json!({"custom_id": id, "params": r})
        })
        .collect();
    audited(serde_json::to_vec(
        &serde_json::json!({ "requests": items }),
    ))
}

pub(super) fn audited(body: serde_json::Result<Vec<u8>>) -> Result<(Vec<u8>, Sent), Error> {
    let body = body.map_err(|e| Error::Protocol(e.to_string()))?;
    let sent = Sent {
        bytes: body.len(),
        sha256: crate::digest::hex(&Sha256::digest(&body)),
    };
    Ok((body, sent))
}
