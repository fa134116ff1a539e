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
    /// Print JSON on stdout instead: {"version": 1, "change_id", "files": [{"path", "old_path",
    /// "added", "removed", "lines": [{"tag": "+"|"-"|" ", "old", "new", "text"}]}], "verdicts":
    /// [{"id", "decision", "model", "complete", "summary", "created_at"}], "findings": [the
    /// latest verdict's], "check": null or {"command", "passed", "status", "output", "runs"}}
    #[arg(long)]
    json: bool,
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
    let verdicts = match &store {
        Some(store) => store.verdicts_for(&id)?,
        None => Vec::new(),
    };
    let findings = match (&store, verdicts.last()) {
        (Some(store), Some(last)) => store.findings_for(last.id)?,
        _ => Vec::new(),
    };
    let check = match &store {
        Some(store) => store.check_of_commit(&range.tip.to_string())?,
        None => None,
    };
    if args.json {
        let mut json = show_json(&change, &verdicts, &findings);
        json["check"] = match &check {
            Some(c) => serde_json::to_value(c)?,
            None => serde_json::json!(null),
        };
        ui::out(json.to_string());
        return Ok(Status::Ok);
    }
    {
        for f in findings {
            notes
                .entry((f.path.clone(), f.line))
                .or_default()
                .push(f.describe());
        }
    }
    let color = ui::color(&args.color, Some(repo.common_dir()));
    print!("{}", render(&change, &notes, color));
    if let Some(check) = &check {
        ui::out(format!("check {}", check.summary()));
        if !check.passed {
            ui::out_all(check.output.lines().map(|l| format!("  {l}")));
        }
    }
    match &store {
        Some(store) => print_history(store, &id)?,
        None => ui::say(format!(
            "change {}: no reviews yet",
            crate::ui::abbrev(&id, 16)
        )),
    }
    Ok(Status::Ok)
}

/// The JSON form of `show` (version 1).
fn show_json(
    change: &crate::change::Change,
    verdicts: &[crate::store::VerdictRow],
    findings: &[crate::store::FindingRow],
) -> serde_json::Value {
    use crate::change::Tag;
    let files: Vec<serde_json::Value> = change
        .files
        .iter()
        .map(|f| {
            let lines: Vec<serde_json::Value> = f
                .text_hunks()
                .iter()
                .flat_map(|h| &h.lines)
                .map(|l| {
                    serde_json::json!({
                        "tag": match l.tag { Tag::Added => "+", Tag::Removed => "-", Tag::Context => " " },
                        "old": l.old_line,
                        "new": l.new_line,
                        "text": String::from_utf8_lossy(&l.bytes).trim_end_matches(['\n', '\r']),
                    })
                })
                .collect();
            let count = |tag| f.text_hunks().iter().flat_map(|h| &h.lines).filter(|l| l.tag == tag).count();
            serde_json::json!({
                "path": f.display_path(),
                "old_path": f.old.as_ref().map(|o| String::from_utf8_lossy(&o.path).into_owned()),
                "added": count(Tag::Added),
                "removed": count(Tag::Removed),
                "lines": lines,
            })
        })
        .collect();
    let verdicts: Vec<serde_json::Value> = verdicts
        .iter()
        .map(|v| {
            serde_json::json!({
                "id": v.id,
                "decision": v.decision.as_str(),
                "model": v.model,
                "complete": v.complete,
                "summary": v.summary,
                "created_at": v.created_at,
                "recorded_by": v.recorded_by,
                "via": v.via.as_str(),
                "client": v.client,
            })
        })
        .collect();
    serde_json::json!({
        "version": 1,
        "change_id": change.id().to_string(),
        "files": files,
        "verdicts": verdicts,
        "findings": findings,
    })
}

fn print_history(store: &Store, id: &str) -> Result<(), CommandError> {
    let verdicts = store.verdicts_for(id)?;
    if verdicts.is_empty() {
        ui::say(format!(
            "change {}: no reviews yet (git hybrid review)",
            crate::ui::abbrev(id, 16)
        ));
        return Ok(());
    }
    ui::out(format!(
        "change {}: {} review{}",
        crate::ui::abbrev(id, 16),
        verdicts.len(),
        ui::plural(verdicts.len())
    ));
    let now = crate::store::now_secs();
    for v in verdicts {
        ui::out(format!(
            "  #{} {} {} by {}{}{}{}: {}",
            v.id,
            ui::age(now - v.created_at),
            v.decision,
            v.model,
            if v.via == crate::store::Via::Mcp {
                " in an MCP session"
            } else {
                ""
            },
            v.recorded_by
                .as_deref()
                .map(|by| format!(", recorded by {by}"))
                .unwrap_or_default(),
            if v.complete {
                ""
            } else {
                " (partial: files withheld)"
            },
            match v.summary.as_deref().and_then(|s| s.lines().next()) {
                Some(line) if !line.is_empty() => line.to_string(),
                // A verdict read from the records ref: its text stayed where it was made.
                _ if v.recorded_by.is_some() =>
                    "(its text stays in the clone that recorded it)".to_string(),
                _ => String::new(),
            }
        ));
    }
    Ok(())
}
