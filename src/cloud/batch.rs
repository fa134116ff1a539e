//! Reviews through the Message Batches API: the same requests as a review sends, at half the
//! price, answered within a day instead of now.
//!
//! Submitting prepares each review exactly as `review` does (redaction, withheld files, parts),
//! sends all parts of all reviews as one batch, and keeps each review's plan in the store.
//! Collecting fetches the results, matches them by custom id (never by position: the API gives
//! them in any order), and concludes each review with the same rule as an immediate review — so a
//! batch can never approve what `review` would not. A request the batch did not run (errored,
//! expired, canceled, missing) leaves its review without a verdict: nothing is approved and the
//! user is told to review again. This module never follows a results URL off the configured API
//! host: the key goes nowhere else.

use std::collections::HashMap;
use std::time::Duration;

use super::client::{self, RequestCounts, Session};
use super::cost::{self, Prices};
use super::review::{self, Error, Outcome, PartFailure, PartOutcome, Plan, Prepared};
use super::{ledger, verdict};
use crate::store::{BatchedReview, OpenBatch, Store, UsageRow};

/// A batch the API accepted.
#[derive(Debug)]
pub struct Submitted {
    pub id: String,
    pub requests: usize,
    pub expires_at: Option<String>,
}

/// What collecting found for one batch.
#[derive(Debug)]
pub enum Collected {
    /// Still running: how many requests are where.
    Running {
        id: String,
        counts: RequestCounts,
        submitted_at: i64,
        targets: Vec<String>,
    },
    /// Ended: each review concluded (a verdict, or why there is none).
    Ended {
        id: String,
        reviews: Vec<(BatchedReview, Outcome)>,
    },
    /// The API no longer has it (results are kept 29 days).
    Lost {
        id: String,
        why: String,
        targets: Vec<String>,
    },
}

/// The custom id of part `part` of review `seq`: `r<seq>-p<part>` fits the API's
/// `[a-zA-Z0-9_-]{1,64}`.
fn custom_id(seq: usize, part: usize) -> String {
    format!("r{seq}-p{part}")
}

/// How long `--wait` sleeps between two looks at a batch (`GIT_HYBRID_BATCH_POLL`, seconds).
pub fn poll_interval() -> Duration {
    std::env::var("GIT_HYBRID_BATCH_POLL")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| *s >= 0.0)
        .map(Duration::from_secs_f64)
        .unwrap_or(Duration::from_secs(30))
}

/// Submits the prepared reviews as one batch and records it. All reviews use one model.
pub fn submit(store: &mut Store, reviews: Vec<Prepared>) -> Result<Submitted, Error> {
    let model = reviews
        .first()
        .map(|r| r.plan.model.clone())
        .unwrap_or_default();
    let mut requests = Vec::new();
    let mut batched = Vec::new();
    for (seq, Prepared { plan, parts }) in reviews.into_iter().enumerate() {
        for (index, part) in parts.into_iter().enumerate() {
            tracing::trace!(prompt = %serde_json::to_string(&part.request).unwrap_or_default(), "batched review request");
            requests.push((custom_id(seq, index), part.request));
        }
        batched.push(BatchedReview {
            seq: seq as i64,
            change_id: plan.change_id.clone(),
            target: plan.target.clone(),
            plan: serde_json::to_string(&plan)
                .map_err(|e| client::Error::Protocol(e.to_string()))?,
            concluded: false,
        });
    }
    let (body, sent) = client::batch_body(&requests)?;
    let created = Session::from_env()?.wait(|c| c.create_batch(&body));
    // What left the machine is audited whether or not the API took it.
    let outcome = match &created {
        Ok(b) => format!("batch {} ({} requests)", b.id, requests.len()),
        Err(e) => format!("failed: {e}"),
    };
    let batch_id = created.as_ref().ok().map(|b| b.id.as_str());
    store.record_request(
        crate::store::Provider::Anthropic,
        &model,
        sent.bytes,
        &sent.sha256,
        batch_id,
        &outcome,
    )?;
    let batch = created?;
    store.record_batch(&OpenBatch {
        id: batch.id.clone(),
        model,
        requests: requests.len() as i64,
        submitted_at: 0,
        expires_at: batch.expires_at.clone(),
        reviews: batched,
    })?;
    Ok(Submitted {
        id: batch.id,
        requests: requests.len(),
        expires_at: batch.expires_at,
    })
}

/// Looks at every batch not yet collected and concludes the ended ones. With `wait`, polls each
/// running batch until it ends.
pub fn collect(
    store: &mut Store,
    wait: bool,
    progress: &dyn Fn(&str),
) -> Result<Vec<Collected>, Error> {
    let open = store.open_batches()?;
    if open.is_empty() {
        return Ok(Vec::new());
    }
    let session = Session::from_env()?;
    let mut found = Vec::new();
    for batch in open {
        match collect_one(store, &session, &batch, wait, progress) {
            Ok(c) => found.push(c),
            // The batch, or its results (kept 29 days), are gone: nothing can conclude it.
            Err(Error::Client(client::Error::Api { status: 404, .. })) => {
                let why = "the API no longer has this batch or its results (kept 29 days)";
                store.lose_batch(&batch.id, why)?;
                found.push(Collected::Lost {
                    id: batch.id.clone(),
                    why: why.to_string(),
                    targets: batch.reviews.iter().map(|r| r.target.clone()).collect(),
                });
            }
            Err(e) => return Err(e),
        }
    }
    Ok(found)
}

fn collect_one(
    store: &mut Store,
    session: &Session,
    batch: &OpenBatch,
    wait: bool,
    progress: &dyn Fn(&str),
) -> Result<Collected, Error> {
    let state = loop {
        progress(&format!("looking at batch {}", batch.id));
        let state = session.wait(|c| c.batch(&batch.id))?;
        if state.ended() || !wait {
            break state;
        }
        progress(&format!(
            "batch {}: {} of {} requests done; waiting",
            batch.id,
            (batch.requests as u64).saturating_sub(state.request_counts.processing),
            batch.requests
        ));
        std::thread::sleep(poll_interval());
    };
    if !state.ended() {
        return Ok(Collected::Running {
            id: batch.id.clone(),
            counts: state.request_counts,
            submitted_at: batch.submitted_at,
            targets: batch.reviews.iter().map(|r| r.target.clone()).collect(),
        });
    }
    progress(&format!("fetching the results of batch {}", batch.id));
    let mut by_id: HashMap<String, client::BatchResult> = session
        .wait(|c| c.batch_results(&state))?
        .into_iter()
        .map(|r| (r.custom_id.clone(), r))
        .collect();
    let waited_ms = (crate::store::now_secs() - batch.submitted_at).max(0) * 1000;
    let prices = Prices::load();
    let mut reviews = Vec::new();
    for r in batch.reviews.iter().filter(|r| !r.concluded) {
        let plan: Plan = serde_json::from_str(&r.plan).map_err(|e| {
            client::Error::Protocol(format!("the stored plan of {}: {e}", r.target))
        })?;
        let outcome = conclude(store, &prices, plan, r.seq as usize, &mut by_id, waited_ms)?;
        store.conclude_batched_review(&batch.id, r.seq, outcome.verdict_id)?;
        reviews.push((r.clone(), outcome));
    }
    store.close_batch(&batch.id)?;
    Ok(Collected::Ended {
        id: batch.id.clone(),
        reviews,
    })
}

/// One review's parts from the results, priced at the batch rate, concluded like `review`.
fn conclude(
    store: &mut Store,
    prices: &Prices,
    plan: Plan,
    seq: usize,
    results: &mut HashMap<String, client::BatchResult>,
    waited_ms: i64,
) -> Result<Outcome, Error> {
    let date = cost::today();
    let mut outcomes = Vec::new();
    let mut usd = 0.0;
    for (index, files) in plan.parts.iter().enumerate() {
        let answer = match results.remove(&custom_id(seq, index)) {
            Some(r) => r.into_response(),
            None => Err(client::Error::NotRun("missing from the results".into())),
        };
        let outcome = match answer {
            Ok(response) => {
                let parsed = verdict::parse(&response);
                let part_usd = prices.cost(&plan.model, &date, &response.usage, true);
                usd += part_usd.unwrap_or(0.0);
                store.record_usage(&UsageRow {
                    batch: true,
                    ..ledger::usage_row(
                        &plan.phase,
                        &plan.model,
                        &response,
                        part_usd,
                        parsed.is_ok(),
                        waited_ms,
                    )
                })?;
                PartOutcome {
                    index,
                    files: files.clone(),
                    result: parsed.map_err(PartFailure::Answer),
                    usage: Some(response.usage),
                    request_id: response.request_id,
                }
            }
            Err(e) => PartOutcome {
                index,
                files: files.clone(),
                result: Err(PartFailure::Call(e)),
                usage: None,
                request_id: None,
            },
        };
        outcomes.push(outcome);
    }
    review::conclude(store, plan, outcomes, usd)
}
