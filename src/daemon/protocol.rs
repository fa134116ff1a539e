//! What client and daemon say to each other: one JSON object per line. The first exchange is
//! always `hello`, and a daemon refuses a client of another protocol version.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Bumped whenever a message changes shape (2: a job's result is typed; 3: a failure keeps its
/// hints; 4: a running job can be cancelled; 5: a job's check may carry a label — the spec's
/// examples — that an older daemon would drop, showing the script instead; 6: a job says its
/// edit format, which an older daemon would ignore).
pub const PROTOCOL: u32 = 6;

/// A failed job as the client shows it: the message, what to do next, and whether the user can
/// fix it (exit 1) or it is the program's fault (exit 3).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Failure {
    pub message: String,
    #[serde(default)]
    pub hints: Vec<String>,
    #[serde(default)]
    pub internal: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Request {
    Hello {
        protocol: u32,
        version: String,
    },
    Status,
    Stop,
    /// Run (or resume) job `job` of the repository whose worktree is `worktree`.
    Run {
        worktree: PathBuf,
        job: i64,
    },
    /// Stop job `job` of that worktree, which a client is waiting for: its generation stops at
    /// the next token and nothing is committed (answered `cancelling`, or `refused` when no such
    /// job runs).
    Cancel {
        worktree: PathBuf,
        job: i64,
    },
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    Hello {
        protocol: u32,
        version: String,
        pid: u32,
    },
    Refused {
        message: String,
    },
    Status {
        pid: u32,
        uptime_s: u64,
        model: Option<String>,
        jobs_done: u64,
    },
    Progress {
        message: String,
    },
    Done {
        result: JobResult,
    },
    Failed {
        error: Failure,
    },
    Stopping,
    Cancelling,
}

/// A job's payload: everything the daemon needs to run `implement` as the client would.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ImplementJob {
    /// Relative to the worktree's top.
    pub spec: String,
    pub branch: Option<String>,
    pub model: Option<String>,
    pub context_tokens: usize,
    pub options: crate::local::embedded::Options,
    /// The routing decision that sent the task here, kept with the generation.
    #[serde(default)]
    pub route: Option<serde_json::Value>,
    /// The check loop's command, run on each answer.
    #[serde(default)]
    pub check: Option<crate::local::implement::Check>,
    /// Whole files or EDIT blocks for the files that exist.
    #[serde(default)]
    pub edit_format: crate::local::implement::EditFormat,
}

/// What a finished `implement` job made. A job found already done (resumed after a crash)
/// reports what its record holds: the counts the first run measured are then absent (zero).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct JobResult {
    /// The quarantine branch, without `refs/heads/`.
    pub branch: String,
    pub commit: String,
    pub generation: String,
    pub files: Vec<String>,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub wall_ms: u64,
    /// From the job's start: a cold job includes loading the model.
    pub first_token_ms: u64,
    pub attempts: usize,
    pub left_out: Vec<String>,
    /// The model was already loaded by an earlier job.
    pub model_reused: bool,
    /// The job had finished before this daemon looked (it resumed a killed one).
    pub resumed: bool,
    /// The check loop's last run, when a check ran.
    pub check: Option<crate::store::CheckRecord>,
    /// Prompt tokens the warm model already held (its last answer's prompt).
    pub reused_tokens: u64,
}
