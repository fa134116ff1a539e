//! `git hybrid model pull`: downloads, checks and registers a model.

use crate::cli::Status;
use crate::error::CommandError;
use crate::local::models::PullProgress;
use crate::ui;

pub fn run(url: String, sha256: Option<String>) -> Result<Status, CommandError> {
    let bar = ui::byte_bar();
    let model = crate::local::models::pull(&url, sha256.as_deref(), &|progress| {
        match progress {
            PullProgress::Downloaded { done, total } => {
                if let Some(t) = total {
                    bar.set_length(t);
                }
                bar.set_position(done);
            }
            // The bar would sit at 100% for the seconds a large file takes to hash.
            PullProgress::Hashing => {
                bar.finish_and_clear();
                ui::say("checking the download's sha256");
            }
        }
    });
    bar.finish_and_clear();
    let model = model?;
    ui::say(format!(
        "pulled {} ({} MB, sha256 {}) to {}",
        model.name,
        model.size / 1_000_000,
        model.sha256,
        model.path.display()
    ));
    Ok(Status::Ok)
}
