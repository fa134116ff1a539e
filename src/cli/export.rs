//! `git hybrid export`: this clone's generations in another tool's attribution format.

use super::Status;
use crate::error::CommandError;
use crate::store::Store;
use crate::ui;

/// Prints this clone's generations as Agent Trace records, one JSON record per line on stdout:
/// the lines each generation wrote as ranges of the commit it made, its model as the AI
/// contributor, git-hybrid as the tool. Generations read from other tools' notes are left out.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The format (Agent Trace 0.1 is the only one)
    #[arg(long, value_enum, default_value = "agent-trace")]
    format: Format,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Format {
    AgentTrace,
}

pub fn run(args: Args) -> Result<Status, CommandError> {
    let Format::AgentTrace = args.format;
    let repo = crate::git::Repo::open()?;
    let Some(store) = Store::open_existing_for(&repo)? else {
        ui::say("no generations recorded in this repository");
        return Ok(Status::Ok);
    };
    let records = crate::attribution::export(&store)?;
    for record in &records {
        ui::out(record.to_string());
    }
    ui::say(format!(
        "{} generation{} as Agent Trace records",
        records.len(),
        ui::plural(records.len())
    ));
    Ok(Status::Ok)
}
