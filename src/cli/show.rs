//! `git hybrid show <branch|A..B|change-id>`: a change with its review findings under the lines
//! they are about, and the history of verdicts on it.

use super::Status;
use crate::change::render::{Notes, render};
use crate::error::CommandError;
use crate::provenance::Range;
use crate::store::Store;
use crate::ui;

/// Shows a change with its findings inline and its verdict history.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A branch (against its merge-base with the default branch), a range A..B, or a change id
    /// (hc1-…, a prefix will do)
    target: String,
    /// Colour: auto (on a terminal), always or never
    #[arg(long, default_value = "auto", value_parser = ["auto", "always", "never"])]
    color: String,
}

pub fn run(args: Args) -> Result<Status, CommandError> {
    let (repo, settings) = super::open()?;
    let store = Store::open_existing_for(&repo)?;
    let range = if args.target.starts_with(crate::change::ID_PREFIX) {
        let store = store.as_ref().ok_or_else(|| {
            CommandError::user(format!("no review of {} is recorded here", args.target))
        })?;
        let ids = store.change_ids_like(&args.target)?;
        let id = match ids.as_slice() {
            [one] => one.clone(),
            [] => {
                return Err(CommandError::user(format!(
                    "no review of {} is recorded here",
                    args.target
                ))
                .hint("`git hybrid show <branch>` shows a change that was not reviewed yet"));
            }
            _ => {
                return Err(CommandError::user(format!(
                    "{} matches {} changes",
                    args.target,
                    ids.len()
                ))
                .hint("give more digits of the change id"));
            }
        };
        let verdicts = store.verdicts_for(&id)?;
        let last = verdicts
            .last()
            .ok_or_else(|| CommandError::internal("a listed change has no verdict"))?;
        match &last.tip_commit {
            Some(tip) => {
                let spec = match &last.base_commit {
                    Some(base) => format!("{base}..{tip}"),
                    None => tip.clone(),
                };
                Range::parse(&repo, &spec)?
            }
            None => {
                ui::say(format!(
                    "{id} was reviewed from the index (--staged); its content is not kept"
                ));
                print_history(store, &id)?;
                return Ok(Status::Ok);
            }
        }
    } else {
        let range = Range::of_target(&repo, &args.target, settings.default_branch.as_deref())?;
        // A branch the default branch already contains (merged) no longer differs from it: its
        // change is the one its latest review saw.
        let merged = range.branch.is_some()
            && repo.base_for_new_ref(range.tip, settings.default_branch.as_deref())
                == Some(range.tip);
        let reviewed = match (&store, merged) {
            (Some(store), true) => store
                .verdicts_for_target(&args.target)?
                .pop()
                .and_then(|v| Some(format!("{}..{}", v.base_commit?, v.tip_commit?))),
            _ => None,
        };
        match reviewed {
            Some(spec) => Range::parse(&repo, &spec)?,
            None => range,
        }
    };
    let change = range.change(&repo)?;
    let id = change.id().to_string();
    let mut notes = Notes::new();
    if let Some(store) = &store
        && let Some(last) = store.verdicts_for(&id)?.last()
    {
        for f in store.findings_for(last.id)? {
            notes
                .entry((f.path.clone(), f.line))
                .or_default()
                .push(f.describe());
        }
    }
    let color = ui::color(&args.color, repo.git.config().ok().as_ref());
    print!("{}", render(&change, &notes, color));
    match &store {
        Some(store) => print_history(store, &id)?,
        None => ui::say(format!("change {}: no reviews yet", &id[..16])),
    }
    Ok(Status::Ok)
}

fn print_history(store: &Store, id: &str) -> Result<(), CommandError> {
    let verdicts = store.verdicts_for(id)?;
    if verdicts.is_empty() {
        ui::say(format!(
            "change {}: no reviews yet (git hybrid review)",
            &id[..16]
        ));
        return Ok(());
    }
    ui::out(format!(
        "change {}: {} review{}",
        &id[..16],
        verdicts.len(),
        if verdicts.len() == 1 { "" } else { "s" }
    ));
    let now = crate::store::now_secs();
    for v in verdicts {
        ui::out(format!(
            "  #{} {} {} by {}{}: {}",
            v.id,
            ui::age(now - v.created_at),
            v.decision,
            v.model,
            if v.complete {
                ""
            } else {
                " (partial: files withheld)"
            },
            v.summary
                .unwrap_or_default()
                .lines()
                .next()
                .unwrap_or_default()
        ));
    }
    Ok(())
}
