//! Generations (local output) and their line fingerprints, and the approvals that cover them.
//!
//! The gate asks two questions here on every protected update: which of these fingerprints are
//! local output, and which of those are approved. Both are indexed lookups; nothing here scans the
//! whole table on the hot path.

use std::collections::{HashMap, HashSet};

use rusqlite::{OptionalExtension, params};

use super::{Result, Store, now_secs};
use crate::change::Fingerprint;

/// A generation to record, with the fingerprints of its added lines.
#[derive(Clone, Debug)]
pub struct GenerationRecord {
    pub id: String,
    pub kind: String,
    pub model: Option<String>,
    pub spec_path: Option<String>,
    pub branch: Option<String>,
    pub base_commit: Option<String>,
    pub result_commit: String,
    pub change_id: String,
    /// (fingerprint, path bytes, 1-based line)
    pub lines: Vec<(Fingerprint, Vec<u8>, u32)>,
    /// The exact identity of every line the generation added or removed (`change::exact`),
    /// short and trivial lines included: what makes its change, not only its lines, gated.
    pub edits: Vec<Fingerprint>,
    /// Token fingerprints of its new text (`change::tokens`): how it is found after a formatter.
    pub tokens: Vec<Fingerprint>,
    /// The daemon job that made it, if one did.
    pub job_id: Option<i64>,
    /// (tokens in, tokens out, wall ms, params JSON) for generations of a local model.
    pub stats: Option<(i64, i64, i64, String)>,
    /// The check loop's last run, when a check ran.
    pub check: Option<CheckRecord>,
}

text_enum! {
    /// How a generation's check went.
    CheckState { Passed => "passed", Failed => "failed", NotRun => "not_run" }
}

/// The last run of a generation's check.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CheckRecord {
    pub command: String,
    pub passed: bool,
    /// `exit 0`, `exit 1`, `killed after 300 s`…
    pub status: String,
    /// Head and tail of its output.
    pub output: String,
    /// How many times it ran (once per answer checked).
    pub runs: u32,
}

impl CheckRecord {
    pub fn state(&self) -> CheckState {
        if self.passed {
            CheckState::Passed
        } else {
            CheckState::Failed
        }
    }

    /// One line for a person or a reviewer: "`pytest -q` passed (exit 0) after 2 runs".
    pub fn summary(&self) -> String {
        format!(
            "`{}` {} ({}) after {} run{}",
            self.command,
            self.state(),
            self.status,
            self.runs,
            crate::ui::plural(self.runs)
        )
    }
}

/// Which generation a fingerprint came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalMatch {
    pub generation_id: String,
    pub model: Option<String>,
    pub branch: Option<String>,
}

/// A generation with local output that no approval covers yet.
#[derive(Clone, Debug)]
pub struct PendingGeneration {
    pub id: String,
    pub model: Option<String>,
    pub branch: Option<String>,
    pub result_commit: String,
    pub created_at: i64,
    pub lines: i64,
    pub uncovered: i64,
    pub check: CheckState,
    /// Whose it is, when it was read from the records ref; `None` for this clone's own.
    pub recorded_by: Option<String>,
}

impl Store {
    /// Records a generation; `false` when a generation with this id was already recorded.
    pub fn record_generation(&mut self, g: &GenerationRecord) -> Result<bool> {
        // The table's kinds are the two made here; any other (another tool's notes, a newer
        // git-hybrid's records) is kept as an adoption with its kind beside it, never dropped.
        let (kind, source) = match g.kind.as_str() {
            "adopt" | "implement" => (g.kind.as_str(), None),
            other => ("adopt", Some(other)),
        };
        self.write(|tx| {
            let inserted = tx.execute(
                "INSERT OR IGNORE INTO generations
                     (id, kind, model, spec_path, branch, base_commit, result_commit, change_id, created_at,
                      job_id, tokens_in, tokens_out, wall_ms, params,
                      check_command, check_passed, check_status, check_output, check_runs, source)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,
                         ?15, ?16, ?17, ?18, ?19, ?20)",
                params![
                    g.id,
                    kind,
                    g.model,
                    g.spec_path,
                    g.branch,
                    g.base_commit,
                    g.result_commit,
                    g.change_id,
                    now_secs(),
                    g.job_id,
                    g.stats.as_ref().map(|s| s.0),
                    g.stats.as_ref().map(|s| s.1),
                    g.stats.as_ref().map(|s| s.2),
                    g.stats.as_ref().map(|s| s.3.clone()),
                    g.check.as_ref().map(|c| c.command.clone()),
                    g.check.as_ref().map(|c| c.passed),
                    g.check.as_ref().map(|c| c.status.clone()),
                    g.check.as_ref().map(|c| c.output.clone()),
                    g.check.as_ref().map(|c| c.runs),
                    source
                ],
            )?;
            if inserted == 0 {
                return Ok(false);
            }
            let mut stmt = tx.prepare_cached(
                "INSERT INTO generation_lines (generation_id, fingerprint, path, line)
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (fp, path, line) in &g.lines {
                stmt.execute(params![g.id, fp, path, line])?;
            }
            insert_edits(tx, g)?;
            Ok(true)
        })
    }

    /// Whether any generation of local output was ever recorded (with or without lines).
    pub fn has_generations(&self) -> Result<bool> {
        self.read(|c| {
            c.query_row("SELECT EXISTS (SELECT 1 FROM generations)", [], |r| {
                r.get(0)
            })
        })
    }

    /// Whether any local output was ever recorded: when none was, the gate has nothing to find.
    pub fn has_local_output(&self) -> Result<bool> {
        self.read(|c| {
            c.query_row(
                "SELECT EXISTS (SELECT 1 FROM generation_lines)
                     OR EXISTS (SELECT 1 FROM generation_edits)
                     OR EXISTS (SELECT 1 FROM generation_tokens)",
                [],
                |r| r.get(0),
            )
        })
    }

    /// For each of `edits` that a generation made, the generations that made it (newest first).
    pub fn local_edits(
        &self,
        edits: &HashSet<Fingerprint>,
    ) -> Result<HashMap<Fingerprint, Vec<LocalMatch>>> {
        self.generations_holding(("generation_edits", "edit"), edits)
    }

    /// For each of `hashes` (kept token runs) that a generation's output holds, the generations
    /// that hold it (newest first).
    pub fn local_token_runs(
        &self,
        hashes: &HashSet<Fingerprint>,
    ) -> Result<HashMap<Fingerprint, Vec<LocalMatch>>> {
        self.generations_holding(("generation_tokens", "hash"), hashes)
    }

    /// Whether any generation recorded token fingerprints: when none did, a candidate's text is
    /// not tokenised at all (every commit's hook pays for it otherwise).
    pub fn has_token_output(&self) -> Result<bool> {
        self.read(|c| {
            c.query_row("SELECT EXISTS (SELECT 1 FROM generation_tokens)", [], |r| {
                r.get(0)
            })
        })
    }

    /// For each key that `(table, column)` (a generation_id-keyed table) holds, the generations
    /// holding it (newest first).
    fn generations_holding(
        &self,
        index: (&'static str, &'static str),
        keys: &HashSet<Fingerprint>,
    ) -> Result<HashMap<Fingerprint, Vec<LocalMatch>>> {
        let (table, column) = index;
        let sql = format!(
            "SELECT g.id, g.model, g.branch
               FROM {table} k JOIN generations g ON g.id = k.generation_id
              WHERE k.{column} = ?1
              ORDER BY g.created_at DESC, g.id"
        );
        self.generations_by(index, &sql, keys)
    }

    /// How many lines each of the generations `ids` recorded as its own: its edits, or for a
    /// record from before edits existed its fingerprinted lines. The gate weighs what share of a
    /// generation a change brings by it.
    pub fn generation_sizes<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> Result<HashMap<String, usize>> {
        let ids: Vec<&str> = ids.into_iter().collect();
        self.read(|c| {
            let mut edits =
                c.prepare_cached("SELECT COUNT(*) FROM generation_edits WHERE generation_id = ?1")?;
            let mut lines =
                c.prepare_cached("SELECT COUNT(*) FROM generation_lines WHERE generation_id = ?1")?;
            let mut out = HashMap::new();
            for id in &ids {
                let e: i64 = edits.query_row([id], |r| r.get(0))?;
                let l: i64 = lines.query_row([id], |r| r.get(0))?;
                out.insert(
                    id.to_string(),
                    usize::try_from(e.max(l)).unwrap_or(usize::MAX),
                );
            }
            Ok(out)
        })
    }

    /// The subset of `hashes` (exact identities of texts and edits) that an approval covers:
    /// some approved request carried them exactly.
    pub fn approved_exact(
        &self,
        hashes: impl IntoIterator<Item = Fingerprint>,
    ) -> Result<HashSet<Fingerprint>> {
        self.approved_in(("approved_exact", "hash"), hashes)
    }

    /// `present` in an approvals table, leaving out the approvals of session reviews where they
    /// do not count. The filtered query runs only when the store holds such a verdict at all.
    fn approved_in(
        &self,
        (table, column): (&'static str, &'static str),
        keys: impl IntoIterator<Item = Fingerprint>,
    ) -> Result<HashSet<Fingerprint>> {
        let found = self.present((table, column), keys)?;
        if found.is_empty() || self.count_session.get() || !self.has_session_verdicts()? {
            return Ok(found);
        }
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM {table} a JOIN verdicts v ON v.id = a.verdict_id
                             WHERE a.{column} = ?1 AND v.via = 'api')"
        );
        self.subset_where(&sql, found)
    }

    /// Whether any verdict here was made in a session (through MCP).
    fn has_session_verdicts(&self) -> Result<bool> {
        self.read(|c| {
            c.query_row(
                "SELECT EXISTS (SELECT 1 FROM verdicts WHERE via <> 'api')",
                [],
                |r| r.get(0),
            )
        })
    }

    /// For each fingerprint that is local output, the generations it came from (newest first).
    pub fn local_matches(
        &self,
        fingerprints: &HashSet<Fingerprint>,
    ) -> Result<HashMap<Fingerprint, Vec<LocalMatch>>> {
        self.generations_by(
            ("generation_lines", "fingerprint"),
            "SELECT DISTINCT g.id, g.model, g.branch
               FROM generation_lines l JOIN generations g ON g.id = l.generation_id
              WHERE l.fingerprint = ?1
              ORDER BY g.created_at DESC, g.id",
            fingerprints,
        )
    }

    /// For each key that `sql` (one parameter) finds generations for, those generations. Keys
    /// are first narrowed to those in `index` (most are not local output at all), in a few
    /// queries instead of one per key: this runs on every protected commit.
    fn generations_by(
        &self,
        index: (&'static str, &'static str),
        sql: &str,
        keys: &HashSet<Fingerprint>,
    ) -> Result<HashMap<Fingerprint, Vec<LocalMatch>>> {
        let found = self.present(index, keys.iter().copied())?;
        self.read(|c| {
            let mut stmt = c.prepare_cached(sql)?;
            let mut out = HashMap::new();
            for key in &found {
                let found = stmt
                    .query_map([key], |r| {
                        Ok(LocalMatch {
                            generation_id: r.get(0)?,
                            model: r.get(1)?,
                            branch: r.get(2)?,
                        })
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                if !found.is_empty() {
                    out.insert(*key, found);
                }
            }
            Ok(out)
        })
    }

    /// Which of `keys` occur in `column` of `table` (names written in this module, never
    /// input; the column leads an index), asked in chunks rather than key by key.
    pub(super) fn present(
        &self,
        (table, column): (&'static str, &'static str),
        keys: impl IntoIterator<Item = Fingerprint>,
    ) -> Result<HashSet<Fingerprint>> {
        const CHUNK: usize = 400;
        let keys: Vec<Fingerprint> = keys
            .into_iter()
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        self.read(|c| {
            let mut out = HashSet::new();
            for chunk in keys.chunks(CHUNK) {
                let marks = vec!["?"; chunk.len()].join(",");
                let sql =
                    format!("SELECT DISTINCT {column} FROM {table} WHERE {column} IN ({marks})");
                // Prepared each time: one statement per chunk costs less than one query per key.
                let mut stmt = c.prepare(&sql)?;
                let rows = stmt.query_map(rusqlite::params_from_iter(chunk), |r| r.get(0))?;
                for row in rows {
                    out.insert(row?);
                }
            }
            Ok(out)
        })
    }

    /// The subset of `keys` for which `sql` (one parameter, one boolean column) says yes.
    pub(super) fn subset_where(
        &self,
        sql: &str,
        keys: impl IntoIterator<Item = Fingerprint>,
    ) -> Result<HashSet<Fingerprint>> {
        let keys: Vec<Fingerprint> = keys.into_iter().collect();
        self.read(|c| {
            let mut stmt = c.prepare_cached(sql)?;
            let mut out = HashSet::new();
            for key in &keys {
                if stmt.query_row([key], |r| r.get::<_, bool>(0))? {
                    out.insert(*key);
                }
            }
            Ok(out)
        })
    }

    /// The subset of `fingerprints` that an approval recorded before exact identities covers.
    pub fn approved_fingerprints(
        &self,
        fingerprints: impl IntoIterator<Item = Fingerprint>,
    ) -> Result<HashSet<Fingerprint>> {
        self.approved_in(("approved_lines", "fingerprint"), fingerprints)
    }

    /// Whether a verdict approved exactly this change.
    pub fn is_change_approved(&self, change_id: &str) -> Result<bool> {
        self.read(|c| {
            c.query_row(
                "SELECT EXISTS (SELECT 1 FROM verdicts
                                 WHERE change_id = ?1 AND decision = 'approve' AND complete = 1
                                   AND (via = 'api' OR ?2))",
                rusqlite::params![change_id, self.count_session.get()],
                |r| r.get(0),
            )
        })
    }

    /// The check of the generation that made `commit`, when a check ran on it.
    pub fn check_of_commit(&self, commit: &str) -> Result<Option<CheckRecord>> {
        self.read(|c| {
            c.query_row(
                "SELECT check_command, check_passed, check_status, check_output, check_runs
                   FROM generations
                  WHERE result_commit = ?1 AND check_command IS NOT NULL
                  ORDER BY created_at DESC LIMIT 1",
                [commit],
                |r| {
                    Ok(CheckRecord {
                        command: r.get(0)?,
                        passed: r.get(1)?,
                        status: r.get(2)?,
                        output: r.get(3)?,
                        runs: r.get(4)?,
                    })
                },
            )
            .optional()
        })
    }

    pub fn generation_exists(&self, id: &str) -> Result<bool> {
        self.read(|c| {
            c.query_row("SELECT 1 FROM generations WHERE id = ?1", [id], |_| Ok(()))
                .optional()
                .map(|r| r.is_some())
        })
    }

    /// Generations with at least one line no approval covers, newest first.
    pub fn pending_generations(&self) -> Result<Vec<PendingGeneration>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                // A generation that recorded its edits is judged by them (exactly); one recorded
                // before edits existed, by its lines' fingerprints.
                "WITH counts AS (
                     SELECT g.id AS id,
                            (SELECT COUNT(*) FROM generation_edits e WHERE e.generation_id = g.id) AS edits,
                            (SELECT COUNT(*) FROM generation_edits e WHERE e.generation_id = g.id
                                AND NOT EXISTS (SELECT 1 FROM approved_exact a WHERE a.hash = e.edit)) AS open_edits,
                            (SELECT COUNT(*) FROM generation_lines l WHERE l.generation_id = g.id) AS lines,
                            (SELECT COUNT(*) FROM generation_lines l WHERE l.generation_id = g.id
                                AND NOT EXISTS (SELECT 1 FROM approved_lines a WHERE a.fingerprint = l.fingerprint)) AS open_lines
                       FROM generations g)
                 SELECT g.id, g.model, g.branch, g.result_commit, g.created_at,
                        CASE WHEN n.edits > 0 THEN n.edits ELSE n.lines END,
                        CASE WHEN g.check_command IS NULL THEN 'not_run'
                             WHEN g.check_passed THEN 'passed' ELSE 'failed' END,
                        CASE WHEN n.edits > 0 THEN n.open_edits ELSE n.open_lines END,
                        g.recorded_by
                   FROM generations g JOIN counts n ON n.id = g.id
                  WHERE CASE WHEN n.edits > 0 THEN n.open_edits ELSE n.open_lines END > 0
                  ORDER BY g.created_at DESC, g.id",
            )?;
            stmt.query_map([], |r| {
                Ok(PendingGeneration {
                    id: r.get(0)?,
                    model: r.get(1)?,
                    branch: r.get(2)?,
                    result_commit: r.get(3)?,
                    created_at: r.get(4)?,
                    lines: r.get(5)?,
                    check: r.get(6)?,
                    uncovered: r.get(7)?,
                    recorded_by: r.get(8)?,
                })
            })?
            .collect()
        })
    }
}

/// Adds a generation's edits (a second record of one generation adds to them, never replaces).
/// Adds a generation's edits and token fingerprints (a second record of one generation adds
/// to what the first gave).
pub(super) fn insert_edits(
    tx: &rusqlite::Connection,
    g: &GenerationRecord,
) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT OR IGNORE INTO generation_edits (generation_id, edit) VALUES (?1, ?2)",
    )?;
    for edit in &g.edits {
        stmt.execute(params![g.id, edit])?;
    }
    let mut stmt = tx.prepare_cached(
        "INSERT OR IGNORE INTO generation_tokens (generation_id, hash) VALUES (?1, ?2)",
    )?;
    for hash in &g.tokens {
        stmt.execute(params![g.id, hash])?;
    }
    Ok(())
}
