//! Verdicts with their findings and approved lines, the cost ledger, and the audit of what was
//! sent. A verdict and everything it approves are written in one transaction: the gate never
//! sees an approval without its lines, or lines without their verdict.
//!
//! `record_verdict` is the only writer of approved lines, and it writes exactly the verdict's
//! [`SentLines`]: the added lines as the review's requests carried them. Nothing computed from a
//! branch can become an approved line.

use std::collections::BTreeSet;

use rusqlite::{OptionalExtension, params};

use super::{Result, Store, now_secs};
use crate::change::Fingerprint;

text_enum! {
    /// What a verdict decided: the schema's two answers, and the store's vocabulary for them.
    Decision { Approve => "approve", RequestChanges => "request_changes" }
}

text_enum! {
    /// Who was paid (or ran the model) for a ledger row: Claude, or one of the local backends.
    Provider { Anthropic => "anthropic", Embedded => "embedded", OpenAi => "openai" }
}

impl Provider {
    /// Whether the work ran on a model the user hosts (so no cloud money was spent on it).
    pub fn is_local(self) -> bool {
        self != Provider::Anthropic
    }
}

/// A ledger row's provider when none is said: the default local engine.
impl Default for Provider {
    fn default() -> Provider {
        Provider::Embedded
    }
}

text_enum! {
    /// How a verdict was made: by the API (`review`), or in an MCP client's session
    /// (`review_request` / `review_submit`), which counts only where the policy accepts it.
    Via { Api => "api", Mcp => "mcp" }
}

// `text_enum!` writes the variants, so `#[default]` cannot mark one: said here instead.
#[allow(clippy::derivable_impls)]
impl Default for Via {
    fn default() -> Self {
        Via::Api
    }
}

text_enum! {
    /// Who found a finding: Claude, or the local scan before sending (hidden characters).
    FindingSource { Reviewer => "reviewer", Local => "local" }
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct FindingRow {
    pub source: FindingSource,
    pub path: String,
    pub line: u32,
    pub severity: String,
    pub category: String,
    pub message: String,
    pub suggestion: String,
}

#[derive(Clone, Debug)]
pub struct VerdictRecord {
    pub change_id: String,
    pub decision: Decision,
    pub model: String,
    pub request_id: Option<String>,
    pub raw_response: Option<String>,
    pub summary: String,
    /// False when files were withheld or a part went unreviewed: then the change id is not
    /// approved, only the lines that were seen.
    pub complete: bool,
    pub base_commit: Option<String>,
    pub tip_commit: Option<String>,
    pub target: String,
    pub parts: u32,
    pub findings: Vec<FindingRow>,
    /// The added lines the review's requests carried; approved when the decision is `approve`.
    pub seen: SentLines,
    /// How it was made, and (a session's) the client and model it reported.
    pub via: Via,
    pub client: Option<String>,
}

/// What a review's requests carried, as a request showed it (after redaction, withheld files
/// left out): the fingerprints of its added lines (how detection finds them), and the exact
/// identities of its lines and edits (what an approval covers: see `change::exact`). Built only
/// from request text ([`SentLines::note_sent_file`]) or read back from earlier verdicts, never
/// from a branch: that is what makes "an approval covers exactly what was sent" hold.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(from = "SentForm")]
pub struct SentLines {
    lines: BTreeSet<Fingerprint>,
    exact: BTreeSet<Fingerprint>,
}

/// Plans stored by older versions kept only the fingerprints, as a bare list.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum SentForm {
    Fingerprints(BTreeSet<Fingerprint>),
    Both {
        lines: BTreeSet<Fingerprint>,
        #[serde(default)]
        exact: BTreeSet<Fingerprint>,
    },
}

impl From<SentForm> for SentLines {
    fn from(form: SentForm) -> SentLines {
        match form {
            SentForm::Fingerprints(lines) => SentLines {
                lines,
                exact: BTreeSet::new(),
            },
            SentForm::Both { lines, exact } => SentLines { lines, exact },
        }
    }
}

impl SentLines {
    /// Notes one file exactly as a request renders it (old and new path, then its unified
    /// hunks): every added line's fingerprint, and the exact identity of every added line's text
    /// and of every edit. A line a redaction changed is noted as changed; lines a redaction
    /// swallowed are not there at all, and their neighbours' edits differ.
    pub fn note_sent_file(&mut self, old_path: &str, new_path: &str, rendered: &str) {
        use crate::change::exact;
        for hunk in exact::rendered_hunks(rendered) {
            for (tag, text) in &hunk {
                if *tag == crate::change::Tag::Added
                    && let Some(fp) = crate::change::fingerprint(text.as_bytes())
                {
                    self.lines.insert(fp);
                }
            }
            for e in exact::hunk_edits(old_path, new_path, &hunk) {
                self.exact.insert(e.edit);
                if !e.removed {
                    self.exact.insert(e.text);
                }
            }
        }
    }

    /// Read back from a published verdict (the records ref): still what its requests carried.
    /// A verdict recorded by a version before exact approvals has no `exact` part: it approves
    /// lines by fingerprint only, as it did then, and no edit at all.
    pub fn from_parts(
        lines: impl IntoIterator<Item = Fingerprint>,
        exact: impl IntoIterator<Item = Fingerprint>,
    ) -> SentLines {
        SentLines {
            lines: lines.into_iter().collect(),
            exact: exact.into_iter().collect(),
        }
    }

    pub fn fingerprints(&self) -> impl Iterator<Item = Fingerprint> + '_ {
        self.lines.iter().copied()
    }

    /// Exact identities of the lines' texts and of the edits carried.
    pub fn exact(&self) -> impl Iterator<Item = Fingerprint> + '_ {
        self.exact.iter().copied()
    }

    pub fn extend(&mut self, other: SentLines) {
        self.lines.extend(other.lines);
        self.exact.extend(other.exact);
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty() && self.exact.is_empty()
    }

    pub fn contains(&self, fp: Fingerprint) -> bool {
        self.lines.contains(&fp)
    }

    /// Whether this exact text or edit identity was carried.
    pub fn carried(&self, exact: Fingerprint) -> bool {
        self.exact.contains(&exact)
    }
}

impl FindingRow {
    /// `[severity category] message — suggestion`: how a finding reads wherever it is shown.
    pub fn describe(&self) -> String {
        let mut text = format!(
            "[{} {}{}] {}",
            self.severity,
            self.category,
            if self.source == FindingSource::Local {
                ", found locally"
            } else {
                ""
            },
            self.message
        );
        if !self.suggestion.is_empty() {
            text.push_str(" — ");
            text.push_str(&self.suggestion);
        }
        text
    }
}

/// A stored verdict, as `show` lists it.
#[derive(Clone, Debug)]
pub struct VerdictRow {
    pub id: i64,
    pub change_id: String,
    pub decision: Decision,
    pub model: String,
    pub summary: Option<String>,
    pub complete: bool,
    pub base_commit: Option<String>,
    pub tip_commit: Option<String>,
    pub target: Option<String>,
    pub created_at: i64,
    /// The API's ids of the calls behind it, comma-separated.
    pub request_id: Option<String>,
    /// Who recorded it, when it was read from the records ref (a teammate, CI); `None` for a
    /// verdict made in this clone.
    pub recorded_by: Option<String>,
    pub via: Via,
    /// A session review's client and model, as the client reported them.
    pub client: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct UsageRow {
    pub at: i64,
    pub phase: String,
    pub provider: Provider,
    pub model: String,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cache_write_tokens: i64,
    pub cache_read_tokens: i64,
    pub usd: Option<f64>,
    pub wall_ms: i64,
    pub batch: bool,
    pub request_id: Option<String>,
    pub ok: bool,
}

impl Store {
    /// Keeps a review handed to an MCP client's session, under its one-time id, until the
    /// session answers it.
    pub fn hold_session_review(&mut self, id: &str, plan: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO session_reviews (id, plan, created_at) VALUES (?1, ?2, ?3)",
                params![id, plan, now_secs()],
            )
            .map(drop)
        })
    }

    /// Takes the review handed out under `id` and forgets it, in one step, so that it is answered
    /// at most once: `None` when there is none — never handed out, answered already, or older
    /// than `max_age_secs` (the branch may have moved since).
    pub fn take_session_review(&mut self, id: &str, max_age_secs: i64) -> Result<Option<String>> {
        let oldest = now_secs() - max_age_secs;
        self.write(|tx| {
            tx.query_row(
                "DELETE FROM session_reviews WHERE id = ?1 RETURNING plan, created_at",
                [id],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
            )
            .optional()
            .map(|found| found.filter(|(_, at)| *at >= oldest).map(|(plan, _)| plan))
        })
    }

    pub fn record_verdict(&mut self, v: &VerdictRecord) -> Result<i64> {
        self.write(|tx| insert_verdict(tx, v))
    }

    /// Keeps which added lines of a verdict's change its requests did not carry as written.
    pub fn record_unsent(&mut self, verdict_id: i64, unsent: &BTreeSet<Fingerprint>) -> Result<()> {
        self.write(|tx| {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO unsent_lines (verdict_id, fingerprint) VALUES (?1, ?2)",
            )?;
            for fp in unsent {
                insert.execute(params![verdict_id, fp])?;
            }
            Ok(())
        })
    }

    /// Those of `fingerprints` that a review saw in its change but could not send as written
    /// (a redacted secret, a withheld file), and that no approval covers.
    pub fn unsent_fingerprints(
        &self,
        fingerprints: impl IntoIterator<Item = Fingerprint>,
    ) -> Result<std::collections::HashSet<Fingerprint>> {
        self.subset_where(
            "SELECT EXISTS (SELECT 1 FROM unsent_lines WHERE fingerprint = ?1)
                AND NOT EXISTS (SELECT 1 FROM approved_lines WHERE fingerprint = ?1)",
            fingerprints,
        )
    }

    /// The lines an earlier verdict's requests carried (for a fix loop's re-review).
    pub fn seen_lines_of(&self, verdict_id: i64) -> Result<SentLines> {
        self.read(|c| {
            let read = |sql: &str| {
                c.prepare(sql)?
                    .query_map([verdict_id], |r| r.get(0))?
                    .collect::<rusqlite::Result<BTreeSet<Fingerprint>>>()
            };
            Ok(SentLines {
                lines: read("SELECT fingerprint FROM seen_lines WHERE verdict_id = ?1")?,
                exact: read("SELECT hash FROM seen_exact WHERE verdict_id = ?1")?,
            })
        })
    }

    /// Every verdict on a change, oldest first.
    pub fn verdicts_for(&self, change_id: &str) -> Result<Vec<VerdictRow>> {
        self.verdicts_where("change_id = ?1", change_id)
    }

    /// Verdicts whose target (branch or range) was `target`, oldest first.
    pub fn verdicts_for_target(&self, target: &str) -> Result<Vec<VerdictRow>> {
        self.verdicts_where("target = ?1", target)
    }

    /// The change ids that start with `prefix` (for `show hc1-abc…`).
    pub fn change_ids_like(&self, prefix: &str) -> Result<Vec<String>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT DISTINCT change_id FROM verdicts WHERE substr(change_id, 1, length(?1)) = ?1",
            )?;
            stmt.query_map([prefix], |r| r.get(0))?.collect()
        })
    }

    pub(super) fn verdicts_where(&self, condition: &str, value: &str) -> Result<Vec<VerdictRow>> {
        let sql = format!(
            "SELECT id, change_id, decision, model, summary, complete, base_commit, tip_commit, target, created_at,
                    request_id, recorded_by, via, client
               FROM verdicts WHERE {condition} ORDER BY id"
        );
        self.read(|c| {
            let mut stmt = c.prepare(&sql)?;
            stmt.query_map([value], |r| {
                Ok(VerdictRow {
                    id: r.get(0)?,
                    change_id: r.get(1)?,
                    decision: r.get(2)?,
                    model: r.get(3)?,
                    summary: r.get(4)?,
                    complete: r.get(5)?,
                    base_commit: r.get(6)?,
                    tip_commit: r.get(7)?,
                    target: r.get(8)?,
                    created_at: r.get(9)?,
                    request_id: r.get(10)?,
                    recorded_by: r.get(11)?,
                    via: r.get(12)?,
                    client: r.get(13)?,
                })
            })?
            .collect()
        })
    }

    pub fn findings_for(&self, verdict_id: i64) -> Result<Vec<FindingRow>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT source, path, line, severity, category, message, suggestion
                   FROM findings WHERE verdict_id = ?1 ORDER BY path, line, id",
            )?;
            stmt.query_map([verdict_id], |r| {
                Ok(FindingRow {
                    source: r.get(0)?,
                    path: r.get(1)?,
                    line: r.get(2)?,
                    severity: r.get(3)?,
                    category: r.get(4)?,
                    message: r.get(5)?,
                    suggestion: r.get(6)?,
                })
            })?
            .collect()
        })
    }

    pub fn record_usage(&mut self, u: &UsageRow) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO usage (at, phase, provider, model, input_tokens, output_tokens,
                                    cache_write_tokens, cache_read_tokens, usd, wall_ms, batch, request_id, ok)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                params![
                    if u.at == 0 { now_secs() } else { u.at },
                    u.phase,
                    u.provider,
                    u.model,
                    u.input_tokens,
                    u.output_tokens,
                    u.cache_write_tokens,
                    u.cache_read_tokens,
                    u.usd,
                    u.wall_ms,
                    u.batch,
                    u.request_id,
                    u.ok
                ],
            )?;
            Ok(())
        })
    }

    /// Ledger rows at or after `since` (unix seconds), oldest first.
    pub fn usage_since(&self, since: i64) -> Result<Vec<UsageRow>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT at, phase, provider, model, input_tokens, output_tokens, cache_write_tokens,
                        cache_read_tokens, usd, wall_ms, batch, request_id, ok
                   FROM usage WHERE at >= ?1 ORDER BY at, id",
            )?;
            stmt.query_map([since], |r| {
                Ok(UsageRow {
                    at: r.get(0)?,
                    phase: r.get(1)?,
                    provider: r.get(2)?,
                    model: r.get(3)?,
                    input_tokens: r.get(4)?,
                    output_tokens: r.get(5)?,
                    cache_write_tokens: r.get(6)?,
                    cache_read_tokens: r.get(7)?,
                    usd: r.get(8)?,
                    wall_ms: r.get(9)?,
                    batch: r.get(10)?,
                    request_id: r.get(11)?,
                    ok: r.get(12)?,
                })
            })?
            .collect()
        })
    }

    /// What the calls behind a verdict cost, from the ledger; `None` when none of them is there
    /// with a price (a verdict recorded without a call, or a model with no known price).
    pub fn cost_of_verdict(&self, verdict: &VerdictRow) -> Result<Option<f64>> {
        let ids: Vec<&str> = verdict
            .request_id
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .filter(|id| !id.is_empty())
            .collect();
        let mut total = None;
        for id in ids {
            let usd: Option<f64> = self.read(|c| {
                c.query_row(
                    "SELECT SUM(usd) FROM usage WHERE request_id = ?1",
                    [id],
                    |r| r.get(0),
                )
            })?;
            if let Some(usd) = usd {
                *total.get_or_insert(0.0) += usd;
            }
        }
        Ok(total)
    }

    /// Records what was sent: size and hash of the body, never the body.
    pub fn record_request(
        &mut self,
        provider: Provider,
        model: &str,
        bytes: usize,
        sha256: &str,
        request_id: Option<&str>,
        outcome: &str,
    ) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO requests (at, provider, model, bytes, sha256, request_id, outcome)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    now_secs(),
                    provider,
                    model,
                    bytes as i64,
                    sha256,
                    request_id,
                    outcome
                ],
            )?;
            Ok(())
        })
    }

    /// The spec a generation came from, for the generation whose result is `commit`.
    pub fn spec_for_commit(&self, commit: &str) -> Result<Option<String>> {
        self.read(|c| {
            c.query_row(
                "SELECT spec_path FROM generations WHERE result_commit = ?1 AND spec_path IS NOT NULL
                  ORDER BY created_at DESC LIMIT 1",
                [commit],
                |r| r.get(0),
            )
            .optional()
        })
    }
}

/// Inserts a verdict with its findings, the lines its requests carried and (for an approval)
/// its approved lines, in the caller's transaction.
pub(super) fn insert_verdict(
    tx: &rusqlite::Connection,
    v: &VerdictRecord,
) -> rusqlite::Result<i64> {
    tx.execute(
        "INSERT INTO verdicts (change_id, decision, model, request_id, raw_response, created_at,
                               complete, summary, base_commit, tip_commit, target, parts, via,
                               client)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        params![
            v.change_id,
            v.decision,
            v.model,
            v.request_id,
            v.raw_response,
            now_secs(),
            v.complete,
            v.summary,
            v.base_commit,
            v.tip_commit,
            v.target,
            v.parts,
            v.via,
            v.client
        ],
    )?;
    let id = tx.last_insert_rowid();
    let mut finding = tx.prepare(
        "INSERT INTO findings (verdict_id, source, path, line, severity, category, message, suggestion)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for f in &v.findings {
        finding.execute(params![
            id,
            f.source,
            f.path,
            f.line,
            f.severity,
            f.category,
            f.message,
            f.suggestion
        ])?;
    }
    let mut seen =
        tx.prepare("INSERT INTO seen_lines (verdict_id, fingerprint) VALUES (?1, ?2)")?;
    for fp in &v.seen.lines {
        seen.execute(params![id, fp])?;
    }
    let mut exact =
        tx.prepare("INSERT OR IGNORE INTO seen_exact (verdict_id, hash) VALUES (?1, ?2)")?;
    for hash in &v.seen.exact {
        exact.execute(params![id, hash])?;
    }
    if v.decision == Decision::Approve {
        // An approval covers what was sent exactly. Only a verdict recorded before exact
        // identities existed (an older record or stored batch plan, which carry none) approves
        // by fingerprint, as it did when it was made.
        let (sql, rows) = if v.seen.exact.is_empty() {
            (
                "INSERT OR IGNORE INTO approved_lines (fingerprint, verdict_id)
                 SELECT fingerprint, verdict_id FROM seen_lines WHERE verdict_id = ?1",
                "seen_lines",
            )
        } else {
            (
                "INSERT OR IGNORE INTO approved_exact (hash, verdict_id)
                 SELECT hash, verdict_id FROM seen_exact WHERE verdict_id = ?1",
                "seen_exact",
            )
        };
        tracing::debug!(
            verdict = id,
            from = rows,
            "recording what the approval covers"
        );
        tx.execute(sql, [id])?;
    }
    Ok(id)
}
