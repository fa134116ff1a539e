//! `git hybrid spec check FILE [--show] [--json]`: the spec's own examples run on the working
//! tree — the check `implement` runs on each answer when none is set.

use crate::cli::Status;
use crate::error::CommandError;
use crate::spec::{Spec, paths_named};
use crate::ui;

pub fn run(file: &std::path::Path, show: bool, json: bool) -> Result<Status, CommandError> {
    let (repo, settings) = crate::cli::open()?;
    let top = repo
        .worktree()
        .ok_or_else(|| CommandError::user("spec check needs a repository with a working tree"))?;
    let spec = Spec::read(top, file)?;
    let head = repo.head_tree()?;
    let check = crate::workflow::engine::examples_check(
        &spec,
        head.as_ref(),
        &repo.git,
        std::time::Duration::from_secs(settings.implement.check_timeout),
        0,
    )
    .ok_or_else(|| {
        CommandError::user(format!(
            "{} has no examples a check can be made of (or python3/rustc does not run here)",
            spec.path
        ))
        .hint("give calls and results in its Tests section (`f(2)` returns `4`), or name a check with implement --check CMD")
    })?;
    if show {
        ui::out(&check.command);
        return Ok(Status::Ok);
    }
    let files: Vec<String> = paths_named(&spec.text)
        .into_iter()
        .filter(|p| *p != spec.path)
        .collect();
    let (ran, not_read) = crate::local::implement::check_worktree(&repo, &check, &files)?;
    for file in &not_read {
        ui::say(format!(
            "{file}: not read from the working tree (absent, not UTF-8 text, or outside it): checked as HEAD has it, if at all"
        ));
    }
    if json {
        ui::out(serde_json::to_string_pretty(&serde_json::json!({
            "version": 1,
            "spec": spec.path,
            "check": check.shown(),
            "passed": ran.passed,
            "not_read": not_read,
            "status": ran.status,
            "output": ran.output,
        }))?);
    } else {
        // The check's output is the result, as a test run's is.
        if !ran.output.is_empty() {
            ui::out(ran.output.trim_end());
        }
        ui::out(format!(
            "{}: {}: {}",
            spec.path,
            check.shown(),
            if ran.passed {
                "passed".to_string()
            } else {
                format!("failed ({})", ran.status)
            }
        ));
    }
    Ok(if ran.passed {
        Status::Ok
    } else {
        Status::Failed
    })
}
