//! Which change a review target names, the spec it was generated from, and its review prepared
//! for sending: everything decided before anything is sent.

use git2::Oid;

use super::Error;
use crate::change::Change;
use crate::cloud::review::{self, Options, Prepared};
use crate::config::Settings;
use crate::git::Repo;
use crate::provenance::Range;
use crate::spec::Spec;
use crate::store::Store;

/// What a review target names.
pub struct Target {
    /// How the change was named: a branch, a range, `HEAD`, `--staged`.
    pub label: String,
    pub base: Option<Oid>,
    /// The commit the change leads to (none for the staged changes).
    pub tip: Option<Oid>,
    pub change: Change,
}

/// The change `target` names: the staged changes, a branch since its merge-base with the default
/// branch, a range, or a commit against its parent. No target is the current branch (or HEAD).
pub fn resolve(
    repo: &Repo,
    settings: &Settings,
    target: Option<&str>,
    staged: bool,
) -> Result<Target, Error> {
    if staged {
        let head = repo.head_tree()?;
        let index = repo.staged_index()?;
        let change = Change::tree_to_index(&repo.git, head.as_ref(), &index)?;
        return Ok(Target {
            label: "--staged".to_string(),
            base: repo.git.head().ok().and_then(|h| h.target()),
            tip: None,
            change,
        });
    }
    let label = match target {
        Some(t) => t.to_string(),
        None => repo
            .head_ref()
            .map(|r| r.trim_start_matches("refs/heads/").to_string())
            .unwrap_or_else(|| "HEAD".into()),
    };
    let range = Range::of_target(repo, &label, settings.default_branch.as_deref())?;
    let change = range.change(repo)?;
    Ok(Target {
        label,
        base: range.base,
        tip: Some(range.tip),
        change,
    })
}

/// What handing a review to an MCP client's session came to.
pub enum HandedOut {
    /// The change is empty.
    Nothing,
    /// An approval covers the change already.
    Approved { change_id: String },
    /// Approved here, but by no signer the policy lists, and this clone does not sign: a
    /// session's review here would not count where it matters either.
    Unsigned { change_id: String, signers: String },
    Ready {
        change_id: String,
        handed: crate::cloud::review::session::Handed,
        /// Files not sent: no approval covers them.
        withheld: Vec<String>,
    },
}

/// Prepares `target`'s review for an MCP client's session to answer (the MCP `review_request`):
/// the same requests `review` would send, kept under a one-time id. Only where the committed
/// policy accepts session reviews.
pub fn hand_out(repo: &Repo, settings: &Settings, target: &str) -> Result<HandedOut, Error> {
    if !settings.session_reviews {
        return Err(Error::SessionsOff);
    }
    let part_tokens = part_tokens(settings, None)?;
    let mut store = Store::open_for(repo)?;
    // An approval a session made counts here: the policy accepts them (checked above).
    store.count_session_reviews(true);
    let reviewer = Reviewer {
        model: &settings.review_model,
        part_tokens,
    };
    match plan(repo, settings, &store, Some(target), false, &reviewer)? {
        Planned::Nothing { .. } => Ok(HandedOut::Nothing),
        Planned::Approved { change_id, .. } => Ok(HandedOut::Approved { change_id }),
        Planned::Uncounted {
            change_id, signers, ..
        } => Ok(HandedOut::Unsigned { change_id, signers }),
        Planned::Ready(ready) => {
            let change_id = ready.prepared.plan.change_id.clone();
            let withheld = ready.prepared.plan.withheld.clone();
            let handed = crate::cloud::review::session::hand_out(&mut store, ready.prepared)?;
            Ok(HandedOut::Ready {
                change_id,
                handed,
                withheld,
            })
        }
    }
}

/// Records a session's answers to the review handed out under `id` (the MCP `review_submit`),
/// writes the records ref, and returns the outcome as `review --json` prints one.
pub fn take_in(
    repo: &Repo,
    settings: &Settings,
    id: &str,
    answers: &[String],
    reviewer: &str,
) -> Result<serde_json::Value, Error> {
    if !settings.session_reviews {
        return Err(Error::SessionsOff);
    }
    let mut store = Store::open_for(repo)?;
    let (target, outcome) =
        crate::cloud::review::session::take_in(&mut store, id, answers, reviewer)?;
    crate::records::publish(repo, &mut store)?;
    Ok(outcome_json(&target, &outcome))
}

/// What a target came to before sending.
pub enum Planned {
    /// The change is empty.
    Nothing {
        label: String,
    },
    /// An approval already covers the change id (where signers are required: one a listed
    /// signer signed).
    Approved {
        label: String,
        change_id: String,
    },
    /// Approved here, but by nobody the policy's signers list vouches for, and this clone does
    /// not sign: another review here would not count on the server or in CI either.
    Uncounted {
        label: String,
        change_id: String,
        signers: String,
    },
    Ready(Box<Ready>),
}

/// A review ready to send.
pub struct Ready {
    pub label: String,
    pub change: Change,
    pub prepared: Prepared,
    /// The spec the change came from, when its generation names one that cannot be read (the
    /// review then goes ahead without it).
    pub unreadable_spec: Option<String>,
    /// The change is approved here, but by no signer this allowed-signers file lists: this
    /// clone signs, so its review is what the server and CI will count.
    pub reviewing_again_for: Option<String>,
}

/// Tokens of diff per review request: `flag` when given, else the settings' — refused when a
/// layer set it to something that is not a number, rather than silently the default. Every
/// command that reviews (`review`, `fix`, the MCP session review) takes it from here.
pub fn part_tokens(settings: &Settings, flag: Option<usize>) -> Result<usize, Error> {
    match (flag, settings.review_unreadable.first()) {
        (Some(n), _) => Ok(n),
        (None, Some(bad)) => Err(Error::Unreadable(bad.clone())),
        (None, None) => Ok(settings.review_part_tokens),
    }
}

/// The reviewer and its budget.
pub struct Reviewer<'a> {
    pub model: &'a str,
    pub part_tokens: usize,
}

/// Resolves `target` and prepares its review, sending nothing.
pub fn plan(
    repo: &Repo,
    settings: &Settings,
    store: &Store,
    target: Option<&str>,
    staged: bool,
    reviewer: &Reviewer<'_>,
) -> Result<Planned, Error> {
    let Target {
        label,
        base,
        tip,
        change,
    } = resolve(repo, settings, target, staged)?;
    if change.is_empty() {
        return Ok(Planned::Nothing { label });
    }
    let change_id = change.id().to_string();
    let mut reviewing_again_for = None;
    if store.is_change_approved(&change_id)? {
        // Where signers are required, an approval counts only when a listed signer signed it:
        // a teammate's unsigned approval that reached this clone does not stand in for one.
        if settings.allowed_signers.is_none() {
            return Ok(Planned::Approved { label, change_id });
        }
        let judged = super::verify::judge(repo, settings)?;
        let signers = judged.signers.unwrap_or_default();
        if judged.store.is_change_approved(&change_id)? {
            return Ok(Planned::Approved { label, change_id });
        }
        if crate::trust::SigningKey::of(repo).is_none() {
            return Ok(Planned::Uncounted {
                label,
                change_id,
                signers,
            });
        }
        reviewing_again_for = Some(signers);
    }
    let mut unreadable_spec = None;
    let spec = match tip {
        Some(tip) => Spec::of_commit(repo, store, tip)?,
        None => None,
    }
    .and_then(|(path, text)| match text {
        Some(text) => Some((path, text)),
        None => {
            unreadable_spec = Some(path);
            None
        }
    });
    let tip_tree = match tip {
        Some(c) => Some(repo.tree_of(c)?.id()),
        None => None,
    };
    let options = Options {
        model: reviewer.model,
        phase: "review",
        part_tokens: reviewer.part_tokens,
        spec,
        tip_tree,
        target: label.clone(),
        base_commit: base.map(|b| b.to_string()),
        tip_commit: tip.map(|t| t.to_string()),
        worktree: repo.worktree(),
        check: match tip {
            Some(tip) => store
                .check_of_commit(&tip.to_string())?
                .map(|c| c.summary()),
            None => None,
        },
    };
    let prepared = review::prepare(&repo.git, &change, &options)?;
    Ok(Planned::Ready(Box::new(Ready {
        label,
        change,
        prepared,
        unreadable_spec,
        reviewing_again_for,
    })))
}

/// The JSON form of an immediate review's outcome (version 1).
pub fn outcome_json(target: &str, outcome: &review::Outcome) -> serde_json::Value {
    let parts: Vec<serde_json::Value> = outcome
        .parts
        .iter()
        .map(|p| match &p.result {
            Ok(v) => serde_json::json!({
                "index": p.index + 1,
                "files": p.files,
                "decision": v.decision.as_str(),
                "summary": v.summary,
                "findings": v.findings.iter().map(review::finding_row).collect::<Vec<_>>(),
            }),
            Err(e) => serde_json::json!({
                "index": p.index + 1,
                "files": p.files,
                "error": e.to_string(),
            }),
        })
        .collect();
    serde_json::json!({
        "version": 1,
        "target": target,
        "change_id": outcome.change_id,
        "approved": outcome.approved,
        "usd": crate::ui::amount(outcome.usd),
        "verdict_id": outcome.verdict_id,
        "withheld": outcome.withheld,
        "redactions": outcome.redactions,
        "local_findings": outcome.local_findings,
        "parts": parts,
    })
}
