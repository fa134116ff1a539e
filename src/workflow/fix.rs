//! The fix loop: the findings of the latest `request_changes` verdict go back to an implementer
//! as a fix on the same branch (a new generation), then only the interdiff is reviewed, with the
//! previous review as context — far cheaper than reviewing everything again.
//!
//! Findings are routed like tasks: security findings and those that read as Claude's kind of
//! work (novel logic, multi-file refactoring…) go to Claude, the rest to the local model. When
//! the interdiff review approves, the lines the earlier review's requests carried and the lines
//! the re-review's requests carried are approved — nothing else: a commit that reached the branch
//! between the two reviews, or a file the earlier review withheld, stays unapproved; and a fix
//! refuses to start when local output reached the branch after the review it answers, since the
//! re-review's lighter framing would then be the only look those lines get. This module never approves anything a review did not answer `approve` to,
//! and it stops after a bounded number of rounds.

use crate::backend::Backend;
use crate::cloud::review::{self, Options};
use crate::config::Settings;
use crate::git::Repo;
use crate::local::implement;
use crate::provenance::Range;
use crate::route::{self, Side};
use crate::spec::Spec;
use crate::store::{self, FindingRow, Store, VerdictRecord};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{branch} has no review yet")]
    NoReview { branch: String },
    #[error("{branch} is already approved")]
    Approved { branch: String },
    #[error(
        "{branch} gained local output after its last review ({lines} line(s) in {commits} commit(s)); a fix's re-review only checks fixes, and no full review has seen those lines"
    )]
    MovedSinceReview {
        branch: String,
        commits: usize,
        lines: usize,
    },
    #[error(
        "{count} finding(s) on {branch} are Claude's to fix, and no Claude implementer is available"
    )]
    NoCloud { branch: String, count: usize },
    #[error(
        "{count} finding(s) on {branch} are the local model's to fix, and no local model was opened"
    )]
    NoLocal { branch: String, count: usize },
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

/// Who fixes which findings: by routing (`Auto`), or all of them by one side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Routing {
    Auto,
    Forced(Side),
}

/// The implementers a round may use.
pub struct Implementers<'a> {
    /// The local model; `None` when routing is forced to Claude (a fix that never needs the
    /// model does not wait for it to load).
    pub local: Option<&'a mut dyn Backend>,
    /// Claude, for the findings routed to the cloud; `None` when routing is forced local.
    pub cloud: Option<&'a mut dyn Backend>,
    pub routing: Routing,
    /// Run on each fix before it becomes a commit, as for `implement`.
    pub check: Option<&'a implement::Check>,
    /// Whole files or EDIT blocks, as for `implement`.
    pub edit_format: implement::EditFormat,
}

/// One round: the fix commit and what the re-review said.
#[derive(Debug, serde::Serialize)]
pub struct Round {
    pub commit: String,
    pub approved: bool,
    pub usd: f64,
    /// What the review whose findings this round fixed cost, when the ledger knows.
    pub reviewed_usd: Option<f64>,
    pub findings: usize,
    /// Findings fixed by the local model and by Claude.
    pub fixed_locally: usize,
    pub fixed_by_claude: usize,
}

#[derive(Debug, serde::Serialize)]
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

/// What a re-review reads besides the interdiff: the findings it answers, in place of the spec.
/// The spec and the rest of the branch were read by the review before; sending them again is
/// what would make a re-review as dear as the first.
pub fn rereview_context(branch: &str, findings: &[FindingRow]) -> (String, String) {
    (
        "the previous review".to_string(),
        format!(
            "This is a re-review of a fix. The previous review of {branch} asked for these changes; approve only if the change below makes them and nothing else:\n\n{}\nThe rest of the branch was reviewed before. Keep the answer short: a one-sentence summary, and findings only for what is still wrong or newly wrong in this change.",
            findings_text(findings)
        ),
    )
}

/// A fix's re-review is framed as "check these fixes": lines that reached the branch after the
/// review it answers would be approved under that lighter framing. So when local output arrived
/// since (new commits the review never saw), the fix refuses and asks for a full review first.
/// Commits of human work alone do not stop it.
fn refuse_unreviewed_additions(
    repo: &Repo,
    store: &Store,
    branch: &str,
    last: &store::VerdictRow,
    tip: git2::Oid,
) -> Result<(), Error> {
    let Some(reviewed) = last
        .tip_commit
        .as_deref()
        .and_then(|c| git2::Oid::from_str(c).ok())
        .filter(|c| *c != tip && repo.git.graph_descendant_of(tip, *c).unwrap_or(false))
    else {
        return Ok(());
    };
    let since = Range {
        base: Some(reviewed),
        base_name: None,
        tip,
        branch: None,
        display: branch.to_string(),
    };
    let outcome = crate::gate::evaluate(store, &since.change(repo)?)
        .map_err(Error::Store)?
        .outcome;
    let lines = outcome.uncovered().len();
    if lines == 0 {
        return Ok(());
    }
    Err(Error::MovedSinceReview {
        branch: branch.to_string(),
        commits: since.commits(repo)?.len(),
        lines,
    })
}

/// Which side fixes a finding: security findings and those that read as Claude's kind of work
/// go to Claude (the same table that routes tasks); everything else stays local.
pub fn route_finding(finding: &FindingRow, rules: &route::Rules) -> Side {
    if finding.category == "security" {
        return Side::Cloud;
    }
    let text = format!("{} {}", finding.message, finding.suggestion);
    route::classify(&text, 1, rules).side
}

/// Runs up to `rounds` fix-and-re-review rounds on `branch`.
#[allow(clippy::too_many_arguments)]
pub fn run(
    repo: &Repo,
    settings: &Settings,
    store: &mut Store,
    engines: &mut Implementers<'_>,
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
        if last.decision == store::Decision::Approve {
            if round == 1 {
                return Err(Error::Approved {
                    branch: branch.to_string(),
                });
            }
            break;
        }
        let findings = store.findings_for(last.id)?;
        let reviewed_usd = store.cost_of_verdict(&last)?;
        let tip = repo.commit_id(branch)?;
        if round == 1 {
            refuse_unreviewed_additions(repo, store, branch, &last, tip)?;
        }
        let (to_cloud, to_local): (Vec<FindingRow>, Vec<FindingRow>) = findings
            .iter()
            .cloned()
            .partition(|f| match engines.routing {
                Routing::Forced(side) => side == Side::Cloud,
                Routing::Auto => route_finding(f, &settings.route) == Side::Cloud,
            });
        // Checked before anything is fixed, so no half-done round is left on the branch.
        if !to_cloud.is_empty() && engines.cloud.is_none() {
            return Err(Error::NoCloud {
                branch: branch.to_string(),
                count: to_cloud.len(),
            });
        }
        if !to_local.is_empty() && engines.local.is_none() {
            return Err(Error::NoLocal {
                branch: branch.to_string(),
                count: to_local.len(),
            });
        }
        let original = Spec::of_commit(repo, store, tip)?.and_then(|(p, text)| Some((p, text?)));
        let mut fixed_commit = tip;
        // Local first: the cheaper fix lands, then Claude's on top of it, and one review reads
        // both.
        for (side, list) in [(Side::Local, &to_local), (Side::Cloud, &to_cloud)] {
            let backend = match side {
                Side::Local => engines.local.as_deref_mut(),
                Side::Cloud => engines.cloud.as_deref_mut(),
            };
            if let (false, Some(backend)) = (list.is_empty(), backend) {
                let task = FixTask {
                    branch,
                    round,
                    side,
                    findings: list,
                    original: original.as_ref(),
                };
                fixed_commit = fix_findings(
                    repo,
                    settings,
                    store,
                    backend,
                    &task,
                    (context_tokens, engines.edit_format),
                    engines.check,
                    progress,
                )?;
            }
        }
        let outcome = rereview(
            repo,
            settings,
            store,
            branch,
            &last,
            &findings,
            (tip, fixed_commit),
            progress,
        )?;
        done.push(Round {
            commit: fixed_commit.to_string(),
            approved: outcome.approved,
            usd: outcome.usd,
            reviewed_usd,
            fixed_locally: to_local.len(),
            fixed_by_claude: to_cloud.len(),
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

/// One side's share of a round: which findings, for which branch, with the spec the code
/// implements when the branch's commit names one.
struct FixTask<'a> {
    branch: &'a str,
    round: usize,
    side: Side,
    findings: &'a [FindingRow],
    /// The original spec: (path, text).
    original: Option<&'a (String, String)>,
}

/// Has one implementer fix its share of the findings on top of the branch; the fix commit.
#[allow(clippy::too_many_arguments)]
fn fix_findings(
    repo: &Repo,
    settings: &Settings,
    store: &mut Store,
    backend: &mut dyn Backend,
    task: &FixTask<'_>,
    (context_tokens, edit_format): (usize, implement::EditFormat),
    check: Option<&implement::Check>,
    progress: &dyn Fn(&str),
) -> Result<git2::Oid, Error> {
    let FixTask {
        branch,
        round,
        side,
        findings,
        original,
    } = *task;
    let mut text = format!(
        "# Fix the review findings\n\nChange only what these findings ask for:\n\n{}",
        findings_text(findings)
    );
    if let Some((path, spec)) = original {
        text.push_str(&format!(
            "\nThe spec the code implements ({path}):\n\n{spec}"
        ));
    }
    let spec = Spec {
        path: original.map_or_else(|| "the review's findings".to_string(), |(p, _)| p.clone()),
        text,
        title: format!("fix {branch}"),
    };
    let count = findings.len();
    progress(&format!(
        "round {round}: {} fixing {count} finding{}",
        if side == Side::Cloud {
            "Claude"
        } else {
            "the local model"
        },
        crate::ui::plural(count)
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
            edit_format,
            job_id: None,
            route: Some(serde_json::json!({
                "side": side,
                "reasons": [format!("fix of {count} finding(s) routed to this side")],
            })),
            onto: Some(branch),
            check,
            cancel: None,
        },
        &mut |m| progress(m),
    )?;
    Ok(fixed.commit)
}

/// Reviews the interdiff of a round, with the previous findings as its context, and when it is
/// approved records what the two reviews' requests carried as one approval of the branch.
#[allow(clippy::too_many_arguments)]
fn rereview(
    repo: &Repo,
    settings: &Settings,
    store: &mut Store,
    branch: &str,
    last: &store::VerdictRow,
    findings: &[FindingRow],
    (tip, fixed_commit): (git2::Oid, git2::Oid),
    progress: &dyn Fn(&str),
) -> Result<review::Outcome, Error> {
    // The interdiff starts where the earlier review ended, so commits that reached the branch
    // since are in it too; when that commit is no longer in the branch's history, from where
    // the fix started.
    let reviewed_tip = last
        .tip_commit
        .as_deref()
        .and_then(|c| git2::Oid::from_str(c).ok())
        .filter(|c| *c == tip || repo.git.graph_descendant_of(tip, *c).unwrap_or(false));
    let base = reviewed_tip.unwrap_or(tip);
    let interdiff = Range {
        base: Some(base),
        base_name: None,
        tip: fixed_commit,
        branch: None,
        display: branch.to_string(),
    };
    let change = interdiff.change(repo)?;
    let options = Options {
        model: &settings.review_model,
        phase: "fix",
        part_tokens: settings.review_part_tokens,
        spec: Some(rereview_context(branch, findings)),
        tip_tree: Some(repo.tree_of(fixed_commit)?.id()),
        target: branch.to_string(),
        base_commit: Some(base.to_string()),
        tip_commit: Some(fixed_commit.to_string()),
        worktree: repo.worktree(),
        check: store
            .check_of_commit(&fixed_commit.to_string())?
            .map(|c| c.summary()),
    };
    let prepared = review::prepare(&repo.git, &change, &options)?;
    let outcome = review::send(store, prepared, progress)?;
    if outcome.approved
        && let Some(rereview) = outcome.verdict_id
    {
        // What this approval covers: the lines the earlier review's requests carried plus
        // the lines the re-review's requests carried — never the branch as it now stands,
        // so a commit that slipped onto the branch between the reviews stays unapproved.
        let mut seen = store.seen_lines_of(last.id)?;
        seen.extend(store.seen_lines_of(rereview)?);
        let whole = Range::of_target(repo, branch, settings.default_branch.as_deref())?;
        let change = whole.change(repo)?;
        store.record_verdict(&VerdictRecord {
            change_id: change.id().to_string(),
            decision: store::Decision::Approve,
            model: settings.review_model.clone(),
            request_id: None,
            raw_response: None,
            summary: format!(
                "approved: the fix of verdict #{} was reviewed as an interdiff (verdict #{rereview}) and approved",
                last.id
            ),
            // The whole change was never in one request: lines only, never the change id.
            complete: false,
            base_commit: whole.base.map(|b| b.to_string()),
            tip_commit: Some(whole.tip.to_string()),
            target: branch.to_string(),
            parts: 1,
            findings: Vec::new(),
            seen,
            // Half of what it approves was seen by the earlier review: a session's stays a
            // session's, so that where those do not count, this does not either.
            via: last.via,
            client: last.client.clone(),
        })?;
    }
    Ok(outcome)
}
