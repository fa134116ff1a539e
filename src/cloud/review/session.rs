//! Reviews answered in an MCP client's session rather than by the API: the prepared requests are
//! handed out as text under a one-time id, and the answers come back through the same verdict
//! rules as the API's (`verdict::parse_text`, `conclude`). What an approval covers is the plan's —
//! the lines of the requests handed out, computed before anything left — never the answer's.
//!
//! Whether a session's verdict counts is the committed policy's to say, where the gate judges;
//! this module only records how each verdict was made (`Via::Mcp`) and who reported making it.

use super::prepare::{Plan, Prepared};
use super::{Error, Outcome, PartFailure, PartOutcome, conclude};
use crate::cloud::verdict;
use crate::store::{Store, Via};

/// How long a handed-out review may wait for its answer: longer, and the branch it was made of
/// has likely moved (the answer would still cover only what was sent, but ask again).
pub const MAX_AGE_SECS: i64 = 24 * 3600;

/// A review handed to a session: its one-time id and what each part asks.
pub struct Handed {
    pub id: String,
    pub parts: Vec<HandedPart>,
}

pub struct HandedPart {
    pub files: Vec<String>,
    /// The request as the API would receive it — instructions, checklist, the fenced diff — in
    /// one text.
    pub text: String,
}

/// Why a session's answer was not taken.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(
        "no review is waiting under id {0}: it was never handed out, was answered already, or is older than a day"
    )]
    Unknown(String),
    #[error("the review has {expected} part(s) and {got} answer(s) came")]
    Count { expected: usize, got: usize },
    #[error("the review's plan could not be read back: {0}")]
    Plan(serde_json::Error),
    #[error(transparent)]
    Review(#[from] Error),
}

/// Keeps the review's plan under a new one-time id and returns the parts' texts to answer.
pub fn hand_out(store: &mut Store, prepared: Prepared) -> Result<Handed, Error> {
    let Prepared { plan, parts } = prepared;
    let id = format!("sr-{}", super::prompt::nonce(&plan.change_id));
    store.hold_session_review(&id, &serde_json::to_string(&plan)?)?;
    let parts = parts
        .into_iter()
        .map(|p| HandedPart {
            files: p.files,
            text: p
                .request
                .system
                .iter()
                .map(|b| b.text.as_str())
                .chain(
                    p.request
                        .messages
                        .iter()
                        .flat_map(|m| m.content.iter().map(|b| b.text.as_str())),
                )
                .collect::<Vec<_>>()
                .join("\n\n"),
        })
        .collect();
    Ok(Handed { id, parts })
}

/// Takes the session's answers (one per part, in order) to the review handed out under `id`,
/// once: each must be the verdict schema's JSON. `client` is what the session reported it is
/// (client and model), kept with the verdict. Returns the review's target and its outcome.
pub fn take_in(
    store: &mut Store,
    id: &str,
    answers: &[String],
    client: &str,
) -> Result<(String, Outcome), SessionError> {
    let text = store
        .take_session_review(id, MAX_AGE_SECS)
        .map_err(Error::from)?
        .ok_or_else(|| SessionError::Unknown(id.to_string()))?;
    let mut plan: Plan = serde_json::from_str(&text).map_err(SessionError::Plan)?;
    if answers.len() != plan.parts.len() {
        // Miscounted answers are a slip, not an answer: the review waits for the right ones.
        store.hold_session_review(id, &text).map_err(Error::from)?;
        return Err(SessionError::Count {
            expected: plan.parts.len(),
            got: answers.len(),
        });
    }
    plan.via = Via::Mcp;
    plan.client = Some(client.to_string());
    plan.model = client.to_string();
    let outcomes = answers
        .iter()
        .zip(&plan.parts)
        .enumerate()
        .map(|(index, (answer, files))| PartOutcome {
            index,
            files: files.clone(),
            result: verdict::parse_text(answer).map_err(PartFailure::Answer),
            usage: None,
            request_id: None,
        })
        .collect();
    let target = plan.target.clone();
    Ok((target, conclude(store, plan, outcomes, 0.0)?))
}
