//! Pricing API calls from the price table in `data/prices.toml` (embedded), plus rows the user
//! adds in `~/.config/git-hybrid/config.toml`. Each call is priced with the newest row for its
//! model that was in effect on the call's date, so a price change never rewrites the past.

use serde::Deserialize;

use super::client::Usage;

const EMBEDDED: &str = include_str!("../../data/prices.toml");

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Price {
    pub model: String,
    /// `YYYY-MM-DD`: from which day this row applies.
    pub effective: String,
    pub input: f64,
    pub output: f64,
    /// The 5-minute cache write; `None` bills cache writes as input.
    pub cache_write: Option<f64>,
    /// `None` bills cache reads as input.
    pub cache_read: Option<f64>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Table {
    #[serde(default)]
    price: Vec<Price>,
}

#[derive(Clone, Debug)]
pub struct Prices {
    rows: Vec<Price>,
}

impl Prices {
    /// The embedded table plus the user's rows; a user file that does not parse is ignored with
    /// a warning (the ledger then uses the embedded prices).
    pub fn load() -> Prices {
        let mut rows = parse(EMBEDDED).unwrap_or_default();
        if let Some(path) = crate::config::user_config_path()
            && let Ok(text) = std::fs::read_to_string(&path)
        {
            match parse(&text) {
                Ok(more) => rows.extend(more),
                Err(e) => tracing::warn!(path = %path.display(), error = %e, "price rows ignored"),
            }
        }
        Prices { rows }
    }

    pub fn embedded() -> Prices {
        Prices {
            rows: parse(EMBEDDED).unwrap_or_default(),
        }
    }

    /// The row in effect for `model` on `date` (`YYYY-MM-DD`).
    pub fn lookup(&self, model: &str, date: &str) -> Option<&Price> {
        self.rows
            .iter()
            .filter(|p| p.model == model && p.effective.as_str() <= date)
            .max_by(|a, b| a.effective.cmp(&b.effective))
    }

    /// US dollars for one call's usage; `None` when the model has no price. A batch pays half
    /// of everything: input, output, cache writes and cache reads.
    pub fn cost(&self, model: &str, date: &str, usage: &Usage, batch: bool) -> Option<f64> {
        let p = self.lookup(model, date)?;
        let half = if batch { 0.5 } else { 1.0 };
        let per = |tokens: u64, rate: f64| tokens as f64 * rate / 1_000_000.0;
        Some(
            (per(usage.input_tokens, p.input)
                + per(usage.output_tokens, p.output)
                + per(
                    usage.cache_creation_input_tokens,
                    p.cache_write.unwrap_or(p.input),
                )
                + per(
                    usage.cache_read_input_tokens,
                    p.cache_read.unwrap_or(p.input),
                ))
                * half,
        )
    }
}

fn parse(text: &str) -> Result<Vec<Price>, toml::de::Error> {
    toml::from_str::<Table>(text).map(|t| t.price)
}

/// Today's date as `YYYY-MM-DD` (UTC), from the system clock.
pub fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    date_of(secs)
}

/// A unix time's UTC date, `YYYY-MM-DD` (Howard Hinnant's days-to-civil algorithm; a date
/// library for this one conversion would be more code to keep than these lines).
pub fn date_of(unix_secs: i64) -> String {
    let days = unix_secs.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The unix time of a `YYYY-MM-DD` date's midnight UTC, the inverse of `date_of`.
pub fn parse_date(date: &str) -> Option<i64> {
    let mut parts = date.trim().splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400;
    (date_of(secs) == date.trim()).then_some(secs)
}

/// One line of the ledger summary: everything spent in one phase on one model.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct LedgerLine {
    pub phase: String,
    pub model: String,
    pub calls: u64,
    pub failed_calls: u64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cache_write_tokens: i64,
    pub cache_read_tokens: i64,
    pub usd: f64,
    /// Calls whose model had no price: their cost is not in `usd`.
    pub unpriced_calls: u64,
    pub wall_ms: i64,
}

impl LedgerLine {
    fn add(&mut self, row: &crate::store::UsageRow) {
        self.calls += 1;
        self.failed_calls += u64::from(!row.ok);
        self.input_tokens += row.input_tokens;
        self.output_tokens += row.output_tokens;
        self.cache_write_tokens += row.cache_write_tokens;
        self.cache_read_tokens += row.cache_read_tokens;
        match row.usd {
            Some(usd) => self.usd += usd,
            None => self.unpriced_calls += 1,
        }
        self.wall_ms += row.wall_ms;
    }
}

/// Ledger rows summed per (phase, model), in a stable order, and the total.
pub fn summarize(rows: &[crate::store::UsageRow]) -> (Vec<LedgerLine>, LedgerLine) {
    let mut lines: std::collections::BTreeMap<(String, String), LedgerLine> = Default::default();
    let mut total = LedgerLine {
        phase: "total".into(),
        ..LedgerLine::default()
    };
    for row in rows {
        lines
            .entry((row.phase.clone(), row.model.clone()))
            .or_insert_with(|| LedgerLine {
                phase: row.phase.clone(),
                model: row.model.clone(),
                ..LedgerLine::default()
            })
            .add(row);
        total.add(row);
    }
    (lines.into_values().collect(), total)
}

/// The counterfactual: what would the same work have cost all on Claude?
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Counterfactual {
    /// The model local tokens are priced on (the reviewer's).
    pub priced_on: String,
    pub local_input_tokens: i64,
    pub local_output_tokens: i64,
    /// What the local tokens would have cost on `priced_on`; `None` without a price for it.
    pub local_on_cloud_usd: Option<f64>,
    /// Money actually spent on the API.
    pub cloud_usd: f64,
    /// Electricity for the local runs: wall time × watts.
    pub energy_kwh: f64,
    pub energy_usd: f64,
    /// cloud + local-on-cloud, against cloud + energy.
    pub all_cloud_usd: Option<f64>,
    pub actual_usd: f64,
    pub savings_usd: Option<f64>,
    pub savings_pct: Option<f64>,
}

/// Prices the local rows of the ledger on `model` (as of `date`) and compares.
pub fn counterfactual(
    rows: &[crate::store::UsageRow],
    prices: &Prices,
    model: &str,
    date: &str,
    watts: f64,
    usd_per_kwh: f64,
) -> Counterfactual {
    let local: Vec<_> = rows.iter().filter(|r| r.provider.is_local()).collect();
    let cloud_usd: f64 = rows
        .iter()
        .filter(|r| !r.provider.is_local())
        .filter_map(|r| r.usd)
        .sum();
    let local_input_tokens: i64 = local.iter().map(|r| r.input_tokens).sum();
    let local_output_tokens: i64 = local.iter().map(|r| r.output_tokens).sum();
    let local_on_cloud_usd = prices.cost(
        model,
        date,
        &Usage {
            input_tokens: local_input_tokens.max(0) as u64,
            output_tokens: local_output_tokens.max(0) as u64,
            ..Usage::default()
        },
        false,
    );
    let wall_ms: i64 = local.iter().map(|r| r.wall_ms).sum();
    let energy_kwh = wall_ms as f64 / 3_600_000.0 * watts / 1000.0;
    let energy_usd = energy_kwh * usd_per_kwh;
    let actual_usd = cloud_usd + energy_usd;
    let all_cloud_usd = local_on_cloud_usd.map(|l| cloud_usd + l);
    let savings_usd = all_cloud_usd.map(|all| all - actual_usd);
    let savings_pct = all_cloud_usd
        .zip(savings_usd)
        .filter(|(all, _)| *all > 0.0)
        .map(|(all, s)| 100.0 * s / all);
    Counterfactual {
        priced_on: model.to_string(),
        local_input_tokens,
        local_output_tokens,
        local_on_cloud_usd,
        cloud_usd,
        energy_kwh,
        energy_usd,
        all_cloud_usd,
        actual_usd,
        savings_usd,
        savings_pct,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_table_prices_the_issue_rows() {
        let prices = Prices::embedded();
        let usage = Usage {
            input_tokens: 1_000_000,
            output_tokens: 1_000_000,
            cache_creation_input_tokens: 1_000_000,
            cache_read_input_tokens: 1_000_000,
        };
        let cost = |m: &str, batch| prices.cost(m, "2026-11-25", &usage, batch).unwrap();
        assert!((cost("claude-opus-5-5", false) - (4.0 + 20.0 + 5.0 + 0.20)).abs() < 1e-9);
        assert!((cost("claude-opus-5-5", true) - (2.0 + 10.0 + 2.5 + 0.10)).abs() < 1e-9);
        assert!((cost("claude-fable-5-1", false) - (10.0 + 50.0 + 10.0 + 10.0)).abs() < 1e-9);
        assert!((cost("claude-haiku-4-5", false) - (1.0 + 5.0 + 1.25 + 0.10)).abs() < 1e-9);
        assert_eq!(
            prices.cost("claude-unknown", "2026-11-25", &usage, false),
            None
        );
        assert_eq!(
            prices.cost("claude-opus-5-5", "2020-01-01", &usage, false),
            None
        );
    }

    #[test]
    fn newer_rows_win_from_their_date() {
        let mut prices = Prices::embedded();
        let mut row = prices
            .lookup("claude-opus-5-5", "2026-11-25")
            .unwrap()
            .clone();
        row.effective = "2027-01-01".into();
        row.input = 1.0;
        prices.rows.push(row);
        assert_eq!(
            prices
                .lookup("claude-opus-5-5", "2026-12-31")
                .unwrap()
                .input,
            4.0
        );
        assert_eq!(
            prices
                .lookup("claude-opus-5-5", "2027-01-02")
                .unwrap()
                .input,
            1.0
        );
    }

    #[test]
    fn the_summary_adds_up() {
        use crate::store::UsageRow;
        let row = |phase: &str, model: &str, input, usd| UsageRow {
            phase: phase.into(),
            model: model.into(),
            input_tokens: input,
            output_tokens: 10,
            usd,
            wall_ms: 100,
            ok: true,
            ..UsageRow::default()
        };
        let rows = vec![
            row("review", "claude-opus-5-5", 1000, Some(0.01)),
            row("review", "claude-opus-5-5", 500, Some(0.02)),
            row("spec", "claude-unknown", 7, None),
        ];
        let (lines, total) = summarize(&rows);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].calls, 2);
        assert_eq!(lines[0].input_tokens, 1500);
        assert!((lines[0].usd - 0.03).abs() < 1e-12);
        assert_eq!(lines[1].unpriced_calls, 1);
        assert_eq!(total.calls, 3);
        assert_eq!(total.wall_ms, 300);
    }

    #[test]
    fn the_counterfactual_prices_local_tokens_on_the_reviewer() {
        use crate::store::UsageRow;
        let rows = vec![
            UsageRow {
                phase: "implement".into(),
                provider: crate::store::Provider::Embedded,
                input_tokens: 1_000_000,
                output_tokens: 500_000,
                wall_ms: 3_600_000,
                usd: Some(0.0),
                ..UsageRow::default()
            },
            UsageRow {
                phase: "review".into(),
                provider: crate::store::Provider::Anthropic,
                usd: Some(1.5),
                ..UsageRow::default()
            },
        ];
        let c = counterfactual(
            &rows,
            &Prices::embedded(),
            "claude-opus-5-5",
            "2026-11-25",
            300.0,
            0.2,
        );
        // 1M input at $4 + 0.5M output at $20 = $14; one hour at 300 W = 0.3 kWh = $0.06.
        assert!((c.local_on_cloud_usd.unwrap() - 14.0).abs() < 1e-9);
        assert!((c.energy_usd - 0.06).abs() < 1e-9);
        assert!((c.all_cloud_usd.unwrap() - 15.5).abs() < 1e-9);
        assert!((c.actual_usd - 1.56).abs() < 1e-9);
        assert!((c.savings_usd.unwrap() - 13.94).abs() < 1e-9);
        assert!((c.savings_pct.unwrap() - 100.0 * 13.94 / 15.5).abs() < 1e-9);
    }

    #[test]
    fn dates_round_trip() {
        assert_eq!(date_of(0), "1970-01-01");
        assert_eq!(date_of(1_795_564_800), "2026-11-25");
        for d in ["2026-11-25", "2024-02-29", "2000-03-01", "1999-12-31"] {
            assert_eq!(date_of(parse_date(d).unwrap()), d);
        }
        assert_eq!(parse_date("2026-02-30"), None);
        assert_eq!(parse_date("yesterday"), None);
    }
}
