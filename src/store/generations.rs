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
    pub kind: &'static str,
    pub model: Option<String>,
    pub spec_path: Option<String>,
    pub branch: Option<String>,
    pub base_commit: Option<String>,
    pub result_commit: String,
    pub change_id: String,
    /// (fingerprint, path bytes, 1-based line)
    pub lines: Vec<(Fingerprint, Vec<u8>, u32)>,
    /// The daemon job that made it, if one did.
    pub job_id: Option<i64>,
    /// (tokens in, tokens out, wall ms, params JSON) for generations of a local model.
    pub stats: Option<(i64, i64, i64, String)>,
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
}

impl Store {
    /// Records a generation; `false` when a generation with this id was already recorded.
    pub fn record_generation(&mut self, g: &GenerationRecord) -> Result<bool> {
        self.write(|tx| {
            let inserted = tx.execute(
                "INSERT OR IGNORE INTO generations
                     (id, kind, model, spec_path, branch, base_commit, result_commit, change_id, created_at,
                      job_id, tokens_in, tokens_out, wall_ms, params)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                params![
                    g.id,
                    g.kind,
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
                    g.stats.as_ref().map(|s| s.3.clone())
                ],
            )?;
            if inserted == 0 {
                return Ok(false);
            }
            let mut stmt = tx.prepare(
                "INSERT INTO generation_lines (generation_id, fingerprint, path, line)
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (fp, path, line) in &g.lines {
                stmt.execute(params![g.id, fp, path, line])?;
            }
            Ok(true)
        })
    }

    /// Whether any local output was ever recorded: when none was, the gate has nothing to find.
    /// Whether any generation of local output was ever recorded (with or without lines).
    pub fn has_generations(&self) -> Result<bool> {
        self.read(|c| {
            c.query_row("SELECT EXISTS (SELECT 1 FROM generations)", [], |r| {
                r.get(0)
            })
        })
    }

    pub fn has_local_output(&self) -> Result<bool> {
        self.read(|c| {
            c.query_row("SELECT EXISTS (SELECT 1 FROM generation_lines)", [], |r| {
                r.get(0)
            })
        })
    }

    /// For each fingerprint that is local output, the generations it came from (newest first).
    pub fn local_matches(
        &self,
        fingerprints: &HashSet<Fingerprint>,
    ) -> Result<HashMap<Fingerprint, Vec<LocalMatch>>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT DISTINCT g.id, g.model, g.branch
                   FROM generation_lines l JOIN generations g ON g.id = l.generation_id
                  WHERE l.fingerprint = ?1
                  ORDER BY g.created_at DESC, g.id",
            )?;
            let mut out = HashMap::new();
            for fp in fingerprints {
                let found = stmt
                    .query_map([fp], |r| {
                        Ok(LocalMatch {
                            generation_id: r.get(0)?,
                            model: r.get(1)?,
                            branch: r.get(2)?,
                        })
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                if !found.is_empty() {
                    out.insert(*fp, found);
                }
            }
            Ok(out)
        })
    }

    /// The subset of `fingerprints` that an approved verdict covers.
    pub fn approved_fingerprints(
        &self,
        fingerprints: impl IntoIterator<Item = Fingerprint>,
    ) -> Result<HashSet<Fingerprint>> {
        let fingerprints: Vec<Fingerprint> = fingerprints.into_iter().collect();
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM approved_lines WHERE fingerprint = ?1)",
            )?;
            let mut out = HashSet::new();
            for fp in &fingerprints {
                if stmt.query_row([fp], |r| r.get::<_, bool>(0))? {
                    out.insert(*fp);
                }
            }
            Ok(out)
        })
    }

    /// Whether a verdict approved exactly this change.
    pub fn is_change_approved(&self, change_id: &str) -> Result<bool> {
        self.read(|c| {
            c.query_row(
                "SELECT EXISTS (SELECT 1 FROM verdicts
                                 WHERE change_id = ?1 AND decision = 'approve' AND complete = 1)",
                [change_id],
                |r| r.get(0),
            )
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
                "SELECT g.id, g.model, g.branch, g.result_commit, g.created_at,
                        COUNT(l.fingerprint),
                        SUM(NOT EXISTS (SELECT 1 FROM approved_lines a WHERE a.fingerprint = l.fingerprint))
                   FROM generations g JOIN generation_lines l ON l.generation_id = g.id
                  GROUP BY g.id
                 HAVING SUM(NOT EXISTS (SELECT 1 FROM approved_lines a WHERE a.fingerprint = l.fingerprint)) > 0
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
                    uncovered: r.get(6)?,
                })
            })?
            .collect()
        })
    }
}
