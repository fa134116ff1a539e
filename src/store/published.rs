//! Which rows were written to the records ref, and rows read back from it: what lets the store
//! be rebuilt from the repository, and a record never be published or recorded twice.

use rusqlite::{OptionalExtension, params};

use super::{FindingRow, GenerationRecord, Result, SentLines, Store, VerdictRecord, VerdictRow};

/// A verdict as the store keeps it, for publishing.
#[derive(Clone, Debug)]
pub struct StoredVerdict {
    pub row: VerdictRow,
    pub parts: u32,
    pub findings: Vec<FindingRow>,
    pub seen: SentLines,
}

impl Store {
    /// Generations not yet written to the records ref, oldest first, with when each was
    /// recorded. (The daemon job, stats and check stay in this store.)
    pub fn unpublished_generations(&self) -> Result<Vec<(GenerationRecord, i64)>> {
        self.generation_records(true)
    }

    /// Every generation (or only those not yet written to the records ref), oldest first, with
    /// its lines and when it was recorded.
    pub fn generation_records(
        &self,
        unpublished_only: bool,
    ) -> Result<Vec<(GenerationRecord, i64)>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT id, COALESCE(source, kind), model, spec_path, branch, base_commit, result_commit,
                        change_id, created_at, tokens_in, tokens_out, wall_ms, params
                   FROM generations WHERE published = 0 OR NOT ?1 ORDER BY created_at, id",
            )?;
            let mut found: Vec<(GenerationRecord, i64)> = stmt
                .query_map([unpublished_only], |r| {
                    Ok((
                        GenerationRecord {
                            id: r.get(0)?,
                            kind: r.get(1)?,
                            model: r.get(2)?,
                            spec_path: r.get(3)?,
                            branch: r.get(4)?,
                            base_commit: r.get(5)?,
                            result_commit: r.get(6)?,
                            change_id: r.get(7)?,
                            lines: Vec::new(),
                            edits: Vec::new(),
                            tokens: Vec::new(),
                            job_id: None,
                            stats: match r.get::<_, Option<String>>(12)? {
                                Some(params) => Some((
                                    r.get::<_, Option<i64>>(9)?.unwrap_or(0),
                                    r.get::<_, Option<i64>>(10)?.unwrap_or(0),
                                    r.get::<_, Option<i64>>(11)?.unwrap_or(0),
                                    params,
                                )),
                                None => None,
                            },
                            check: None,
                        },
                        r.get(8)?,
                    ))
                })?
                .collect::<rusqlite::Result<_>>()?;
            let mut lines = c.prepare(
                "SELECT fingerprint, path, line FROM generation_lines WHERE generation_id = ?1
                  ORDER BY path, line",
            )?;
            let mut edits = c.prepare(
                "SELECT edit FROM generation_edits WHERE generation_id = ?1 ORDER BY edit",
            )?;
            let mut tokens = c.prepare(
                "SELECT hash FROM generation_tokens WHERE generation_id = ?1 ORDER BY hash",
            )?;
            for (g, _) in &mut found {
                g.lines = lines
                    .query_map([&g.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect::<rusqlite::Result<_>>()?;
                g.edits = edits
                    .query_map([&g.id], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                g.tokens = tokens
                    .query_map([&g.id], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
            }
            Ok(found)
        })
    }

    /// Verdicts not yet written to the records ref, oldest first.
    pub fn unpublished_verdicts(&self) -> Result<Vec<StoredVerdict>> {
        let ids: Vec<(i64, u32)> = self.read(|c| {
            let mut stmt =
                c.prepare("SELECT id, parts FROM verdicts WHERE published = 0 ORDER BY id")?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect()
        })?;
        let mut out = Vec::new();
        for (id, parts) in ids {
            let Some(row) = self.verdicts_where("id = ?1", &id.to_string())?.pop() else {
                continue;
            };
            out.push(StoredVerdict {
                row,
                parts,
                findings: self.findings_for(id)?,
                seen: self.seen_lines_of(id)?,
            });
        }
        Ok(out)
    }

    pub fn mark_generation_published(&mut self, id: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute("UPDATE generations SET published = 1 WHERE id = ?1", [id])?;
            Ok(())
        })
    }

    pub fn mark_verdict_published(&mut self, id: i64, key: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE verdicts SET published = 1, record_key = ?2 WHERE id = ?1",
                params![id, key],
            )?;
            Ok(())
        })
    }

    /// Whether a verdict with this record key is in the store already.
    pub fn has_verdict_record(&self, key: &str) -> Result<bool> {
        self.exists("SELECT 1 FROM verdicts WHERE record_key = ?1", key)
    }

    /// Records a generation read from the records ref (already published); `false` when the
    /// store had it — its lines then join the generation's (a second record of one generation
    /// adds to it, never replaces it).
    pub fn import_generation(
        &mut self,
        g: &GenerationRecord,
        created_at: i64,
        recorded_by: &str,
    ) -> Result<bool> {
        if !self.record_generation(g)? {
            self.write(|tx| {
                let mut add = tx.prepare_cached(
                    "INSERT INTO generation_lines (generation_id, fingerprint, path, line)
                     SELECT ?1, ?2, ?3, ?4 WHERE NOT EXISTS
                       (SELECT 1 FROM generation_lines WHERE generation_id = ?1 AND fingerprint = ?2)",
                )?;
                for (fp, path, line) in &g.lines {
                    add.execute(params![g.id, fp, path, line])?;
                }
                super::generations::insert_edits(tx, g)?;
                Ok(())
            })?;
            return Ok(false);
        }
        self.write(|tx| {
            tx.execute(
                "UPDATE generations SET published = 1, created_at = ?2, recorded_by = ?3 WHERE id = ?1",
                params![g.id, created_at, recorded_by],
            )?;
            Ok(true)
        })
    }

    /// Records a verdict read from the records ref under its key (already published); `false`
    /// when the store had it.
    pub fn import_verdict(
        &mut self,
        v: &VerdictRecord,
        key: &str,
        created_at: i64,
        recorded_by: &str,
    ) -> Result<bool> {
        // One transaction from the look to the write: two hooks importing the same record at
        // once (concurrent pushes to a server) must not both insert it.
        self.write(|tx| {
            let known = tx
                .query_row(
                    "SELECT 1 FROM verdicts WHERE record_key = ?1",
                    [key],
                    |_| Ok(()),
                )
                .optional()?
                .is_some();
            if known {
                return Ok(false);
            }
            let id = super::reviews::insert_verdict(tx, v)?;
            tx.execute(
                "UPDATE verdicts SET published = 1, record_key = ?2, created_at = ?3, recorded_by = ?4
                  WHERE id = ?1",
                params![id, key, created_at, recorded_by],
            )?;
            Ok(true)
        })
    }

    /// Whether the record file at `path` (a generation named by its content) was read here.
    pub fn has_imported_record(&self, path: &str) -> Result<bool> {
        self.exists("SELECT 1 FROM imported_records WHERE path = ?1", path)
    }

    pub fn mark_imported_record(&mut self, path: &str) -> Result<()> {
        self.insert_key(
            "INSERT OR IGNORE INTO imported_records (path) VALUES (?1)",
            path,
        )
    }

    /// Whether the records commit `tip` was read whole into this store.
    pub fn has_imported_tip(&self, tip: &str) -> Result<bool> {
        self.exists("SELECT 1 FROM imported_tips WHERE tip = ?1", tip)
    }

    /// Notes that the records commit `tip`, the tip of `refname`, was read whole.
    pub fn mark_imported_tip(&mut self, tip: &str, refname: &str) -> Result<()> {
        // Milliseconds: two tips of one ref are often read within the same second.
        let at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        self.write(|tx| {
            tx.execute(
                "INSERT OR REPLACE INTO imported_tips (tip, refname, read_at) VALUES (?1, ?2, ?3)",
                params![tip, refname, at],
            )
            .map(|_| ())
        })
    }

    /// The tip of `refname` this store read last, if it read one.
    pub fn last_imported_tip(&self, refname: &str) -> Result<Option<String>> {
        self.read(|c| {
            c.query_row(
                "SELECT tip FROM imported_tips WHERE refname = ?1
                  ORDER BY read_at DESC LIMIT 1",
                [refname],
                |r| r.get(0),
            )
            .optional()
        })
    }

    /// Whether `sql` (one `?1`) finds a row for `key`.
    fn exists(&self, sql: &str, key: &str) -> Result<bool> {
        self.read(|c| {
            c.query_row(sql, [key], |_| Ok(()))
                .optional()
                .map(|r| r.is_some())
        })
    }

    fn insert_key(&mut self, sql: &str, key: &str) -> Result<()> {
        self.write(|tx| tx.execute(sql, [key]).map(|_| ()))
    }
}
