//! `git hybrid spec lint FILE`: flags the vague specs local models fail on.

use clap::Subcommand;

use super::Status;
use crate::error::CommandError;
use crate::local::implement::Spec;
use crate::ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: SpecCommand,
}

#[derive(Debug, Subcommand)]
enum SpecCommand {
    /// Checks a spec for what local models need: file paths that exist (or are announced as
    /// new), exact signatures, test cases, and requirements with concrete values. Exits 1 with
    /// one line per problem.
    Lint { file: std::path::PathBuf },
}

pub fn run(args: Args) -> Result<Status, CommandError> {
    let SpecCommand::Lint { file } = args.command;
    let repo = crate::git::Repo::open()?;
    let top = repo
        .worktree()
        .ok_or_else(|| CommandError::user("spec lint needs a repository with a working tree"))?;
    let spec = Spec::read(top, &file)?;
    let problems = lint(&repo, &spec);
    if problems.is_empty() {
        ui::say(format!("{}: ok", spec.path));
        return Ok(Status::Ok);
    }
    for p in &problems {
        ui::say(format!("{}: {p}", spec.path));
    }
    Ok(Status::Failed)
}

/// Lints a spec against HEAD's tree (every path is new in a repository without commits).
pub(crate) fn lint(repo: &crate::git::Repo, spec: &Spec) -> Vec<crate::spec::Problem> {
    let head = repo.head_tree().ok().flatten();
    crate::spec::lint(&spec.text, &|path| {
        head.as_ref()
            .is_some_and(|t| t.get_path(std::path::Path::new(path)).is_ok())
    })
}
