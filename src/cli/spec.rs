//! `git hybrid spec "<task>" [-o FILE] [--files a,b]` (Claude writes a spec) and
//! `git hybrid spec lint FILE` (flags the vague specs local models fail on).

use clap::Subcommand;

use super::Status;
use crate::cloud;
use crate::error::CommandError;
use crate::spec::{Spec, slug};
use crate::store::Store;
use crate::ui;

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
        (Some(SpecCommand::Lint { file }), _) => lint_file(&file),
        (
            Some(SpecCommand::New {
                title,
                files,
                output,
            }),
            _,
        ) => new_template(&title, &files, output),
        (None, Some(task)) => write(&task, args.output, &args.files, args.model),
        (None, None) => Err(CommandError::user("say what the spec is for")
            .hint("git hybrid spec \"<task>\", or git hybrid spec lint FILE")),
    }
}

fn write(
    task: &str,
    output: Option<std::path::PathBuf>,
    files: &[String],
    model: Option<String>,
) -> Result<Status, CommandError> {
    let (repo, settings) = super::open()?;
    let top = repo
        .worktree()
        .ok_or_else(|| CommandError::user("spec needs a repository with a working tree"))?
        .to_path_buf();
    let model = model.unwrap_or_else(|| settings.review_model.clone());
    let mut store = Store::open_for(&repo)?;
    let bar = ui::spinner();
    let written = cloud::spec::write(&repo, &mut store, task, files, &model, &|m| {
        bar.set_message(m.to_string())
    });
    bar.finish_and_clear();
    let written = written?;
    let path = match output {
        Some(p) => p,
        None => {
            let title = written
                .text
                .lines()
                .next()
                .unwrap_or(task)
                .trim_start_matches('#');
            default_path(&top, title)
        }
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&path, &written.text)?;
    ui::say(format!(
        "wrote {} with {model}{}",
        path.display(),
        written
            .usd
            .map(|u| format!(" (${u:.4})"))
            .unwrap_or_default()
    ));
    let spec = Spec::read(&top, &path)?;
    let problems = crate::spec::lint_in(&repo, &spec.text);
    for p in &problems {
        ui::warn(format!("{}: {p}", spec.path));
    }
    ui::say(format!("next: git hybrid implement {}", spec.path));
    Ok(Status::Ok)
}

/// Where a spec titled `title` goes by default: `.hybrid/specs/<slug>.md`, numbered when taken.
fn default_path(top: &std::path::Path, title: &str) -> std::path::PathBuf {
    let dir = top.join(".hybrid/specs");
    let stem = slug(title);
    (1..100)
        .map(|n| {
            dir.join(if n == 1 {
                format!("{stem}.md")
            } else {
                format!("{stem}-{n}.md")
            })
        })
        .find(|p| !p.exists())
        .unwrap_or_else(|| dir.join(format!("{stem}.md")))
}

fn new_template(
    title: &str,
    files: &[String],
    output: Option<std::path::PathBuf>,
) -> Result<Status, CommandError> {
    let repo = crate::git::Repo::open()?;
    let top = repo
        .worktree()
        .ok_or_else(|| CommandError::user("spec new needs a repository with a working tree"))?;
    let head = repo.head_tree()?;
    let files: Vec<(String, bool)> = files
        .iter()
        .map(|f| {
            let exists = head
                .as_ref()
                .is_some_and(|t| t.get_path(std::path::Path::new(f)).is_ok());
            (f.clone(), exists)
        })
        .collect();
    let path = output.unwrap_or_else(|| default_path(top, title));
    if path.exists() {
        return Err(
            CommandError::user(format!("{} already exists", path.display()))
                .hint("pick another path with -o, or another title"),
        );
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&path, crate::spec::template(title, &files))?;
    let shown = path.strip_prefix(top).unwrap_or(&path).display();
    ui::out(shown.to_string());
    ui::say(format!(
        "fill in the TODO lines, then: git hybrid spec lint {shown} && git hybrid implement {shown}"
    ));
    Ok(Status::Ok)
}

fn lint_file(file: &std::path::Path) -> Result<Status, CommandError> {
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
        if problems.len() == 1 { "" } else { "s" },
        spec.path
    ));
    Ok(Status::Failed)
}
