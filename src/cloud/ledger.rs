//! What every Anthropic call leaves in the store: the audit of what was sent (size and hash,
//! never the body) and, when an answer came, its usage and price in the cost ledger. One place,
//! so that a review, a spec and anything later record calls the same way.

use super::client::{self, Call, Request};
use crate::store::{self, Store, UsageRow};

/// Records an answered call. `answered` says whether the answer was usable (a verdict, a spec);
/// `unusable` names what it was not, for the audit.
pub fn record_answer(
    store: &mut Store,
    phase: &str,
    model: &str,
    call: &Call,
    usd: Option<f64>,
    answered: bool,
    unusable: &str,
) -> store::Result<()> {
    let response = &call.response;
    store.record_request(
        crate::store::Provider::Anthropic,
        model,
        call.sent.bytes,
        &call.sent.sha256,
        response.request_id.as_deref(),
        if answered { "answered" } else { unusable },
    )?;
    store.record_usage(&usage_row(
        phase,
        model,
        response,
        usd,
        answered,
        call.wall.as_millis() as i64,
    ))
}

/// The ledger row for an answer. A batch's answers are recorded with this alone (`batch` set):
/// what was sent was audited when the batch was submitted.
pub fn usage_row(
    phase: &str,
    model: &str,
    response: &client::Response,
    usd: Option<f64>,
    answered: bool,
    wall_ms: i64,
) -> UsageRow {
    let u = &response.usage;
    UsageRow {
        phase: phase.into(),
        provider: crate::store::Provider::Anthropic,
        model: model.to_string(),
        input_tokens: u.input_tokens as i64,
        output_tokens: u.output_tokens as i64,
        cache_write_tokens: u.cache_creation_input_tokens as i64,
        cache_read_tokens: u.cache_read_input_tokens as i64,
        usd,
        wall_ms,
        request_id: response.request_id.clone(),
        ok: answered,
        ..UsageRow::default()
    }
}

/// Records a call that got no answer: what was sent still left the machine.
pub fn record_failure(
    store: &mut Store,
    model: &str,
    request: &Request,
    error: &client::Error,
) -> store::Result<()> {
    let (bytes, sha256) = client::encode(request)
        .map(|(_, sent)| (sent.bytes, sent.sha256))
        .unwrap_or_default();
    store.record_request(
        crate::store::Provider::Anthropic,
        model,
        bytes,
        &sha256,
        None,
        &format!("failed: {error}"),
    )
}
