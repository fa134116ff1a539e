//! A Claude review of one change: what is sent (redacted, withheld, split into parts), what comes
//! back (a verdict or a reason there is none), and what is recorded.
//!
//! The change is reviewed part by part under a token budget; the change is approved only when
//! every part's answer is a well-formed approval and no hidden characters were found locally.
//! Files matched by `.hybridignore` are never sent: the verdict names them, approves none of their
//! lines, and never approves the change id as a whole. The diff is untrusted data: it is fenced
//! with a nonce the text cannot guess and described as data, and the answer's shape is fixed by
//! the JSON schema whatever the diff says.

mod parts;
mod prepare;
mod prompt;
mod send;
pub mod session;

use std::path::Path;

use git2::Oid;

use super::client;
use super::verdict::{NotAVerdict, Verdict};
use crate::store::{self, FindingRow};

pub use parts::estimate_tokens;
pub(crate) use prepare::load_ignore;
pub use prepare::{Plan, Prepared, PreparedPart, PromptTokens, prepare};
pub use send::{conclude, finding_row, send};

pub use crate::config::{DEFAULT_PART_TOKENS, DEFAULT_REVIEW_MODEL as DEFAULT_MODEL};
const MAX_OUTPUT_TOKENS: u32 = 16_384;
/// Lines of surrounding code shown around each hunk in the prompt (the change id uses 3). Six
/// keeps the prompt at 1.13x the plain diff on this repository's history (12 gave 1.25x):
/// `cargo bench --bench prompt_overhead`.
const PROMPT_CONTEXT: usize = 6;
pub const IGNORE_FILE: &str = ".hybridignore";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Client(#[from] client::Error),
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error("cannot read {what}: {}", source.message())]
    Git {
        what: String,
        #[source]
        source: git2::Error,
    },
    #[error("invalid {IGNORE_FILE}: {0}")]
    Ignore(String),
    #[error(transparent)]
    Change(#[from] crate::change::Error),
    #[error("a verdict would not serialise: {0}")]
    Json(#[from] serde_json::Error),
}

/// Everything a review needs besides the change itself.
pub struct Options<'a> {
    pub model: &'a str,
    /// The ledger's phase for these calls: `review`, or `fix` for a fix loop's re-review.
    pub phase: &'static str,
    pub part_tokens: usize,
    /// The spec the change was generated from, when known: (path, text).
    pub spec: Option<(String, String)>,
    /// The tree the change leads to, for files the spec names.
    pub tip_tree: Option<Oid>,
    /// How the change was named (`hybrid/login`, `A..B`, `--staged`).
    pub target: String,
    pub base_commit: Option<String>,
    pub tip_commit: Option<String>,
    /// The worktree, where `.hybridignore` is read.
    pub worktree: Option<&'a Path>,
    /// How the check loop's command went on the change's tip, in one line, so the reviewer
    /// knows whether tests ran.
    pub check: Option<String>,
}

/// How one part went.
#[derive(Debug)]
pub struct PartOutcome {
    pub index: usize,
    pub files: Vec<String>,
    pub result: Result<Verdict, PartFailure>,
    pub usage: Option<client::Usage>,
    pub request_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PartFailure {
    #[error(transparent)]
    Call(client::Error),
    #[error(transparent)]
    Answer(NotAVerdict),
}

/// The whole review.
#[derive(Debug)]
pub struct Outcome {
    pub change_id: String,
    pub parts: Vec<PartOutcome>,
    pub withheld: Vec<String>,
    pub local_findings: Vec<FindingRow>,
    pub redactions: usize,
    pub approved: bool,
    /// Set when every part produced a verdict and one was stored.
    pub verdict_id: Option<i64>,
    pub usd: f64,
    /// The change's added lines the requests did not carry as written: never approved.
    pub unsent: std::collections::BTreeSet<crate::change::Fingerprint>,
}
