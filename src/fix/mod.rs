//! The fix loop: the findings of the latest `request_changes` verdict go back to the local model
//! as a fix on the same branch (a new generation), then only the interdiff is reviewed, with the
//! previous review as context — far cheaper than reviewing everything again.
//!
//! When the interdiff review approves, the whole branch is approved: the earlier review saw all
//! of it and asked for exactly these changes, and the new review saw that they were made and
//! nothing else slipped in. This module never approves anything a review did not answer
//! `approve` to, and it stops after a bounded number of rounds.

use crate::cloud::review::{self, Options};
use crate::config::Settings;
use crate::git::Repo;
use crate::local::Backend;
use crate::local::implement::{self, Spec};
use crate::provenance::Range;
use crate::store::{self, FindingRow, Store, VerdictRecord};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{branch} has no review yet")]
    NoReview { branch: String },
    #[error("{branch} is already approved")]
    Approved { branch: String },
    #[error(transparent)]
    Implement(#[from] implement::Error),
    #[error(transparent)]
    Review(#[from] review::Error),
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(transparent)]
    Git(#[from] crate::git::Error),
    #[error(transparent)]
    Provenance(#[from] crate::provenance::Error),
}

/// One round: the fix commit and what the re-review said.
#[derive(Debug)]
pub struct Round {
    pub commit: String,
    pub approved: bool,
    pub usd: f64,
    pub findings: usize,
}

#[derive(Debug)]
pub struct Outcome {
    pub rounds: Vec<Round>,
    pub approved: bool,
}

fn findings_text(findings: &[FindingRow]) -> String {
    findings
        .iter()
        .map(|f| format!("- {}:{} {}\n", f.path, f.line, f.describe()))
        .collect()
}

/// Runs up to `rounds` fix-and-re-review rounds on `branch`.
#[allow(clippy::too_many_arguments)]
pub fn run(
    repo: &Repo,
    settings: &Settings,
    store: &mut Store,
    backend: &mut dyn Backend,
    branch: &str,
    rounds: usize,
    context_tokens: usize,
    progress: &dyn Fn(&str),
) -> Result<Outcome, Error> {
    let mut done = Vec::new();
    for round in 1..=rounds.max(1) {
        let Some(last) = store.verdicts_for_target(branch)?.pop() else {
            return Err(Error::NoReview {
                branch: branch.to_string(),
            });
        };
        if last.decision == "approve" {
            if round == 1 {
                return Err(Error::Approved {
                    branch: branch.to_string(),
                });
            }
            break;
        }
        let findings = store.findings_for(last.id)?;
        let tip = repo.commit_id(branch)?;
        let original = store.spec_for_commit(&tip.to_string())?.and_then(|p| {
            let text = std::fs::read_to_string(repo.worktree()?.join(&p)).ok()?;
            Some((p, text))
        });
        let listed = findings_text(&findings);
        let mut text = format!(
            "# Fix the review findings on {branch}\n\nChange only what these findings ask for:\n\n{listed}"
        );
        if let Some((path, spec)) = &original {
            text.push_str(&format!(
                "\nThe spec the code implements ({path}):\n\n{spec}"
            ));
        }
        let spec = Spec {
            path: original
                .as_ref()
                .map_or_else(|| format!("fix of {branch}"), |(p, _)| p.clone()),
            text,
            title: format!("fix {branch}"),
        };
        progress(&format!(
            "round {round}: fixing {} finding(s)",
            findings.len()
        ));
        let fixed = implement::implement(
            repo,
            settings,
            store,
            backend,
            &implement::Request {
                spec: &spec,
                branch: None,
                context_tokens,
                job_id: None,
                route: None,
                onto: Some(branch),
            },
            &mut |m| progress(m),
        )?;
        // The interdiff, reviewed with the previous findings as its context.
        let interdiff = Range {
            base: Some(tip),
            tip: fixed.commit,
            branch: None,
            display: branch.to_string(),
        };
        let change = interdiff.change(repo)?;
        let options = Options {
            model: &settings.review_model,
            part_tokens: settings.review_part_tokens,
            spec: Some((
                "the previous review".to_string(),
                format!(
                    "This is a re-review of a fix. The previous review of {branch} asked for these changes; approve only if the change below makes them and nothing else:\n\n{listed}"
                ),
            )),
            tip_tree: Some(repo.tree_of(fixed.commit)?.id()),
            target: branch.to_string(),
            base_commit: Some(tip.to_string()),
            tip_commit: Some(fixed.commit.to_string()),
            worktree: repo.worktree(),
        };
        let prepared = review::prepare(&repo.git, &change, &options)?;
        let outcome = review::send(store, prepared, &options, progress)?;
        if outcome.approved {
            // The whole branch, as it now stands, is approved (see the module's note).
            let whole = Range::against_default(repo, branch, settings.default_branch.as_deref())?;
            let change = whole.change(repo)?;
            store.record_verdict(&VerdictRecord {
                change_id: change.id().to_string(),
                decision: "approve",
                model: settings.review_model.clone(),
                request_id: None,
                raw_response: None,
                summary: format!(
                    "approved: the fix of verdict #{} was reviewed as an interdiff and approved",
                    last.id
                ),
                complete: outcome.withheld.is_empty(),
                base_commit: whole.base.map(|b| b.to_string()),
                tip_commit: Some(whole.tip.to_string()),
                target: branch.to_string(),
                parts: 1,
                findings: Vec::new(),
                approved: change
                    .fingerprints()
                    .into_iter()
                    .map(|(fp, _, _)| fp)
                    .collect(),
            })?;
        }
        done.push(Round {
            commit: fixed.commit.to_string(),
            approved: outcome.approved,
            usd: outcome.usd,
            findings: outcome
                .parts
                .iter()
                .filter_map(|p| p.result.as_ref().ok())
                .map(|v| v.findings.len())
                .sum(),
        });
        if outcome.approved {
            break;
        }
    }
    let approved = done.last().is_some_and(|r| r.approved);
    Ok(Outcome {
        rounds: done,
        approved,
    })
}
