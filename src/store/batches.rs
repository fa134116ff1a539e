//! Review batches in flight: what was submitted through the Message Batches API, under which
//! custom ids, and the plan each review needs to conclude once the results are in.
//!
//! A batch row is written only after the API accepted the batch, together with its reviews, in
//! one transaction. Each review is marked concluded as soon as its verdict is written, and a
//! collect that was interrupted skips the reviews already concluded, so no verdict is written
//! twice.

use rusqlite::{OptionalExtension, params};

use super::{Result, Store, now_secs};

/// A batch not yet collected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenBatch {
    pub id: String,
    pub model: String,
    pub requests: i64,
    pub submitted_at: i64,
    pub expires_at: Option<String>,
    pub reviews: Vec<BatchedReview>,
}

/// One review inside a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchedReview {
    pub seq: i64,
    pub change_id: String,
    pub target: String,
    /// JSON, as `cloud::review::Plan` writes it.
    pub plan: String,
    pub concluded: bool,
}

impl Store {
    /// Records a batch the API accepted, with its reviews.
    pub fn record_batch(&mut self, batch: &OpenBatch) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO review_batches (id, model, state, requests, submitted_at, expires_at)
                 VALUES (?1, ?2, 'submitted', ?3, ?4, ?5)",
                params![
                    batch.id,
                    batch.model,
                    batch.requests,
                    if batch.submitted_at == 0 {
                        now_secs()
                    } else {
                        batch.submitted_at
                    },
                    batch.expires_at
                ],
            )?;
            for r in &batch.reviews {
                tx.execute(
                    "INSERT INTO batched_reviews (batch_id, seq, change_id, target, plan)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![batch.id, r.seq, r.change_id, r.target, r.plan],
                )?;
            }
            Ok(())
        })
    }

    /// Batches submitted and not yet collected, oldest first.
    pub fn open_batches(&self) -> Result<Vec<OpenBatch>> {
        let mut batches: Vec<OpenBatch> = self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT id, model, requests, submitted_at, expires_at FROM review_batches
                  WHERE state = 'submitted' ORDER BY submitted_at, id",
            )?;
            stmt.query_map([], |r| {
                Ok(OpenBatch {
                    id: r.get(0)?,
                    model: r.get(1)?,
                    requests: r.get(2)?,
                    submitted_at: r.get(3)?,
                    expires_at: r.get(4)?,
                    reviews: Vec::new(),
                })
            })?
            .collect()
        })?;
        for b in &mut batches {
            b.reviews = self.read(|c| {
                let mut stmt = c.prepare(
                    "SELECT seq, change_id, target, plan, concluded FROM batched_reviews
                      WHERE batch_id = ?1 ORDER BY seq",
                )?;
                stmt.query_map([&b.id], |r| {
                    Ok(BatchedReview {
                        seq: r.get(0)?,
                        change_id: r.get(1)?,
                        target: r.get(2)?,
                        plan: r.get(3)?,
                        concluded: r.get(4)?,
                    })
                })?
                .collect()
            })?;
        }
        Ok(batches)
    }

    /// Marks one review of a batch concluded, with the verdict it produced (if any).
    pub fn conclude_batched_review(
        &mut self,
        id: &str,
        seq: i64,
        verdict: Option<i64>,
    ) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE batched_reviews SET concluded = 1, verdict_id = ?3 WHERE batch_id = ?1 AND seq = ?2",
                params![id, seq, verdict],
            )?;
            Ok(())
        })
    }

    /// Marks a batch collected: all its reviews are concluded.
    pub fn close_batch(&mut self, id: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE review_batches SET state = 'collected', collected_at = ?2 WHERE id = ?1",
                params![id, now_secs()],
            )?;
            Ok(())
        })
    }

    /// The open batch a change is waiting in, if any.
    pub fn open_batch_of(&self, change_id: &str) -> Result<Option<String>> {
        self.read(|c| {
            c.query_row(
                "SELECT b.id FROM batched_reviews r JOIN review_batches b ON b.id = r.batch_id
                  WHERE r.change_id = ?1 AND b.state = 'submitted' AND r.concluded = 0
                  ORDER BY b.submitted_at DESC LIMIT 1",
                [change_id],
                |r| r.get(0),
            )
            .optional()
        })
    }

    /// Marks a batch whose results can no longer be had (gone from the API).
    pub fn lose_batch(&mut self, id: &str, why: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE review_batches SET state = 'lost', collected_at = ?2, note = ?3 WHERE id = ?1",
                params![id, now_secs(), why],
            )?;
            Ok(())
        })
    }
}
