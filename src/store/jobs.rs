//! The daemon's job queue, kept in the repository's store so that a killed daemon loses nothing.
//!
//! Claiming a job is one conditional UPDATE: a job runs only when its state moved from `queued`
//! (or from `running` under a daemon that is gone) to `running` under this process, so a job is
//! resumed exactly once however many times the daemon restarts.

use rusqlite::{OptionalExtension, params};

use super::{Result, Store, now_secs};

text_enum! {
    /// Where a job is: waiting, claimed by a daemon (which may since have died), or finished.
    JobState { Queued => "queued", Running => "running", Done => "done", Failed => "failed" }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub state: JobState,
    pub attempts: i64,
    pub owner_pid: Option<i64>,
    pub result: Option<String>,
    pub error: Option<String>,
}

impl Store {
    pub fn enqueue_job(&mut self, kind: &str, payload: &str) -> Result<i64> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO jobs (kind, payload, state, created_at, updated_at) VALUES (?1, ?2, 'queued', ?3, ?3)",
                params![kind, payload, now_secs()],
            )?;
            Ok(tx.last_insert_rowid())
        })
    }

    pub fn job(&self, id: i64) -> Result<Option<Job>> {
        self.read(|c| {
            c.query_row(
                "SELECT id, kind, payload, state, attempts, owner_pid, result, error FROM jobs WHERE id = ?1",
                [id],
                |r| {
                    Ok(Job {
                        id: r.get(0)?,
                        kind: r.get(1)?,
                        payload: r.get(2)?,
                        state: r.get(3)?,
                        attempts: r.get(4)?,
                        owner_pid: r.get(5)?,
                        result: r.get(6)?,
                        error: r.get(7)?,
                    })
                },
            )
            .optional()
        })
    }

    /// Jobs that still need a daemon: queued, or running under a process that is gone.
    pub fn unfinished_jobs(&self, alive: impl Fn(i64) -> bool) -> Result<Vec<i64>> {
        let rows: Vec<(i64, JobState, Option<i64>)> = self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT id, state, owner_pid FROM jobs WHERE state IN ('queued', 'running') ORDER BY id",
            )?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect()
        })?;
        Ok(rows
            .into_iter()
            .filter(|(_, state, owner)| *state == JobState::Queued || !owner.is_some_and(&alive))
            .map(|(id, _, _)| id)
            .collect())
    }

    /// Takes a job for `pid`; `false` when another process has it or it is finished.
    pub fn claim_job(&mut self, id: i64, pid: i64, alive: impl Fn(i64) -> bool) -> Result<bool> {
        let job = self.job(id)?;
        let Some(job) = job else { return Ok(false) };
        let free = job.state == JobState::Queued
            || (job.state == JobState::Running
                && !job.owner_pid.is_some_and(&alive)
                && job.owner_pid != Some(pid));
        if !free {
            return Ok(false);
        }
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE jobs SET state = 'running', owner_pid = ?2, attempts = attempts + 1, updated_at = ?3
                  WHERE id = ?1 AND state = ?4 AND owner_pid IS ?5",
                params![id, pid, now_secs(), job.state, job.owner_pid],
            )?;
            Ok(n == 1)
        })
    }

    pub fn finish_job(&mut self, id: i64, result: std::result::Result<&str, &str>) -> Result<()> {
        self.write(|tx| {
            let (state, ok, err) = match result {
                Ok(r) => (JobState::Done, Some(r), None),
                Err(e) => (JobState::Failed, None, Some(e)),
            };
            tx.execute(
                "UPDATE jobs SET state = ?2, result = ?3, error = ?4, updated_at = ?5 WHERE id = ?1",
                params![id, state, ok, err, now_secs()],
            )?;
            Ok(())
        })
    }

    /// Generations an earlier attempt of `job` recorded: (generation id, result commit, branch).
    pub fn job_generations(&self, job: i64) -> Result<Vec<(String, String, Option<String>)>> {
        self.read(|c| {
            let mut stmt =
                c.prepare("SELECT id, result_commit, branch FROM generations WHERE job_id = ?1")?;
            stmt.query_map([job], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect()
        })
    }

    /// Forgets a generation whose commit never reached a branch (an interrupted attempt).
    pub fn forget_generation(&mut self, id: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute("DELETE FROM generations WHERE id = ?1", [id])?;
            Ok(())
        })
    }
}
