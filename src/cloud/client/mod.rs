//! The Anthropic Messages API client: one `POST /v1/messages`, streamed (SSE), with the retry
//! discipline the API documents.
//!
//! Retries 408, 409, 429, 5xx, 529 and connection failures with exponential backoff and jitter,
//! honouring `retry-after-ms`, `retry-after` and `x-should-retry`, within a bound on total time.
//! 400/401/403/404/413 and a spend-limit 429 are final. The API key is sent in `x-api-key` and
//! nowhere else: it is never logged, stored, or put into an error.
//!
//! Its parts: `wire` (the request and answer types, and the audited body), `retry` (the policy
//! and the classification of failures), `sse` (assembling the streamed answer), `batch` (the
//! Message Batches objects); this file holds the client, the blocking session and the errors.

use std::time::{Duration, Instant};

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

mod batch;
mod retry;
mod sse;
mod wire;

pub use batch::{Batch, BatchResult, RequestCounts};
use retry::Failure;
pub use retry::RetryPolicy;
use sse::{SseAssembler, StreamEnd};
pub use wire::{
    Block, CacheControl, Call, Message, Request, Response, Sent, TextBlock, Usage, batch_body,
    encode,
};

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
    pub fn send(&self, request: &Request, progress: impl FnMut(Progress)) -> Result<Call, Error> {
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

/// What a streamed call reports while it runs.
#[derive(Clone, Debug)]
pub enum Progress {
    /// Output characters received so far in this attempt.
    Received(usize),
    /// An attempt failed in a way worth trying again; attempt `next` starts after `wait`.
    Retrying {
        next: u32,
        max_attempts: u32,
        wait: Duration,
        why: String,
    },
}

impl Progress {
    /// The progress line for a call that is `doing` something ("reviewing part 1/2 with …").
    pub fn line(&self, doing: &str) -> String {
        match self {
            Progress::Received(chars) => format!("{doing}: {chars} characters received"),
            Progress::Retrying {
                next,
                max_attempts,
                wait,
                why,
            } => format!(
                "{doing}: {why}; trying again in {} s (attempt {next} of {max_attempts})",
                wait.as_secs_f64().ceil()
            ),
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

    /// Sends one request, streamed, retrying what may be retried. `progress` hears the output
    /// characters received so far, and each retry before its wait.
    pub async fn send(
        &self,
        request: &Request,
        mut progress: impl FnMut(Progress),
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
            failure
                .wait(attempt, started, policy, &mut progress)
                .await?;
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
            failure
                .wait(attempt, started, &self.config.retry, &mut |_| {})
                .await?;
        }
    }

    async fn attempt(
        &self,
        body: &[u8],
        progress: &mut impl FnMut(Progress),
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
                    progress(Progress::Received(stream.output_chars));
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
