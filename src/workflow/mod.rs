//! The use cases between the command files and the engines: which backend runs a model
//! (`engine`), who implements a spec and where the job runs (`implement`), and which change a
//! review target names, with its spec, ready to send (`review`), and what a range is verified
//! against (`verify`); the fix loop (`fix`) and what a server's hooks do with a push
//! (`receive`).
//!
//! A command file parses its arguments, calls one function here and prints what comes back; the
//! engines below do the work. This layer never prints and never reads the command line: what it
//! has to say comes back as values (or through a progress callback), so the daemon, the fix loop
//! and the commands decide the same way.

pub mod engine;
pub mod fix;
pub mod implement;
pub mod receive;
pub mod review;
pub mod verify;

pub use engine::{BackendKind, Engine};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0:?} is not a backend (embedded or openai)")]
    UnknownBackend(String),
    #[error("{0:?} is not a way to constrain answers (auto, grammar, json_schema, vllm or none)")]
    UnknownConstrain(String),
    #[error("{0:?} is not an edit format (auto, whole, edit or merge)")]
    UnknownEditFormat(String),
    #[error("{0} answers side by side is out of range (1 to {max})", max = engine::MAX_CANDIDATES)]
    Candidates(u32),
    #[error("{0}")]
    Unreadable(String),
    #[error("the openai backend needs a model name")]
    NoModelName,
    #[error("the model could not be loaded: {0}")]
    Load(crate::backend::Error),
    #[error("the server's client could not be built: {0}")]
    Client(crate::backend::Error),
    #[error("a job would not serialise: {0}")]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Model(#[from] crate::local::models::Error),
    #[error(transparent)]
    Implement(#[from] crate::local::implement::Error),
    #[error(transparent)]
    Daemon(#[from] crate::daemon::Error),
    #[error(transparent)]
    Store(#[from] crate::store::Error),
    #[error(transparent)]
    Cloud(#[from] crate::cloud::client::Error),
    #[error(transparent)]
    Review(#[from] crate::cloud::review::Error),
    #[error(transparent)]
    Repo(#[from] crate::git::Error),
    #[error(transparent)]
    Change(#[from] crate::change::Error),
    #[error(transparent)]
    Provenance(#[from] crate::provenance::Error),
    #[error(transparent)]
    Spec(#[from] crate::spec::ReadError),
    #[error(transparent)]
    Verify(#[from] verify::VerifyError),
    #[error("this repository's committed policy does not accept reviews made in an MCP session")]
    SessionsOff,
    #[error(transparent)]
    Session(#[from] crate::cloud::review::session::SessionError),
    #[error(transparent)]
    Records(#[from] crate::records::Error),
}
