//! `git hybrid sync`: the store and the records ref (`refs/hybrid/records`) brought level.

use super::Status;
use crate::error::CommandError;
use crate::records;
use crate::store::Store;
use crate::ui;

/// Brings the store and the records that travel with the repository level.
///
/// Records on refs/hybrid/records (and on remotes' records that `git fetch` brought, under
/// refs/hybrid/remotes/<remote>/records) that the store lacks are recorded; remotes' records are
/// merged into this clone's ref; what the store has that the ref lacks is written to it. A
/// store lost from .git/hybrid comes back whole. Records are also written as they are made, by
/// implement, adopt, review and fix.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the counts as JSON on stdout: {"version": 1, "imported_generations",
    /// "imported_verdicts", "published", "merged"}
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<Status, CommandError> {
    let repo = crate::git::Repo::open()?;
    // Not `open_for`: a store lost under its marker is what sync restores.
    let mut store = Store::open(&Store::path_for(repo.common_dir()))?;
    let synced = records::sync(&repo, &mut store)?;
    // Under `--quiet` (what runs after a fetch) the counts are not worth a line.
    if ui::is_quiet() && !args.json {
        return Ok(Status::Ok);
    }
    if args.json {
        let mut json = serde_json::to_value(&synced)?;
        json["version"] = serde_json::json!(1);
        ui::out(json.to_string());
    } else {
        ui::out(format!(
            "imported {} generation(s) and {} verdict(s); merged {} remote record ref(s); wrote {} record(s) to {}",
            synced.imported_generations,
            synced.imported_verdicts,
            synced.merged,
            synced.published,
            records::RECORDS_REF
        ));
    }
    Ok(Status::Ok)
}

/// After a command that records: writes its records to the ref and, when the records remote
/// exists (`hybrid.remote`, default `origin`), sends them there at once, so the server knows
/// this output even if its author later skips the hooks (`hybrid.sendRecords = false` leaves
/// them for the next push). The command's own work is done and stays done; a failure here is
/// said, and the next `git push` (or `git hybrid sync`) sends them.
/// Each of adopt, implement, fix and review calls it last, and a spinner says when it sends.
pub(super) fn publish_after() {
    let Ok(repo) = crate::git::Repo::open() else {
        return;
    };
    let Ok(Some(mut store)) = Store::open_existing_for(&repo) else {
        return;
    };
    if let Err(e) = records::publish(&repo, &mut store) {
        ui::warn(format!(
            "the records were not written to {}: {e}; `git hybrid sync` writes them",
            records::RECORDS_REF
        ));
        return;
    }
    let remote = records::remote_name(&repo);
    let send = repo
        .git
        .config()
        .and_then(|c| c.get_bool("hybrid.sendRecords"))
        .unwrap_or(true);
    if !send || repo.git.find_remote(&remote).is_err() {
        return;
    }
    let spinner = ui::spinner();
    spinner.set_message(format!("sending the records to {remote}"));
    let sent = records::send(&repo, &mut store, &remote);
    spinner.finish_and_clear();
    if let Err(why) = sent {
        ui::say(format!(
            "note: the records could not be sent to {remote} now ({why}); the next `git push` sends them"
        ));
    }
}
