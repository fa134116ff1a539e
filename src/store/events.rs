//! The gate's decision log: one row per decision on a protected ref, allowed or blocked.

use rusqlite::params;

use super::{Result, Store, now_millis};

/// A decision to log.
#[derive(Clone, Debug)]
pub struct Event<'a> {
    pub hook: &'a str,
    pub refname: Option<&'a [u8]>,
    pub old: Option<String>,
    pub new: Option<String>,
    pub change_id: Option<String>,
    pub allowed: bool,
    pub uncovered: usize,
    pub detail: &'a str,
}

/// A logged decision, as read back.
#[derive(Clone, Debug)]
pub struct EventRow {
    pub at: i64,
    pub hook: String,
    pub refname: Option<Vec<u8>>,
    pub decision: String,
    pub uncovered: i64,
}

impl Store {
    pub fn record_event(&mut self, e: &Event<'_>) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO events (at, hook, refname, old, new, change_id, decision, uncovered, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    now_millis(),
                    e.hook,
                    e.refname,
                    e.old,
                    e.new,
                    e.change_id,
                    if e.allowed { "allow" } else { "block" },
                    e.uncovered as i64,
                    e.detail
                ],
            )?;
            Ok(())
        })
    }

    /// The most recent decisions, newest first.
    pub fn recent_events(&self, limit: usize) -> Result<Vec<EventRow>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT at, hook, refname, decision, uncovered FROM events ORDER BY id DESC LIMIT ?1",
            )?;
            stmt.query_map([limit as i64], |r| {
                Ok(EventRow {
                    at: r.get(0)?,
                    hook: r.get(1)?,
                    refname: r.get(2)?,
                    decision: r.get(3)?,
                    uncovered: r.get(4)?,
                })
            })?
            .collect()
        })
    }
}
