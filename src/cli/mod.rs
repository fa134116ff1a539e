//! The command line: clap types, one file per command, and `main`'s dispatch.
//!
//! A command file parses its arguments and delegates to the domain modules; it holds no logic of
//! its own beyond choosing what to print. Errors travel up as `CommandError`, which `main` prints
//! and turns into an exit code.

mod adopt;
mod args;
mod daemon;
mod demo;
mod doctor;
mod export;
mod fix;
mod hook;
mod implement;
mod install;
mod mcp;
mod model;
mod pending;
mod review;
mod show;
mod spec;
mod stats;
mod sync;
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
///
/// Teams: `git hybrid install` in each clone (records then travel with push and fetch),
/// `git hybrid install --server` in the repository everyone pushes to, and `git hybrid verify
/// <base>..<head>` in CI (recipes in the source tree's examples/).
#[derive(Debug, Parser)]
#[command(name = "git-hybrid", bin_name = "git hybrid", version, about)]
pub struct Cli {
    /// Say only what went wrong: no progress and no status lines (results, warnings and errors
    /// still print).
    #[arg(short, long, global = true)]
    quiet: bool,
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
    Sync(sync::Args),
    Export(export::Args),
    Verify(verify::Args),
    Mcp(mcp::Args),
    Doctor(doctor::Args),
    Demo(demo::Args),
    Daemon(daemon::Args),
    Model(model::Args),
    Completions(CompletionsArgs),
    #[command(hide = true)]
    Hook(hook::Args),
    /// Prints the manual page (roff) that `git hybrid --help` shows, or with `--dir` writes one
    /// page per command there (git-hybrid.1, git-hybrid-review.1, …); install.sh installs them.
    #[command(hide = true)]
    Man {
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
    },
}

/// Prints a shell completion script on stdout (install.sh installs them).
///
/// bash: git hybrid completions bash > ~/.local/share/bash-completion/completions/git-hybrid;
/// zsh: into a folder on $fpath as _git-hybrid; fish: into
/// ~/.config/fish/completions/git-hybrid.fish.
#[derive(Debug, clap::Args)]
struct CompletionsArgs {
    shell: clap_complete::Shell,
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
    ui::set_quiet(cli.quiet);
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
        Command::Sync(args) => sync::run(args),
        Command::Export(args) => export::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Mcp(args) => mcp::run(args),
        Command::Doctor(args) => doctor::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Daemon(args) => daemon::run(args),
        Command::Model(args) => model::run(args),
        Command::Completions(args) => completions(args),
        Command::Hook(args) => hook::run(args),
        Command::Man { dir } => man(dir),
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

/// `git hybrid --help` makes git open the manual page `git-hybrid(1)`, as for git's own commands;
/// `git help hybrid-review` and `man git-hybrid-review` find a command's own page.
fn man(dir: Option<std::path::PathBuf>) -> Result<Status, CommandError> {
    use clap::CommandFactory;
    let top = Cli::command().name("git-hybrid");
    let Some(dir) = dir else {
        let mut out = std::io::stdout().lock();
        clap_mangen::Man::new(top).render(&mut out)?;
        return Ok(Status::Ok);
    };
    std::fs::create_dir_all(&dir)?;
    let mut pages = vec![("git-hybrid".to_string(), top.clone())];
    for sub in top.get_subcommands().filter(|c| !c.is_hide_set()) {
        let name = format!("git-hybrid-{}", sub.get_name());
        // The page's own name and usage read as `git hybrid <command>`.
        let command = sub
            .clone()
            .name(name.clone())
            .bin_name(format!("git hybrid {}", sub.get_name()));
        pages.push((name, command));
    }
    for (name, command) in pages {
        let path = dir.join(format!("{name}.1"));
        let mut page = Vec::new();
        clap_mangen::Man::new(command).render(&mut page)?;
        // Written beside and renamed over, so `man` never reads half a page.
        let mut tmp = tempfile::NamedTempFile::new_in(&dir)?;
        std::io::Write::write_all(&mut tmp, &page)?;
        tmp.persist(&path).map_err(|e| e.error)?;
        ui::say(format!("wrote {}", path.display()));
    }
    Ok(Status::Ok)
}

const BASH_GIT_BRIDGE: &str = r#"
_git_hybrid() {
    local COMP_WORDS=("git-hybrid" "${COMP_WORDS[@]:2}")
    local COMP_CWORD=$((COMP_CWORD - 1))
    local COMP_LINE="git-hybrid ${COMP_LINE#git hybrid }"
    _git__hybrid git-hybrid "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
}
"#;

/// `git hybrid completions <shell>`: clap's completion script for the `git-hybrid` binary.
fn completions(args: CompletionsArgs) -> Result<Status, CommandError> {
    use clap::CommandFactory;
    // Named as the binary the shell completes (`git hybrid` reaches it through the bridge).
    let mut command = Cli::command().name("git-hybrid").bin_name("git-hybrid");
    // Generated into memory first: clap_complete panics on a write error, and `| head` closes
    // the pipe early.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "git-hybrid", &mut script);
    if args.shell == clap_complete::Shell::Bash {
        // The derive's `bin_name = "git hybrid"` still names the subcommands' cases
        // (`git__subcmd__hybrid__…`) while the dispatcher tracks `git__hybrid__…`: one spelling.
        let fixed = String::from_utf8_lossy(&script).replace("git__subcmd__hybrid", "git__hybrid");
        script = fixed.into_bytes();
        // git's own completion calls `_git_<command>` for `git <command> <TAB>`: hand it to the
        // generated function as if `git-hybrid` had been typed.
        script.extend_from_slice(BASH_GIT_BRIDGE.as_bytes());
    }
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), &script);
    Ok(Status::Ok)
}

pub(crate) fn report(e: &CommandError) {
    ui::tell(e.lines());
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
