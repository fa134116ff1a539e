//! The repository's SQLite store: `<git-common-dir>/hybrid/hybrid.db`, shared by every worktree.
//!
//! This module owns opening the file, its pragmas, the forward-only migrations in `migrations/`,
//! and the retry discipline that keeps `SQLITE_BUSY` away from users when hooks in parallel
//! worktrees write at once. Table families live in submodules. It must never silently recreate,
//! truncate or "repair" a store it cannot read: an unreadable store is an error, and the gate fails
//! closed on it.

/// An enum the store keeps as text: its names, `Display`, and SQLite conversions, from one list.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl rusqlite::types::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(self.as_str().into())
            }
        }

        impl rusqlite::types::FromSql for $name {
            fn column_result(
                value: rusqlite::types::ValueRef<'_>,
            ) -> rusqlite::types::FromSqlResult<Self> {
                match value.as_str()? {
                    $($text => Ok($name::$variant),)+
                    other => Err(rusqlite::types::FromSqlError::Other(
                        format!("unknown {} {other:?}", stringify!($name)).into(),
                    )),
                }
            }
        }
    };
}

mod batches;
mod events;
mod generations;
mod jobs;
mod migrate;
mod published;
mod reviews;

pub use batches::{BatchedReview, OpenBatch};
pub use events::{Event, EventRow};
pub use generations::{CheckRecord, CheckState, GenerationRecord, LocalMatch, PendingGeneration};
pub use jobs::{Job, JobState};
pub use migrate::SCHEMA_VERSION;
pub use published::StoredVerdict;
pub use reviews::{
    Decision, FindingRow, FindingSource, Provider, SentLines, UsageRow, VerdictRecord, VerdictRow,
    Via,
};

use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode, OpenFlags, Transaction, TransactionBehavior};

/// How long one statement waits on another writer's lock before SQLite gives up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a write keeps retrying after SQLite did give up (WAL recovery, lock upgrades).
const WRITE_DEADLINE: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot create the store's folder {path}: {source}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the store {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("the store {path} is unreadable or corrupt: {source}")]
    Corrupt {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "the store {path} was written by a newer git-hybrid (schema {found}; this binary knows up to {known})"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error(
        "the store {path} holds no local output, yet this repository recorded some ({marker} exists): the store was deleted, truncated or replaced"
    )]
    Lost { path: PathBuf, marker: &'static str },
    #[error("store query failed on {path}: {source}")]
    Query {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
}

impl Error {
    pub fn path(&self) -> &Path {
        match self {
            Error::CreateDir { path, .. }
            | Error::Open { path, .. }
            | Error::Corrupt { path, .. }
            | Error::TooNew { path, .. }
            | Error::Lost { path, .. }
            | Error::Query { path, .. } => path,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// Runs `attempt` again, with a pause that doubles up to 100 ms, while SQLite answers busy or
/// locked and the write deadline has not passed: the one backoff loop of the store.
fn until_not_busy<T>(mut attempt: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(2);
    loop {
        match attempt() {
            Err(e) if is_busy(&e) && start.elapsed() < WRITE_DEADLINE => {
                thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            other => return other,
        }
    }
}

/// The ref a repository carries once local output was recorded in its store: what makes a lost
/// store detectable (see [`Store::open_for`]).
pub const MARKER_REF: &str = "refs/hybrid/store";

pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// Whether approvals of session reviews (made through MCP) count: only where the committed
    /// policy accepts them, which the gate says (`count_session_reviews`) before it judges. Off
    /// unless said: a store opened without the policy in hand counts API reviews alone.
    count_session: std::cell::Cell<bool>,
}

impl Store {
    /// The store's path for a repository's common git dir.
    pub fn path_for(common_dir: &Path) -> PathBuf {
        common_dir.join("hybrid").join("hybrid.db")
    }

    /// Opens the store, creating and migrating it when needed.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| Error::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|source| Error::Open {
            path: path.to_path_buf(),
            source,
        })?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
            count_session: std::cell::Cell::new(false),
        };
        store.configure()?;
        migrate::run(&mut store)?;
        Ok(store)
    }

    /// Opens the store at `path` and fills it with `fill` (records read in). When there is no
    /// file yet, the store is built in memory and written out once, whole (`VACUUM INTO` a
    /// temporary file, then linked into place, so a concurrent builder never opens half a
    /// file): a cold view of thousands of records costs one sequential write instead of a
    /// journal of every insert. `fill` runs again on the file (cheap: what it read is known),
    /// which also takes in what a builder that won the race read.
    pub fn open_filled<E: From<Error>>(
        path: &Path,
        mut fill: impl FnMut(&mut Store) -> std::result::Result<(), E>,
    ) -> std::result::Result<Store, E> {
        if !path.exists() {
            let conn = Connection::open_in_memory().map_err(|source| Error::Open {
                path: path.to_path_buf(),
                source,
            })?;
            let mut built = Store {
                conn,
                path: path.to_path_buf(),
                count_session: std::cell::Cell::new(false),
            };
            built
                .conn
                .execute_batch("PRAGMA foreign_keys=ON")
                .map_err(|e| built.classify(e))?;
            migrate::run(&mut built)?;
            fill(&mut built)?;
            built.write_out(path)?;
        }
        let mut store = Store::open(path)?;
        fill(&mut store)?;
        Ok(store)
    }

    /// Writes this (in-memory) store to `path` unless a file is there already.
    fn write_out(&self, path: &Path) -> Result<()> {
        let dir = path.parent().unwrap_or(Path::new("."));
        let failed = |source| Error::CreateDir {
            path: dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(failed)?;
        let building = dir.join(format!(
            ".{}.building-{}",
            path.file_name().unwrap_or_default().to_string_lossy(),
            std::process::id()
        ));
        let _ = std::fs::remove_file(&building);
        let target = building.to_string_lossy().into_owned();
        self.read(|c| c.execute("VACUUM INTO ?1", [&target]).map(|_| ()))?;
        // A hard link never replaces: whoever links first wins, the other opens theirs.
        let linked = match std::fs::hard_link(&building, path) {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            // A file system without hard links: a rename, only where nothing is yet.
            Err(_) if !path.exists() => std::fs::rename(&building, path),
            other => other,
        };
        let _ = std::fs::remove_file(&building);
        linked.map_err(failed)
    }

    /// Opens an existing store without creating it; `None` when there is none yet.
    pub fn open_existing(path: &Path) -> Result<Option<Store>> {
        if !path.exists() {
            return Ok(None);
        }
        Store::open(path).map(Some)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens a repository's store, refusing to start over: once local output was recorded, the
    /// repository carries a marker ref outside the store ([`MARKER_REF`]), and a store without
    /// any generation under that marker is a lost one (deleted, truncated to nothing), which
    /// would otherwise let every unreviewed line through as if none had ever been recorded.
    pub fn open_for(repo: &crate::git::Repo) -> Result<Store> {
        let store = Store::open(&Store::path_for(repo.common_dir()))?;
        store.check_marker(repo)?;
        Ok(store)
    }

    /// `open_for`, but `None` when there is no store file and nothing was ever recorded.
    pub fn open_existing_for(repo: &crate::git::Repo) -> Result<Option<Store>> {
        let path = Store::path_for(repo.common_dir());
        if !path.exists() && !repo.has_ref(MARKER_REF) {
            return Ok(None);
        }
        Store::open_for(repo).map(Some)
    }

    fn check_marker(&self, repo: &crate::git::Repo) -> Result<()> {
        if repo.has_ref(MARKER_REF) && !self.has_generations()? {
            return Err(Error::Lost {
                path: self.path.clone(),
                marker: MARKER_REF,
            });
        }
        Ok(())
    }

    fn configure(&mut self) -> Result<()> {
        self.conn
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| self.classify(e))?;
        // The first statement that reads the file is where a corrupt or foreign file shows up.
        let mode: String = self
            .retry(|c| c.query_row("PRAGMA journal_mode", [], |r| r.get(0)))
            .map_err(|e| self.classify(e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            // Two processes may race to switch a fresh file to WAL; the switch needs a moment of
            // exclusive access, so it is retried like a write.
            self.retry(|c| c.query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0)))
                .map_err(|e| self.classify(e))?;
        }
        self.conn
            .execute_batch("PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL;")
            .map_err(|e| self.classify(e))?;
        Ok(())
    }

    /// Maps SQLite's "this is not a database" family to `Corrupt`, the rest to `Query`.
    fn classify(&self, source: rusqlite::Error) -> Error {
        let corrupt = matches!(
            source.sqlite_error_code(),
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt)
        );
        let path = self.path.clone();
        if corrupt {
            Error::Corrupt { path, source }
        } else {
            Error::Query { path, source }
        }
    }

    /// Runs `f` again while SQLite answers busy or locked, up to a deadline. The busy timeout
    /// already waits inside SQLite; this covers the cases where SQLite returns busy at once
    /// (a lock upgrade that would deadlock, WAL recovery), which must not reach a user either.
    fn retry<T>(
        &self,
        mut f: impl FnMut(&Connection) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        until_not_busy(|| f(&self.conn))
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction, retried as a whole while the database is busy.
    pub fn write<T>(&mut self, mut f: impl FnMut(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        if !self.conn.is_autocommit() {
            // Inside `in_one_transaction`: part of it. A failed write fails the whole of it,
            // which is rolled back, so no write needs undoing on its own.
            return f(&self.conn).map_err(|e| self.classify(e));
        }
        until_not_busy(|| {
            let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
            let value = f(&tx)?;
            tx.commit()?;
            Ok(value)
        })
        .map_err(|e| self.classify(e))
    }

    /// Runs `f` with every write it makes in one transaction: thousands of records read into a
    /// cold store pay for one commit, not one each. Nothing of it is kept when `f` fails, so `f`
    /// must fail when a write does (never carry on past one).
    pub fn in_one_transaction<T, E: From<Error>>(
        &mut self,
        f: impl FnOnce(&mut Store) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        if !self.conn.is_autocommit() {
            return f(self);
        }
        until_not_busy(|| self.conn.execute_batch("BEGIN IMMEDIATE"))
            .map_err(|e| self.classify(e))?;
        match f(self) {
            Ok(value) => {
                self.conn
                    .execute_batch("COMMIT")
                    .map_err(|e| self.classify(e))?;
                Ok(value)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// A read on the plain connection, with the same busy handling.
    pub fn read<T>(&self, f: impl FnMut(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        self.retry(f).map_err(|e| self.classify(e))
    }

    /// A scratch copy of this store in a new file at `path` (a temporary folder's), opened:
    /// changes to either stay in it. Nothing in it outlives the process that made it, so it
    /// keeps its journal in memory and never waits for the disk: a push bringing thousands of
    /// records reads them in at the speed of memory.
    pub fn scratch_copy(&self, path: &Path) -> Result<Store> {
        let target = path.to_string_lossy().into_owned();
        self.read(|c| c.execute("VACUUM INTO ?1", [&target]).map(|_| ()))?;
        let store = Store::open(path)?;
        store.read(|c| {
            c.query_row("PRAGMA journal_mode=MEMORY", [], |r| r.get::<_, String>(0))?;
            c.execute_batch("PRAGMA synchronous=OFF")
        })?;
        Ok(store)
    }

    /// Lets approvals of session reviews count (the committed policy's `[review] accept` lists
    /// "mcp"), or not.
    pub fn count_session_reviews(&self, yes: bool) {
        self.count_session.set(yes);
    }

    /// `PRAGMA quick_check`: what `doctor` reports.
    pub fn health(&self) -> Result<String> {
        self.read(|c| c.query_row("PRAGMA quick_check", [], |r| r.get(0)))
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

pub(crate) fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

pub(crate) fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
