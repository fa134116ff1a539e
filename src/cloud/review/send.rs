//! Sending a prepared review and concluding it: every call in the ledger, a verdict stored only
//! when every part answered, an approval only when every part approved.

use super::prepare::{Plan, Prepared, PreparedPart};
use super::{Error, Outcome, PartFailure, PartOutcome};
use crate::cloud::client::{Call, Session};
use crate::cloud::cost::{self, Prices};
use crate::cloud::ledger;
use crate::cloud::verdict::{self, Decision};
use crate::store::{self, FindingRow, Store, VerdictRecord};

/// A reviewer's finding as the store keeps it (severity and category by their schema names).
pub fn finding_row(f: &verdict::Finding) -> FindingRow {
    let name = |v: serde_json::Result<serde_json::Value>| {
        v.ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    };
    FindingRow {
        source: store::FindingSource::Reviewer,
        path: f.path.clone(),
        line: f.line,
        severity: name(serde_json::to_value(f.severity)),
        category: name(serde_json::to_value(f.category)),
        message: f.message.clone(),
        suggestion: f.suggestion.clone(),
    }
}

/// Sends the prepared parts, records every call, the verdict and its approved lines, and says
/// whether the change was approved.
pub fn send(
    store: &mut Store,
    prepared: Prepared,
    progress: &dyn Fn(&str),
) -> Result<Outcome, Error> {
    let Prepared { plan, parts } = prepared;
    let total = parts.len();
    let session = Session::from_env()?;
    let prices = Prices::load();
    let date = cost::today();
    let model = plan.model.as_str();
    let mut outcomes = Vec::new();
    let mut usd = 0.0;
    for (index, PreparedPart { files, request }) in parts.into_iter().enumerate() {
        tracing::trace!(prompt = %serde_json::to_string(&request).unwrap_or_default(), "review request");
        progress(&format!(
            "reviewing part {}/{total} with {model}",
            index + 1
        ));
        let doing = format!("reviewing part {}/{total} with {model}", index + 1);
        let call = session.send(&request, |p| progress(&p.line(&doing)));
        let outcome = match call {
            Ok(call) => {
                let parsed = verdict::parse(&call.response);
                let part_usd = prices.cost(model, &date, &call.response.usage, false);
                usd += part_usd.unwrap_or(0.0);
                ledger::record_answer(
                    store,
                    &plan.phase,
                    model,
                    &call,
                    part_usd,
                    parsed.is_ok(),
                    "no verdict",
                )?;
                let Call { response, .. } = call;
                PartOutcome {
                    index,
                    files,
                    result: parsed.map_err(PartFailure::Answer),
                    usage: Some(response.usage),
                    request_id: response.request_id,
                }
            }
            Err(e) => {
                ledger::record_failure(store, model, &request, &e)?;
                PartOutcome {
                    index,
                    files,
                    result: Err(PartFailure::Call(e)),
                    usage: None,
                    request_id: None,
                }
            }
        };
        let failed_hard = matches!(&outcome.result, Err(PartFailure::Call(e)) if e.is_auth());
        outcomes.push(outcome);
        if failed_hard {
            // A refused key refuses every part the same way: no point spending the others.
            break;
        }
    }
    conclude(store, plan, outcomes, usd)
}

/// Turns the parts' answers into the review's verdict: stored when every part answered, an
/// approval only when every part approved and nothing was found locally.
pub fn conclude(
    store: &mut Store,
    plan: Plan,
    outcomes: Vec<PartOutcome>,
    usd: f64,
) -> Result<Outcome, Error> {
    let Plan {
        change_id,
        model,
        target,
        base_commit,
        tip_commit,
        parts,
        withheld,
        local_findings,
        redactions,
        sent,
        complete,
        unsent,
        via,
        client,
        ..
    } = plan;
    let total = parts.len();
    let all_answered = outcomes.len() == total && outcomes.iter().all(|p| p.result.is_ok());
    let all_approve = all_answered
        && outcomes
            .iter()
            .all(|p| matches!(&p.result, Ok(v) if v.decision == Decision::Approve));
    let approved = all_approve && local_findings.is_empty();
    let mut verdict_id = None;
    if all_answered {
        let mut findings = local_findings.clone();
        let mut summaries = Vec::new();
        let mut raw = Vec::new();
        for p in &outcomes {
            if let Ok(v) = &p.result {
                summaries.push(if total > 1 {
                    format!("part {}: {}", p.index + 1, v.summary)
                } else {
                    v.summary.clone()
                });
                raw.push(serde_json::to_value(v)?);
                findings.extend(v.findings.iter().map(finding_row));
            }
        }
        verdict_id = Some(
            store.record_verdict(&VerdictRecord {
                change_id: change_id.clone(),
                decision: if approved {
                    Decision::Approve
                } else {
                    Decision::RequestChanges
                },
                model,
                request_id: Some(
                    outcomes
                        .iter()
                        .filter_map(|p| p.request_id.as_deref())
                        .collect::<Vec<_>>()
                        .join(","),
                )
                .filter(|ids| !ids.is_empty()),
                raw_response: Some(serde_json::Value::Array(raw).to_string()),
                summary: summaries.join("\n"),
                complete,
                base_commit,
                tip_commit,
                target,
                parts: total as u32,
                findings,
                seen: sent,
                via,
                client,
            })?,
        );
    }
    if let Some(id) = verdict_id {
        store.record_unsent(id, &unsent)?;
    }
    Ok(Outcome {
        change_id,
        parts: outcomes,
        withheld,
        local_findings,
        redactions,
        approved,
        verdict_id,
        usd,
        unsent,
    })
}
