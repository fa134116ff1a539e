//! The command line: clap types, one file per command, and `main`'s dispatch.
//!
//! A command file parses its arguments and delegates to the domain modules; it holds no logic of
//! its own beyond choosing what to print. Errors travel up as `CommandError`, which `main` prints
//! and turns into an exit code.

mod adopt;
mod daemon;
mod demo;
mod doctor;
mod fix;
mod hook;
mod implement;
mod install;
mod model;
mod pending;
mod review;
mod show;
mod spec;
mod stats;
mod uninstall;
mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Settings;
use crate::error::CommandError;
use crate::git::Repo;
use crate::ui;

/// Keeps local-model output off protected branches unless a Claude review approved it.
///
/// Local-model output lives on quarantine branches (hybrid/*). git hooks check every path to a
/// protected ref — commit, merge, cherry-pick, rebase, reset, update-ref, push — and block any
/// change that brings in local output no approved review covers, listing the lines and the
/// command that fixes it. Any error while checking blocks too: the gate fails closed.
#[derive(Debug, Parser)]
#[command(name = "git-hybrid", bin_name = "git hybrid", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Install(install::Args),
    Uninstall(uninstall::Args),
    Adopt(adopt::Args),
    Implement(implement::Args),
    Fix(fix::Args),
    Pending(pending::Args),
    Review(review::Args),
    Show(show::Args),
    Spec(spec::Args),
    Stats(stats::Args),
    Verify(verify::Args),
    Doctor(doctor::Args),
    Demo(demo::Args),
    Daemon(daemon::Args),
    Model(model::Args),
    #[command(hide = true)]
    Hook(hook::Args),
    /// Prints the manual page (roff) that `git hybrid --help` shows; install.sh installs it.
    #[command(hide = true)]
    Man,
}

/// What a command reports back: success, or a check that failed after saying why.
pub enum Status {
    Ok,
    Failed,
}

pub fn main() -> ExitCode {
    init_logging();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help and version on stdout with success, usage errors on stderr with 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let result = match cli.command {
        Command::Install(args) => install::run(args),
        Command::Uninstall(args) => uninstall::run(args),
        Command::Adopt(args) => adopt::run(args),
        Command::Implement(args) => implement::run(args),
        Command::Fix(args) => fix::run(args),
        Command::Pending(args) => pending::run(args),
        Command::Review(args) => review::run(args),
        Command::Show(args) => show::run(args),
        Command::Spec(args) => spec::run(args),
        Command::Stats(args) => stats::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Doctor(args) => doctor::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Daemon(args) => daemon::run(args),
        Command::Model(args) => model::run(args),
        Command::Hook(args) => hook::run(args),
        Command::Man => man(),
    };
    match result {
        Ok(Status::Ok) => ExitCode::SUCCESS,
        Ok(Status::Failed) => ExitCode::from(crate::error::EXIT_BLOCKED),
        Err(e) => {
            report(&e);
            ExitCode::from(e.code)
        }
    }
}

/// `git hybrid --help` makes git open the manual page `git-hybrid(1)`, as for git's own commands.
fn man() -> Result<Status, CommandError> {
    use clap::CommandFactory;
    let mut out = std::io::stdout().lock();
    clap_mangen::Man::new(Cli::command().name("git-hybrid")).render(&mut out)?;
    Ok(Status::Ok)
}

pub(crate) fn report(e: &CommandError) {
    ui::say(format!("error: {}", e.message));
    for hint in &e.hints {
        ui::say(format!("hint: {hint}"));
    }
}

/// Logs go to stderr only when `GIT_HYBRID_LOG` asks (e.g. `GIT_HYBRID_LOG=debug`); hooks run on
/// every commit, so the subscriber is not even built otherwise.
fn init_logging() {
    let Ok(filter) = std::env::var("GIT_HYBRID_LOG") else {
        return;
    };
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// The repository and its resolved settings, as every command but `hook` opens them.
pub(crate) fn open() -> Result<(Repo, Settings), CommandError> {
    let repo = Repo::open()?;
    let settings = settings(&repo)?;
    Ok((repo, settings))
}

pub(crate) fn settings(repo: &Repo) -> Result<Settings, CommandError> {
    Ok(Settings::load(repo)?)
}
