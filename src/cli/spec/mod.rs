//! `git hybrid spec "<task>" [-o FILE] [--files a,b]` (Claude writes a spec) and
//! `git hybrid spec lint FILE` (flags the vague specs local models fail on), `git hybrid spec check
//! FILE` (runs the spec's examples on the working tree).
//! A file per subcommand.

use clap::Subcommand;

use super::Status;
use crate::error::CommandError;

mod check;
mod lint;
mod new;
mod write;

/// Writes a spec for a task with Claude (needs ANTHROPIC_API_KEY), or lints one.
///
/// Claude sees a compact map of the repository (paths and top-level symbols) and the files given
/// with --files, redacted. The spec goes to .hybrid/specs/<slug>.md unless -o says otherwise.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<SpecCommand>,
    /// The task, in a sentence or a paragraph
    task: Option<String>,
    /// Where to write the spec
    #[arg(short = 'o', long)]
    output: Option<std::path::PathBuf>,
    /// Repository files Claude should read, comma-separated
    #[arg(long, value_delimiter = ',')]
    files: Vec<String>,
    /// The model that writes the spec [default: the reviewer model]
    #[arg(long)]
    model: Option<String>,
}

#[derive(Debug, Subcommand)]
enum SpecCommand {
    /// Checks a spec for what local models need: file paths that exist (or are announced as
    /// new), exact signatures, test cases, and requirements with concrete values. Exits 1 with
    /// one line per problem.
    Lint { file: std::path::PathBuf },
    /// Runs the spec's own examples (its Tests section, and the cases its Requirements state)
    /// on the working tree's copy of the files it names: the check `implement` runs on each
    /// answer when none is set. Exits 1 when an example fails.
    Check {
        file: std::path::PathBuf,
        /// Print the check's script instead of running it
        #[arg(long)]
        show: bool,
        /// Print the result as JSON on stdout: {"version": 1, "spec", "check", "passed",
        /// "not_read" (named files taken from HEAD, not the working tree), "status", "output"}
        #[arg(long)]
        json: bool,
    },
    /// Writes a spec template to fill in (.hybrid/specs/<slug>.md unless -o says otherwise):
    /// the format `lint` checks, with TODO lines where you write. It passes lint once filled.
    New {
        /// The spec's title
        title: String,
        /// The files it changes or creates, comma-separated
        #[arg(long, value_delimiter = ',')]
        files: Vec<String>,
        /// Where to write it
        #[arg(short = 'o', long)]
        output: Option<std::path::PathBuf>,
    },
}

pub fn run(args: Args) -> Result<Status, CommandError> {
    match (args.command, args.task) {
        (Some(SpecCommand::Lint { file }), _) => lint::run(&file),
        (Some(SpecCommand::Check { file, show, json }), _) => check::run(&file, show, json),
        (
            Some(SpecCommand::New {
                title,
                files,
                output,
            }),
            _,
        ) => new::run(&title, &files, output),
        (None, Some(task)) => write::run(&task, args.output, &args.files, args.model),
        (None, None) => Err(CommandError::user("say what the spec is for")
            .hint("git hybrid spec \"<task>\", or git hybrid spec lint FILE")),
    }
}
