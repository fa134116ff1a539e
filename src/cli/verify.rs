//! `git hybrid verify <A..B> [--json] [--review]`: the gate's rule as a check, for CI.

use super::Status;
use crate::change::Change;
use crate::error::CommandError;
use crate::gate::{self, Evaluation};
use crate::git::Repo;
use crate::provenance::Range;
use crate::ui;
use crate::workflow::verify::{Judge, judge};

/// Checks a range against the gate's rule; exits 1 when any local output in it is unreviewed.
///
/// A single revision means that commit against its first parent. The records that travel with
/// the repository (refs/hybrid/records, and remotes' records a fetch brought) are taken in
/// first, so a fresh clone answers as the clone that recorded them does:
///
///   git fetch origin '+refs/hybrid/records*:refs/hybrid/remotes/origin/records*'
///   git hybrid verify origin/main..HEAD
///
/// When the committed policy lists allowed signers (`[trust] allowed_signers`), only approvals a
/// listed signer signed count.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A range A..B (or one commit)
    range: String,
    /// Print the result as JSON on stdout: {"range", "change_id", "decision": "allow" or
    /// "block", "reason", "added", "removed", "local_lines", "uncovered": [{"generation",
    /// "model", "branch", "files": [{"path", "lines"}]}]}
    #[arg(long)]
    json: bool,
    /// When blocked, have Claude review the range (ANTHROPIC_API_KEY), record the verdict, send
    /// the records to the remote (hybrid.remote, default origin) and judge again: the PR-bot mode
    #[arg(long)]
    review: bool,
    /// Where the committed policy (.hybrid.toml, its allowed signers) is read from: a branch,
    /// tag or commit. Default: the range's base — the branch the range merges into, as it was —
    /// never the range's own head, which could rewrite the policy it is judged by
    #[arg(long, value_name = "REV")]
    policy_ref: Option<String>,
}

pub fn run(args: Args) -> Result<Status, CommandError> {
    let (repo, settings) = super::open()?;
    let range = Range::of_target(&repo, &args.range, settings.default_branch.as_deref())?;
    let settings = policy_settings(&repo, &range, args.policy_ref.as_deref())?;
    let mut evaluation = evaluate(&repo, &settings, &range)?;
    if args.review && !evaluation.outcome.allowed() {
        ui::say(format!(
            "{}: {}; asking for a review",
            args.range,
            evaluation.outcome.describe()
        ));
        // The review's own failure (no key, an unusable answer) is this command's failure.
        // Its records are sent below, with what this command says of them.
        super::review::record(super::review::Args::of(&args.range))?;
        send_records(&repo);
        evaluation = evaluate(&repo, &settings, &range)?;
    }
    // A range that changes the trust root must carry a current signer's signature for it.
    let unsigned = unsigned_root_changes(&repo, &settings, &range)?;
    if args.json {
        let mut json = gate::verify_json(&args.range, &evaluation);
        if !unsigned.is_empty() {
            json["decision"] = "block".into();
            json["unsigned_trust_root_changes"] = unsigned
                .iter()
                .map(|c| serde_json::json!({"commit": c.commit.to_string(), "changes": c.what}))
                .collect();
        }
        println!("{json}");
    } else if !unsigned.is_empty() {
        ui::out(format!(
            "blocked: {} changes the trust root without a signature from a signer the policy lists",
            args.range
        ));
        for change in &unsigned {
            ui::out(format!(
                "  commit {}: {}",
                &change.commit.to_string()[..10],
                change.what.join(", ")
            ));
        }
        ui::out(
            "  only a listed signer may change it: one of them signs the commit (git commit -S with gpg.format ssh)",
        );
    } else if evaluation.outcome.allowed() {
        ui::out(format!(
            "ok: {} ({}, change {})",
            args.range,
            evaluation.outcome.describe(),
            evaluation.change_id.short()
        ));
    } else {
        ui::out_all(gate::render_block(
            &args.range,
            &evaluation,
            &format!("git hybrid review {}", args.range),
        ));
    }
    Ok(if evaluation.outcome.allowed() && unsigned.is_empty() {
        Status::Ok
    } else {
        Status::Failed
    })
}

/// The settings with the committed policy read from `--policy-ref`, else from the range's base.
/// A range without a base (a root commit) and no `--policy-ref` has no policy to be judged by:
/// an error, never the defaults.
fn policy_settings(
    repo: &Repo,
    range: &Range,
    policy_ref: Option<&str>,
) -> Result<crate::config::Settings, CommandError> {
    let (name, commit) = match (policy_ref, range.base) {
        (Some(name), _) => (name.to_string(), repo.commit_id(name)?),
        // The base as the range names it (`origin/main..HEAD`), else by its id.
        (None, Some(base)) => match &range.base_name {
            Some(named) => (named.clone(), base),
            None => (
                format!("{} (the range's base)", &base.to_string()[..10]),
                base,
            ),
        },
        // A root commit: the default branch, when this clone has one.
        (None, None) => match repo.default_branch_tip(None) {
            Some(found) => found,
            None => {
                return Err(CommandError::user(format!(
                    "{} has no base to read the policy from, and this clone has no default branch",
                    range.display
                ))
                .hint("name where the policy is: git hybrid verify --policy-ref origin/main …"));
            }
        },
    };
    Ok(crate::config::Settings::load_with(
        repo,
        Some((name, commit)),
    )?)
}

/// The range's commits that change the trust root without a signature from a signer the policy
/// (as the range's base has it) lists; none when the policy names no signers.
fn unsigned_root_changes(
    repo: &Repo,
    settings: &crate::config::Settings,
    range: &Range,
) -> Result<Vec<crate::trust::UnsignedChange>, CommandError> {
    let Some(file) = &settings.allowed_signers else {
        return Ok(Vec::new());
    };
    let signers = crate::trust::AllowedSigners::of_policy(repo, file)?;
    Ok(crate::trust::unsigned_changes(
        repo,
        &signers,
        Some(&file.path),
        range.base,
        range.tip,
    )?)
}

/// The rule applied to the range, by the records this clone can see.
fn evaluate(
    repo: &Repo,
    settings: &crate::config::Settings,
    range: &Range,
) -> Result<Evaluation, CommandError> {
    let Judge {
        store,
        synced,
        signers,
        no_records,
    } = judge(repo, settings)?;
    if no_records {
        ui::say(format!(
            "no records here ({} and no remote's): only commits that name a generation can be local output",
            crate::records::RECORDS_REF
        ));
    }
    if let Some(origin) = &signers
        && synced.untrusted > 0
    {
        ui::say(format!(
            "{} approval(s) not signed by a signer {origin} lists count as absent",
            synced.untrusted
        ));
    }
    let old = range.base.map(|b| repo.tree_of(b)).transpose()?;
    let new = repo.tree_of(range.tip)?;
    let change = Change::between_trees(&repo.git, old.as_ref(), Some(&new))?;
    let mut evaluation = gate::evaluate_in(repo, &store, settings, &change)?;
    // Commits that say a model made them count even when their records are missing.
    gate::unrecorded_generations(
        repo,
        &store,
        (range.base, range.tip),
        &change,
        &mut evaluation.outcome,
    )?;
    if let Some(origin) = &signers
        && !evaluation.outcome.allowed()
    {
        ui::say(crate::trust::requirement(origin));
    }
    Ok(evaluation)
}

/// After a review here: the verdict goes to the remote the records travel with, so the server
/// and every clone know it. Not sending is said; the verdict stays recorded here.
fn send_records(repo: &Repo) {
    let remote = crate::records::remote_name(repo);
    if repo.git.find_remote(&remote).is_err() {
        ui::say(format!(
            "note: no remote {remote}: the verdict stays in this clone (set hybrid.remote)"
        ));
        return;
    }
    let Ok(Some(mut store)) = crate::store::Store::open_existing_for(repo) else {
        return;
    };
    match crate::records::send(repo, &mut store, &remote) {
        Ok(crate::records::Pushed::Pushed) => ui::say(format!("the verdict was sent to {remote}")),
        Ok(_) => {}
        Err(why) => ui::warn(format!("the verdict could not be sent to {remote}: {why}")),
    }
}
