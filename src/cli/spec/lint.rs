//! `git hybrid spec lint`: the findings on a spec.

use crate::cli::Status;
use crate::error::CommandError;
use crate::spec::Spec;
use crate::ui;

pub fn run(file: &std::path::Path) -> Result<Status, CommandError> {
    let repo = crate::git::Repo::open()?;
    let top = repo
        .worktree()
        .ok_or_else(|| CommandError::user("spec lint needs a repository with a working tree"))?;
    let spec = Spec::read(top, file)?;
    let problems = crate::spec::lint_in(&repo, &spec.text);
    // The lint's findings are its result: stdout, like a listing.
    if problems.is_empty() {
        ui::out(format!("{}: ok", spec.path));
        return Ok(Status::Ok);
    }
    ui::out_all(problems.iter().map(|p| format!("{}: {p}", spec.path)));
    ui::say(format!(
        "{} problem{} in {}: local models fail on vague specs; see README's spec format",
        problems.len(),
        ui::plural(problems.len()),
        spec.path
    ));
    Ok(Status::Failed)
}
