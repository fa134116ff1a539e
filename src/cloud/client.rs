//! The Anthropic Messages API client: one `POST /v1/messages`, streamed (SSE), with the retry
//! discipline the API documents.
//!
//! Retries 408, 409, 429, 5xx, 529 and connection failures with exponential backoff and jitter,
//! honouring `retry-after-ms`, `retry-after` and `x-should-retry`, within a bound on total time.
//! 400/401/403/404/413 and a spend-limit 429 are final. The API key is sent in `x-api-key` and
//! nowhere else: it is never logged, stored, or put into an error.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
pub const API_VERSION: &str = "2023-06-01";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("ANTHROPIC_API_KEY is not set")]
    NoKey,
    #[error("the API refused the key (HTTP {status}, {kind}): {message}")]
    Auth {
        status: u16,
        kind: String,
        message: String,
    },
    #[error("the API answered HTTP {status} ({kind}): {message}")]
    Api {
        status: u16,
        kind: String,
        message: String,
        request_id: Option<String>,
    },
    #[error("gave up after {attempts} attempts in {:.1}s; last: {last}", elapsed.as_secs_f64())]
    Exhausted {
        attempts: u32,
        elapsed: Duration,
        last: String,
    },
    #[error("no answer within {:.1}s", .0.as_secs_f64())]
    Timeout(Duration),
    #[error("cannot reach the API: {0}")]
    Connect(String),
    #[error("the API's answer could not be read: {0}")]
    Protocol(String),
    #[error("the batch did not run this request: {0}")]
    NotRun(String),
}

impl Error {
    /// Why the request failed, for the user: no verdict is derived from a failed request.
    pub fn is_auth(&self) -> bool {
        matches!(self, Error::Auth { .. } | Error::NoKey)
    }
}

/// The retry policy; tests shorten it through the environment.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base: Duration,
    pub max_backoff: Duration,
    pub budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            budget: Duration::from_secs(300),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub base_url: String,
    pub api_key: String,
    pub connect_timeout: Duration,
    /// How long a response may stay silent (no byte of the stream) before it counts as timed out.
    pub idle_timeout: Duration,
    pub retry: RetryPolicy,
}

/// Where requests go: `ANTHROPIC_BASE_URL`, or the public endpoint.
pub fn base_url() -> String {
    std::env::var("ANTHROPIC_BASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_BASE_URL.to_string())
}

/// A URL fit to print: without the user, password, query and fragment it may carry.
pub fn shown_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => "(an unparsable URL)".to_string(),
    }
}

impl Config {
    /// From the environment: `ANTHROPIC_API_KEY` (required), `ANTHROPIC_BASE_URL`, and
    /// `GIT_HYBRID_API_TIMEOUT` (seconds of silence before giving up).
    pub fn from_env() -> Result<Config, Error> {
        let api_key = std::env::var("ANTHROPIC_API_KEY")
            .ok()
            .filter(|k| !k.trim().is_empty())
            .ok_or(Error::NoKey)?;
        let base_url = base_url();
        let idle_timeout = std::env::var("GIT_HYBRID_API_TIMEOUT")
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|s| *s > 0.0)
            .map(Duration::from_secs_f64)
            .unwrap_or(Duration::from_secs(120));
        Ok(Config {
            base_url: base_url.trim_end_matches('/').to_string(),
            api_key,
            connect_timeout: Duration::from_secs(10),
            idle_timeout,
            retry: RetryPolicy {
                // How many times a call is tried in all (`GIT_HYBRID_API_ATTEMPTS`, at least 1).
                max_attempts: std::env::var("GIT_HYBRID_API_ATTEMPTS")
                    .ok()
                    .and_then(|s| s.parse::<u32>().ok())
                    .map_or(RetryPolicy::default().max_attempts, |n| n.max(1)),
                ..RetryPolicy::default()
            },
        })
    }
}

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
fn block_of(b: &Value) -> Block {
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

fn audited(body: serde_json::Result<Vec<u8>>) -> Result<(Vec<u8>, Sent), Error> {
    let body = body.map_err(|e| Error::Protocol(e.to_string()))?;
    let sent = Sent {
        bytes: body.len(),
        sha256: crate::digest::hex(&Sha256::digest(&body)),
    };
    Ok((body, sent))
}

/// The client with a single-threaded runtime of its own, for a command that makes its calls one
/// after another. Building it reads the environment and sends nothing.
pub struct Session {
    runtime: tokio::runtime::Runtime,
    client: Client,
}

impl Session {
    pub fn from_env() -> Result<Session, Error> {
        let client = Client::new(Config::from_env()?)?;
        let runtime = crate::runtime::blocking()
            .map_err(|e| Error::Connect(format!("cannot start the network runtime: {e}")))?;
        Ok(Session { runtime, client })
    }

    /// `Client::send`, waited for.
    pub fn send(&self, request: &Request, progress: impl FnMut(usize)) -> Result<Call, Error> {
        self.runtime.block_on(self.client.send(request, progress))
    }

    /// Any other call of the client, waited for.
    pub fn wait<'a, T, F>(&'a self, call: impl FnOnce(&'a Client) -> F) -> Result<T, Error>
    where
        F: std::future::Future<Output = Result<T, Error>>,
    {
        self.runtime.block_on(call(&self.client))
    }
}

/// A Message Batch as the API describes it.
#[derive(Clone, Debug, Deserialize)]
pub struct Batch {
    pub id: String,
    /// `in_progress`, `canceling` or `ended`.
    pub processing_status: String,
    #[serde(default)]
    pub request_counts: RequestCounts,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub ended_at: Option<String>,
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub results_url: Option<String>,
}

impl Batch {
    fn parse(text: &str) -> Result<Batch, Error> {
        serde_json::from_str(text).map_err(|e| Error::Protocol(format!("a batch: {e}")))
    }

    pub fn ended(&self) -> bool {
        self.processing_status == "ended"
    }
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct RequestCounts {
    #[serde(default)]
    pub processing: u64,
    #[serde(default)]
    pub succeeded: u64,
    #[serde(default)]
    pub errored: u64,
    #[serde(default)]
    pub canceled: u64,
    #[serde(default)]
    pub expired: u64,
}

/// One line of a batch's results.
#[derive(Clone, Debug, Deserialize)]
pub struct BatchResult {
    pub custom_id: String,
    pub result: Value,
}

impl BatchResult {
    /// The answer, or why there is none: the request errored, or the batch never ran it.
    pub fn into_response(self) -> Result<Response, Error> {
        match self.result["type"].as_str().unwrap_or_default() {
            "succeeded" => {
                let message = &self.result["message"];
                let id = message["id"].as_str().map(str::to_string);
                Ok(Response::from_message(message, id))
            }
            "errored" => {
                let e = &self.result["error"]["error"];
                Err(Error::Api {
                    status: 200,
                    kind: e["type"].as_str().unwrap_or("error").to_string(),
                    message: e["message"].as_str().unwrap_or_default().to_string(),
                    request_id: None,
                })
            }
            other => Err(Error::NotRun(if other.is_empty() {
                "no result".to_string()
            } else {
                other.to_string()
            })),
        }
    }
}

pub struct Client {
    http: reqwest::Client,
    config: Config,
}

impl Client {
    pub fn new(config: Config) -> Result<Client, Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.idle_timeout)
            .user_agent(concat!("git-hybrid/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Connect(e.to_string()))?;
        Ok(Client { http, config })
    }

    /// Sends one request, streamed, retrying what may be retried. `progress` is called with the
    /// number of output characters received so far.
    pub async fn send(
        &self,
        request: &Request,
        mut progress: impl FnMut(usize),
    ) -> Result<Call, Error> {
        let (body, sent) = encode(request)?;
        let started = Instant::now();
        let policy = &self.config.retry;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let failure = match self.attempt(&body, &mut progress).await {
                Ok(response) => {
                    return Ok(Call {
                        response,
                        sent,
                        attempts: attempt,
                        wall: started.elapsed(),
                    });
                }
                Err(f) => f,
            };
            failure.wait(attempt, started, policy).await?;
        }
    }

    /// Creates a Message Batch from `batch_body`. A timeout is not retried here:
    /// the batch may have been created, and a second one would be paid twice.
    pub async fn create_batch(&self, body: &[u8]) -> Result<Batch, Error> {
        let url = format!("{}/v1/messages/batches", self.config.base_url);
        Batch::parse(
            &self
                .plain(reqwest::Method::POST, &url, Some(body), false)
                .await?,
        )
    }

    /// The batch as it stands now.
    pub async fn batch(&self, id: &str) -> Result<Batch, Error> {
        let url = format!("{}/v1/messages/batches/{id}", self.config.base_url);
        Batch::parse(&self.plain(reqwest::Method::GET, &url, None, true).await?)
    }

    /// The results of an ended batch, one per request, in whatever order the API gives them.
    pub async fn batch_results(&self, batch: &Batch) -> Result<Vec<BatchResult>, Error> {
        // The key only ever goes to the configured API: a results URL elsewhere is not followed.
        let own = format!(
            "{}/v1/messages/batches/{}/results",
            self.config.base_url, batch.id
        );
        let url = match &batch.results_url {
            Some(u) if u.starts_with(&format!("{}/", self.config.base_url)) => u.clone(),
            _ => own,
        };
        let text = self.plain(reqwest::Method::GET, &url, None, true).await?;
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str::<BatchResult>(l)
                    .map_err(|e| Error::Protocol(format!("a batch result line: {e}")))
            })
            .collect()
    }

    /// A request to the API: the only place the key is put on the wire.
    fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, url)
            .header("x-api-key", &self.config.api_key)
            .header("anthropic-version", API_VERSION)
    }

    /// One non-streamed request, retried like `send`; the body of the 200 answer.
    async fn plain(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&[u8]>,
        retry_transport: bool,
    ) -> Result<String, Error> {
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut builder = self.request(method.clone(), url);
            if let Some(body) = body {
                builder = builder
                    .header("content-type", "application/json")
                    .body(body.to_vec());
            }
            let failure = match builder.send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let headers = response.headers().clone();
                    let request_id = header(&headers, "request-id");
                    match response.text().await {
                        Ok(text) if status == 200 => return Ok(text),
                        Ok(text) => Failure::from_status(status, &headers, &text, request_id),
                        Err(e) => Failure::transport(e, self.config.idle_timeout),
                    }
                }
                Err(e) => {
                    let mut f = Failure::transport(e, self.config.idle_timeout);
                    f.retryable = retry_transport;
                    f
                }
            };
            failure.wait(attempt, started, &self.config.retry).await?;
        }
    }

    async fn attempt(
        &self,
        body: &[u8],
        progress: &mut impl FnMut(usize),
    ) -> Result<Response, Failure> {
        let url = format!("{}/v1/messages", self.config.base_url);
        let sent = self
            .request(reqwest::Method::POST, &url)
            .header("content-type", "application/json")
            .header("accept", "text/event-stream")
            .body(body.to_vec())
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) => return Err(Failure::transport(e, self.config.idle_timeout)),
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let request_id = header(&headers, "request-id");
        if status != 200 {
            let text = response.text().await.unwrap_or_default();
            return Err(Failure::from_status(status, &headers, &text, request_id));
        }
        let mut response = response;
        let mut stream = SseAssembler::default();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    stream
                        .feed(&chunk)
                        .map_err(|e| Failure::fatal(Error::Protocol(e)))?;
                    progress(stream.output_chars);
                }
                Ok(None) => break,
                Err(e) => return Err(Failure::transport(e, self.config.idle_timeout)),
            }
        }
        stream.finish(request_id).map_err(|e| match e {
            StreamEnd::Api { kind, message } => Failure {
                retryable: kind == "overloaded_error" || kind == "api_error",
                after: None,
                error: Error::Api {
                    status: 200,
                    kind,
                    message,
                    request_id: None,
                },
            },
            StreamEnd::Broken(why) => Failure {
                retryable: true,
                after: None,
                error: Error::Protocol(why),
            },
        })
    }
}

fn header(headers: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// A failed attempt and whether (and when) it may be tried again.
struct Failure {
    error: Error,
    retryable: bool,
    /// What the server asked for (`retry-after-ms` / `retry-after`).
    after: Option<Duration>,
}

impl Failure {
    fn fatal(error: Error) -> Failure {
        Failure {
            error,
            retryable: false,
            after: None,
        }
    }

    fn transport(e: reqwest::Error, idle: Duration) -> Failure {
        let error = if e.is_timeout() {
            Error::Timeout(idle)
        } else {
            Error::Connect(without_url(&e))
        };
        Failure {
            error,
            retryable: true,
            after: None,
        }
    }

    fn from_status(
        status: u16,
        headers: &reqwest::header::HeaderMap,
        body: &str,
        request_id: Option<String>,
    ) -> Failure {
        let parsed: Option<Value> = serde_json::from_str(body).ok();
        let field = |name: &str| {
            parsed
                .as_ref()
                .and_then(|v| v["error"][name].as_str())
                .map(str::to_string)
        };
        let kind = field("type").unwrap_or_else(|| "unknown_error".into());
        let message = field("message").unwrap_or_else(|| truncate(body, 300));
        let spend_limit = status == 429
            && (message.to_lowercase().contains("spend")
                || message.to_lowercase().contains("credit"));
        let should_retry = header(headers, "x-should-retry").map(|v| v == "true");
        let by_status = matches!(status, 408 | 409 | 429 | 529) || (500..600).contains(&status);
        let retryable = !spend_limit && should_retry.unwrap_or(by_status);
        let after = header(headers, "retry-after-ms")
            .and_then(|v| v.parse::<f64>().ok())
            .map(|ms| Duration::from_secs_f64(ms / 1000.0))
            .or_else(|| {
                header(headers, "retry-after")
                    .and_then(|v| v.parse::<f64>().ok())
                    .map(Duration::from_secs_f64)
            });
        let error = if matches!(status, 401 | 403) {
            Error::Auth {
                status,
                kind,
                message,
            }
        } else {
            Error::Api {
                status,
                kind,
                message,
                request_id,
            }
        };
        Failure {
            error,
            retryable,
            after,
        }
    }

    /// Waits before the next attempt, or gives the error back when this failure is final or
    /// the retries are spent.
    async fn wait(self, attempt: u32, started: Instant, policy: &RetryPolicy) -> Result<(), Error> {
        let Some(wait) = self.retry_after(attempt, policy) else {
            return Err(self.error);
        };
        let elapsed = started.elapsed();
        if attempt >= policy.max_attempts || elapsed + wait > policy.budget {
            return Err(Error::Exhausted {
                attempts: attempt,
                elapsed,
                last: self.error.to_string(),
            });
        }
        tracing::info!(attempt, ?wait, error = %self.error, "retrying the API call");
        tokio::time::sleep(wait).await;
        Ok(())
    }

    /// How long to wait before the next attempt, or `None` when this failure is final.
    fn retry_after(&self, attempt: u32, policy: &RetryPolicy) -> Option<Duration> {
        if !self.retryable {
            return None;
        }
        if let Some(after) = self.after {
            return Some(after.min(policy.max_backoff));
        }
        let exp = policy
            .base
            .saturating_mul(1 << (attempt - 1).min(16))
            .min(policy.max_backoff);
        // Jitter between 75% and 100% of the step, from the OS's random source, so clients that
        // failed together spread out (a clock's low bits tick in whole microseconds on many
        // systems and say nothing).
        Some(exp.mul_f64(0.75 + 0.25 * unit_random()))
    }
}

/// A number in [0, 1) from the operating system's random source (the middle of the range if it
/// cannot be read: jitter is a courtesy, not a correctness matter).
fn unit_random() -> f64 {
    getrandom::u64().map_or(0.5, |n| (n >> 11) as f64 / (1u64 << 53) as f64)
}

/// reqwest's error text with its cause chain (connection refused, DNS, TLS…); the URL in it is
/// shown without credentials or query, which a proxy or base URL may carry.
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(url.as_str(), &shown_url(url.as_str()));
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

enum StreamEnd {
    Api { kind: String, message: String },
    Broken(String),
}

/// Assembles the Messages API's server-sent events into a response.
#[derive(Default)]
struct SseAssembler {
    buffer: Vec<u8>,
    raw: String,
    id: String,
    model: String,
    blocks: Vec<Block>,
    stop_reason: Option<String>,
    usage: Usage,
    stopped: bool,
    error: Option<(String, String)>,
    output_chars: usize,
}

impl SseAssembler {
    fn feed(&mut self, chunk: &[u8]) -> Result<(), String> {
        self.buffer.extend_from_slice(chunk);
        // Events end with a blank line; the stream may use \n or \r\n.
        while let Some((end, len)) = find_event_end(&self.buffer) {
            let event: Vec<u8> = self.buffer.drain(..end + len).collect();
            let text = String::from_utf8_lossy(&event[..end]).replace("\r\n", "\n");
            self.raw.push_str(&text);
            self.raw.push_str("\n\n");
            let data: String = text
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(|d| d.strip_prefix(' ').unwrap_or(d))
                .collect::<Vec<_>>()
                .join("\n");
            if !data.is_empty() {
                self.event(&data)?;
            }
        }
        Ok(())
    }

    fn event(&mut self, data: &str) -> Result<(), String> {
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

    fn finish(self, request_id: Option<String>) -> Result<Response, StreamEnd> {
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

fn find_event_end(buffer: &[u8]) -> Option<(usize, usize)> {
    let lf = buffer.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2));
    let crlf = buffer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4));
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assembles_a_streamed_answer_in_any_chunking() {
        let events = concat!(
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"m\",\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}\n\n",
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}\n\n",
            "event: ping\ndata: {\"type\": \"ping\"}\r\n\r\n",
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"{\\\"a\\\":\"}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"1}\"}}\n\n",
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":7}}\n\n",
            "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
        );
        for size in [1, 7, 64, events.len()] {
            let mut s = SseAssembler::default();
            for chunk in events.as_bytes().chunks(size) {
                s.feed(chunk).unwrap();
            }
            let r = s.finish(Some("req_1".into())).ok().unwrap();
            assert_eq!(r.text(), "{\"a\":1}");
            assert_eq!(r.content[0], Block::Thinking);
            assert_eq!(r.stop_reason.as_deref(), Some("end_turn"));
            assert_eq!(r.usage.input_tokens, 10);
            assert_eq!(r.usage.output_tokens, 7);
        }
    }

    #[test]
    fn a_stream_cut_short_is_not_an_answer() {
        let mut s = SseAssembler::default();
        s.feed(b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{}}\n\n")
            .unwrap();
        assert!(matches!(s.finish(None), Err(StreamEnd::Broken(_))));
    }

    #[test]
    fn retry_rules() {
        let policy = RetryPolicy::default();
        let headers = reqwest::header::HeaderMap::new();
        for status in [408, 409, 429, 500, 502, 529] {
            assert!(
                Failure::from_status(status, &headers, "{}", None).retryable,
                "{status}"
            );
        }
        for status in [400, 401, 403, 404, 413] {
            assert!(
                !Failure::from_status(status, &headers, "{}", None).retryable,
                "{status}"
            );
        }
        let spend = r#"{"type":"error","error":{"type":"rate_limit_error","message":"You have reached your spend limit"}}"#;
        assert!(!Failure::from_status(429, &headers, spend, None).retryable);
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("x-should-retry", "false".parse().unwrap());
        assert!(!Failure::from_status(529, &h, "{}", None).retryable);
        h.insert("x-should-retry", "true".parse().unwrap());
        h.insert("retry-after-ms", "250".parse().unwrap());
        let f = Failure::from_status(400, &h, "{}", None);
        assert_eq!(f.retry_after(1, &policy), Some(Duration::from_millis(250)));
        let f = Failure::from_status(500, &headers, "{}", None);
        let wait = f.retry_after(3, &policy).unwrap();
        assert!(wait >= Duration::from_millis(1500) && wait <= Duration::from_millis(2000));
    }
}
