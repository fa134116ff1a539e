//! `git hybrid spec new`: a template to fill in.

use crate::cli::Status;
use crate::error::CommandError;
use crate::ui;

pub fn run(
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
    let path = output.unwrap_or_else(|| crate::spec::default_path(top, title));
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
