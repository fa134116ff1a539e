//! When a failed call is tried again: the policy, how each failure is classified, and the
//! backoff with jitter (or what the API's retry headers say).

use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Error, Progress, header, shown_url};

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

/// A failed attempt and whether (and when) it may be tried again.
pub(super) struct Failure {
    pub(super) error: Error,
    pub(super) retryable: bool,
    /// What the server asked for (`retry-after-ms` / `retry-after`).
    pub(super) after: Option<Duration>,
}

impl Failure {
    pub(super) fn fatal(error: Error) -> Failure {
        Failure {
            error,
            retryable: false,
            after: None,
        }
    }

    pub(super) fn transport(e: reqwest::Error, idle: Duration) -> Failure {
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

    pub(super) fn from_status(
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
    pub(super) async fn wait(
        self,
        attempt: u32,
        started: Instant,
        policy: &RetryPolicy,
        notify: &mut dyn FnMut(Progress),
    ) -> Result<(), Error> {
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
        // A backoff of up to 30 s must not look like a hang.
        notify(Progress::Retrying {
            next: attempt + 1,
            max_attempts: policy.max_attempts,
            wait,
            why: self.error.to_string(),
        });
        tokio::time::sleep(wait).await;
        Ok(())
    }

    /// How long to wait before the next attempt, or `None` when this failure is final.
    pub(super) fn retry_after(&self, attempt: u32, policy: &RetryPolicy) -> Option<Duration> {
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
pub(super) fn unit_random() -> f64 {
    getrandom::u64().map_or(0.5, |n| (n >> 11) as f64 / (1u64 << 53) as f64)
}

/// reqwest's error text with its cause chain (connection refused, DNS, TLS…); the URL in it is
/// shown without credentials or query, which a proxy or base URL may carry.
pub(super) fn without_url(e: &reqwest::Error) -> String {
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

pub(super) fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}
