//! Forward-only schema migrations, embedded from `migrations/NNNN_verb_noun.sql`.
//!
//! The schema version is SQLite's `user_version`. Migrating happens inside one `BEGIN IMMEDIATE`
//! transaction that re-reads the version after taking the write lock, so when several hooks open
//! a fresh store at once exactly one of them migrates and the others find the work done. A
//! migration is never edited once released and never run backwards.

use rusqlite::params;

use super::{Error, Result, Store, now_secs};

/// Every migration in order; the position in this list is the version it brings the store to.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_create_provenance",
        include_str!("../../migrations/0001_create_provenance.sql"),
    ),
    (
        "0002_create_review_ledger",
        include_str!("../../migrations/0002_create_review_ledger.sql"),
    ),
    (
        "0003_create_jobs",
        include_str!("../../migrations/0003_create_jobs.sql"),
    ),
    (
        "0004_create_review_batches",
        include_str!("../../migrations/0004_create_review_batches.sql"),
    ),
    (
        "0005_create_seen_lines",
        include_str!("../../migrations/0005_create_seen_lines.sql"),
    ),
    (
        "0006_generation_checks",
        include_str!("../../migrations/0006_generation_checks.sql"),
    ),
    (
        "0007_records_in_git",
        include_str!("../../migrations/0007_records_in_git.sql"),
    ),
    (
        "0008_record_authors",
        include_str!("../../migrations/0008_record_authors.sql"),
    ),
    (
        "0009_generation_sources",
        include_str!("../../migrations/0009_generation_sources.sql"),
    ),
    (
        "0010_imported_tips",
        include_str!("../../migrations/0010_imported_tips.sql"),
    ),
    (
        "0011_unsent_lines",
        include_str!("../../migrations/0011_unsent_lines.sql"),
    ),
    (
        "0012_imported_records",
        include_str!("../../migrations/0012_imported_records.sql"),
    ),
    (
        "0013_exact_approvals",
        include_str!("../../migrations/0013_exact_approvals.sql"),
    ),
    (
        "0014_imported_tip_refs",
        include_str!("../../migrations/0014_imported_tip_refs.sql"),
    ),
    (
        "0015_generation_tokens",
        include_str!("../../migrations/0015_generation_tokens.sql"),
    ),
    (
        "0016_session_reviews",
        include_str!("../../migrations/0016_session_reviews.sql"),
    ),
];

/// The schema version this binary writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

fn version(store: &Store) -> Result<i64> {
    store.read(|c| c.query_row("PRAGMA user_version", [], |r| r.get(0)))
}

pub(super) fn run(store: &mut Store) -> Result<()> {
    let found = version(store)?;
    if found == SCHEMA_VERSION {
        return Ok(());
    }
    if found > SCHEMA_VERSION {
        return Err(too_new(store, found));
    }
    let newer = store.write(|tx| {
        // Someone else may have migrated while we waited for the lock.
        let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if current > SCHEMA_VERSION {
            return Ok(Some(current));
        }
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version    INTEGER PRIMARY KEY,
                 name       TEXT NOT NULL,
                 applied_at INTEGER NOT NULL
             )",
        )?;
        for (index, (name, sql)) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            tx.execute_batch(sql)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
                params![index as i64 + 1, name, now_secs()],
            )?;
        }
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        Ok(None)
    })?;
    match newer {
        Some(found) => Err(too_new(store, found)),
        None => Ok(()),
    }
}

fn too_new(store: &Store, found: i64) -> Error {
    Error::TooNew {
        path: store.path().to_path_buf(),
        found,
        known: SCHEMA_VERSION,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_file_is_embedded_in_order() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        files.sort();
        let listed: Vec<String> = MIGRATIONS.iter().map(|(n, _)| format!("{n}.sql")).collect();
        assert_eq!(files, listed);
        for (i, name) in listed.iter().enumerate() {
            assert!(name.starts_with(&format!("{:04}_", i + 1)), "{name}");
        }
    }
}
