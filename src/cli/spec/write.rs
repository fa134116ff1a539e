//! `git hybrid spec "<task>"`: Claude writes the spec.

use crate::cli::Status;
use crate::cloud;
use crate::error::CommandError;
use crate::spec::Spec;
use crate::store::Store;
use crate::ui;

pub fn run(
    task: &str,
    output: Option<std::path::PathBuf>,
    files: &[String],
    model: Option<String>,
) -> Result<Status, CommandError> {
    let (repo, settings) = crate::cli::open()?;
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
            crate::spec::default_path(&top, title)
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
