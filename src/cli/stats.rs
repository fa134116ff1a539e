//! `git hybrid stats [--since DATE] [--json]`: what the workflow cost, from the ledger.

use serde_json::json;

use super::Status;
use crate::cloud::cost::{self, LedgerLine};
use crate::error::CommandError;
use crate::store::Store;
use crate::ui;

/// Prints the cost ledger by phase and model — calls, tokens, dollars, time — and what the local
/// work would have cost on the reviewer's model (energy: GIT_HYBRID_LOCAL_WATTS, default 300,
/// and GIT_HYBRID_KWH_USD, default 0.15).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only calls on or after this day (YYYY-MM-DD, UTC)
    #[arg(long)]
    since: Option<String>,
    /// Print JSON on stdout
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<Status, CommandError> {
    let since = match &args.since {
        Some(day) => cost::parse_date(day).ok_or_else(|| {
            CommandError::user(format!("--since {day:?} is not a date"))
                .hint("write it as YYYY-MM-DD, e.g. --since 2026-11-01")
        })?,
        None => 0,
    };
    let (repo, settings) = super::open()?;
    let rows = match Store::open_existing_for(&repo)? {
        Some(store) => store.usage_since(since)?,
        None => Vec::new(),
    };
    let (lines, total) = cost::summarize(&rows);
    // Local energy: the machine's draw while generating, and what a kWh costs.
    let env_number = |name: &str, default: f64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(default)
    };
    let counterfactual = cost::counterfactual(
        &rows,
        &cost::Prices::load(),
        &settings.review_model,
        &cost::today(),
        env_number("GIT_HYBRID_LOCAL_WATTS", 300.0),
        env_number("GIT_HYBRID_KWH_USD", 0.15),
    );
    if args.json {
        println!(
            "{}",
            json!({
                "since": args.since,
                "lines": lines,
                "total": total,
                "counterfactual": counterfactual,
            })
        );
        return Ok(Status::Ok);
    }
    if rows.is_empty() {
        ui::say("no calls recorded yet");
        return Ok(Status::Ok);
    }
    // Local model names are long (a GGUF file's stem): the column takes the longest.
    let width = lines
        .iter()
        .map(|l| l.model.len())
        .max()
        .unwrap_or(0)
        .max(20);
    ui::out(format!(
        "{:<10} {:<width$} {:>6} {:>10} {:>10} {:>10} {:>10} {:>10} {:>9}",
        "phase", "model", "calls", "input", "output", "cache w", "cache r", "cost", "time"
    ));
    for line in lines.iter().chain(std::iter::once(&total)) {
        ui::out(row(line, width));
    }
    let c = &counterfactual;
    if c.local_input_tokens + c.local_output_tokens > 0 {
        match (c.local_on_cloud_usd, c.savings_usd, c.savings_pct) {
            (Some(on_cloud), Some(saved), Some(pct)) => ui::out(format!(
                "local work: {} tokens in, {} out — ${on_cloud:.4} on {}; local energy {:.4} kWh (${:.4}); all-cloud ${:.4} vs actual ${:.4}: saved ${saved:.4} ({pct:.1}%)",
                c.local_input_tokens,
                c.local_output_tokens,
                c.priced_on,
                c.energy_kwh,
                c.energy_usd,
                c.all_cloud_usd.unwrap_or_default(),
                c.actual_usd
            )),
            _ => ui::say(format!(
                "{} has no price: the all-cloud comparison is left out",
                c.priced_on
            )),
        }
    }
    if total.unpriced_calls > 0 {
        ui::say(format!(
            "{} call{} used a model with no price; add a [[price]] row to ~/.config/git-hybrid/config.toml",
            total.unpriced_calls,
            ui::plural(total.unpriced_calls)
        ));
    }
    Ok(Status::Ok)
}

fn row(l: &LedgerLine, width: usize) -> String {
    format!(
        "{:<10} {:<width$} {:>6} {:>10} {:>10} {:>10} {:>10} {:>10} {:>8.1}s",
        l.phase,
        l.model,
        l.calls,
        l.input_tokens,
        l.output_tokens,
        l.cache_write_tokens,
        l.cache_read_tokens,
        format!("${:.4}", l.usd),
        l.wall_ms as f64 / 1000.0
    )
}
