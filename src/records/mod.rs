//! Records that travel with the repository: every generation and verdict in the store is also a
//! file on the ref `refs/hybrid/records`, which push and fetch move like code, and from which a
//! store can be rebuilt (`git hybrid sync`).
//!
//! The ref is a chain of commits whose tree holds one file per record —
//! `generations/<id>@<digest of the file>.json`, `verdicts/<digest of the file>.json` — written
//! once and never changed (two records of one generation both stand, and merge as the union of
//! their lines): records from several
//! clones merge as the union of their trees, without conflicts. A record carries fingerprints,
//! paths and line numbers, never a line's text, and who recorded it and when. This module never
//! decides what the gate allows: it copies records between the ref and the store.

mod format;
mod push;
mod receive;

pub use push::{Pushed, fetch_records, push_before, push_records, send};
pub use receive::{MAX_NEW_RECORDS, check_update, view_for_push};

use git2::{Index, Oid, Signature};
use serde::Serialize;

use crate::git::{self, Repo};
use crate::store::{self, Decision, Store};
use crate::trust::{AllowedSigners, SigningKey};
use format::{Kind, Record};

/// This clone's records.
pub const RECORDS_REF: &str = "refs/hybrid/records";
/// Where `git fetch` puts a remote's records (the refspec `install` adds).
pub const REMOTE_RECORDS: &str = "refs/hybrid/remotes/";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("git: {}", .0.message())]
    Git(#[from] git2::Error),
    #[error(transparent)]
    Repo(#[from] git::Error),
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error("the record {path} on {refname} is unreadable: {message}")]
    Unreadable {
        refname: String,
        path: String,
        message: String,
    },
    #[error(transparent)]
    Provenance(#[from] crate::provenance::Error),
    #[error("git could not be started: {0}")]
    Spawn(std::io::Error),
    /// A record that would not serialise is never written: an empty file under its name could
    /// never be corrected (records only grow).
    #[error("the record {what} could not be written as JSON: {source}")]
    Serialise {
        what: String,
        source: serde_json::Error,
    },
    #[error("{refname} moved while records were written to it; run `git hybrid sync` again")]
    Raced { refname: String },
    #[error(transparent)]
    Trust(#[from] crate::trust::Error),
    #[error(
        "{refname} was rewritten: {lost} record file(s) it held when this clone last read it are gone (such as {example}); records only ever grow"
    )]
    Rewritten {
        refname: String,
        lost: usize,
        example: String,
        /// The tip that still holds them.
        last: String,
    },
}

/// What a sync or publish did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Synced {
    pub imported_generations: usize,
    pub imported_verdicts: usize,
    pub published: usize,
    /// Remote record refs merged into this clone's.
    pub merged: usize,
    /// Approvals read without a signature from a listed signer (only where signers are
    /// required): recorded as approving nothing.
    #[serde(skip_serializing_if = "is_zero")]
    pub untrusted: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Adds the fetch refspec that brings `remote`'s records (`fetch_refspec`) when the remote exists
/// and lacks it, replacing the exact refspec earlier versions added (which made every fetch fail
/// while the remote had no records yet). Returns whether it was added; `None` when there is no
/// such remote.
pub fn add_fetch_refspec(repo: &Repo, remote: &str) -> Result<Option<bool>, Error> {
    if repo.git.find_remote(remote).is_err() {
        return Ok(None);
    }
    let spec = fetch_refspec(remote);
    let specs: Vec<String> = repo
        .git
        .find_remote(remote)?
        .fetch_refspecs()?
        .iter()
        .flatten()
        .flatten()
        .map(str::to_string)
        .collect();
    if specs.contains(&spec) {
        return Ok(Some(false));
    }
    let legacy = legacy_fetch_refspec(remote);
    if specs.contains(&legacy) {
        // The value is matched as a regular expression: every byte of it escaped.
        let pattern: String = legacy
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '/' || c == '_' || c == '-' {
                    c.to_string()
                } else {
                    format!("\\{c}")
                }
            })
            .collect();
        repo.git
            .config()?
            .remove_multivar(&format!("remote.{remote}.fetch"), &format!("^{pattern}$"))?;
    }
    repo.git.remote_add_fetch(remote, &spec)?;
    Ok(Some(true))
}

/// The fetch refspec that brings `remote`'s records. A pattern, not the exact ref: git fetches
/// whatever matches, and a remote that has no records yet (every new repository) matches
/// nothing instead of failing the whole fetch. Only `records` itself is ever read from the
/// folder it fills (`record_refs`).
pub fn fetch_refspec(remote: &str) -> String {
    format!("+{RECORDS_REF}*:{REMOTE_RECORDS}{remote}/records*")
}

/// The exact refspec earlier versions added: a fetch fails while the remote lacks the ref.
pub fn legacy_fetch_refspec(remote: &str) -> String {
    format!("+{RECORDS_REF}:{REMOTE_RECORDS}{remote}/records")
}

/// The remote records travel to and from: `hybrid.remote`, default `origin`.
pub fn remote_name(repo: &Repo) -> String {
    repo.git
        .config()
        .and_then(|c| c.get_string("hybrid.remote"))
        .unwrap_or_else(|_| "origin".to_string())
}

/// Who records: the email git would put on a commit made here (`user.email`, else git's
/// environment), else `user.name`. It is what an allowed-signers file lists.
fn recorder(repo: &Repo) -> String {
    let config = repo.git.config().ok();
    let get = |key: &str| config.as_ref().and_then(|c| c.get_string(key).ok());
    get("user.email")
        .or_else(|| std::env::var("GIT_COMMITTER_EMAIL").ok())
        .or_else(|| std::env::var("GIT_AUTHOR_EMAIL").ok())
        .or_else(|| std::env::var("EMAIL").ok())
        .or_else(|| get("user.name"))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

/// Writes every record the store has not published yet to `refs/hybrid/records`, in one commit.
/// Returns how many records it wrote.
pub fn publish(repo: &Repo, store: &mut Store) -> Result<usize, Error> {
    let generations = store.unpublished_generations()?;
    let verdicts = store.unpublished_verdicts()?;
    if generations.is_empty() && verdicts.is_empty() {
        return Ok(0);
    }
    let by = recorder(repo);
    // Signed as git signs commits, when git is set up for SSH signing.
    let key = SigningKey::of(repo);
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut add = |path: String, bytes: Vec<u8>| -> Result<(), Error> {
        if let Some(key) = &key {
            let signature = key.sign(&bytes)?;
            files.push((
                format!("{path}{}", format::SIGNATURE_SUFFIX),
                signature.into_bytes(),
            ));
        }
        files.push((path, bytes));
        Ok(())
    };
    for (g, at) in &generations {
        let bytes =
            serde_json::to_vec(&format::generation_file(g, *at, &by)).map_err(|source| {
                Error::Serialise {
                    what: format!("of generation {}", g.id),
                    source,
                }
            })?;
        add(format::generation_path(&g.id, &bytes), bytes)?;
    }
    let mut keys = Vec::new();
    for v in &verdicts {
        let bytes = serde_json::to_vec(&format::verdict_file(v, &by)).map_err(|source| {
            Error::Serialise {
                what: format!("of the verdict on {}", v.row.change_id),
                source,
            }
        })?;
        let key = format::verdict_key(&bytes);
        add(format!("verdicts/{key}.json"), bytes)?;
        keys.push((v.row.id, key));
    }
    let written = generations.len() + verdicts.len();
    let tip = repo.git.refname_to_id(RECORDS_REF).ok();
    let message = format!(
        "git-hybrid: {} generation(s), {} verdict(s) recorded by {by}",
        generations.len(),
        verdicts.len()
    );
    commit_files(repo, tip, &[], &files, &message)?;
    for (g, _) in &generations {
        store.mark_generation_published(&g.id)?;
    }
    for (id, key) in &keys {
        store.mark_verdict_published(*id, key)?;
    }
    Ok(written)
}

/// A commit on `RECORDS_REF` from `tip`: its tree (and the trees of `also`, merged in as
/// parents) plus `files`; the ref moves only if it still points at `tip`.
fn commit_files(
    repo: &Repo,
    tip: Option<Oid>,
    also: &[Oid],
    files: &[(String, Vec<u8>)],
    message: &str,
) -> Result<Oid, Error> {
    let git = &repo.git;
    let mut index = Index::new()?;
    for commit in tip.iter().chain(also) {
        // Records are written once and never change: the union of the trees is the merge.
        for (path, id) in files_of(repo, *commit)? {
            if index.get_path(std::path::Path::new(&path), 0).is_none() {
                index.add(&git::index_entry(path.as_bytes(), 0o100644, id, 0))?;
            }
        }
    }
    for (path, bytes) in files {
        let id = git.blob(bytes)?;
        index.add(&git::index_entry(
            path.as_bytes(),
            0o100644,
            id,
            bytes.len(),
        ))?;
    }
    let tree = git.find_tree(index.write_tree_to(git)?)?;
    let signature = git
        .signature()
        .or_else(|_| Signature::now("git-hybrid", "git-hybrid@localhost"))?;
    let parents: Vec<git2::Commit<'_>> = tip
        .iter()
        .chain(also)
        .map(|id| git.find_commit(*id))
        .collect::<Result<_, _>>()?;
    let parents: Vec<&git2::Commit<'_>> = parents.iter().collect();
    let commit = git.commit(None, &signature, &signature, message, &tree, &parents)?;
    let moved = match tip {
        Some(old) => git.reference_matching(RECORDS_REF, commit, true, old, message),
        None => git.reference(RECORDS_REF, commit, false, message),
    };
    moved.map_err(|_| Error::Raced {
        refname: RECORDS_REF.to_string(),
    })?;
    Ok(commit)
}

/// The record refs a repository holds: its own and every remote's that fetch brought.
pub fn record_refs(repo: &Repo) -> Result<Vec<(String, Oid)>, Error> {
    let mut out = Vec::new();
    if let Ok(id) = repo.git.refname_to_id(RECORDS_REF) {
        out.push((RECORDS_REF.to_string(), id));
    }
    for reference in repo.git.references_glob(&format!("{REMOTE_RECORDS}*"))? {
        let reference = reference?;
        if let (Ok(name), Some(id)) = (reference.name(), reference.target())
            && name.ends_with("/records")
        {
            out.push((name.to_string(), id));
        }
    }
    Ok(out)
}

/// Every record file of a records commit: (path, blob id).
fn files_of(repo: &Repo, commit: Oid) -> Result<Vec<(String, Oid)>, Error> {
    let tree = repo.git.find_commit(commit)?.tree()?;
    let mut out = Vec::new();
    tree.walk(git2::TreeWalkMode::PreOrder, |folder, entry| {
        if entry.kind() == Some(git2::ObjectType::Blob)
            && let Ok(name) = entry.name()
        {
            out.push((format!("{folder}{name}"), entry.id()));
        }
        git2::TreeWalkResult::Ok
    })?;
    Ok(out)
}

/// Brings the store and the records ref level: records on this clone's ref or a remote's that
/// the store lacks are recorded, remotes' refs are merged into this clone's, and what the store
/// has that no ref has is published. Safe to run again; a store lost from `.git/hybrid` comes
/// back whole from the ref.
pub fn sync(repo: &Repo, store: &mut Store) -> Result<Synced, Error> {
    let mut synced = Synced::default();
    let sources = record_refs(repo)?;
    for (refname, tip) in &sources {
        import(repo, store, refname, *tip, None, &mut synced)?;
    }
    if synced.imported_generations > 0 {
        crate::provenance::mark_records(repo)?;
    }
    // Remotes' records this clone's ref does not contain yet are merged into it.
    let local = repo.git.refname_to_id(RECORDS_REF).ok();
    let behind: Vec<Oid> = sources
        .iter()
        .filter(|(name, _)| name != RECORDS_REF)
        .map(|(_, id)| *id)
        .filter(|id| {
            local.is_none_or(|l| l != *id && !repo.git.graph_descendant_of(l, *id).unwrap_or(false))
        })
        .collect();
    if !behind.is_empty() {
        let (tip, also) = match local {
            Some(l) => (Some(l), behind.clone()),
            None => (Some(behind[0]), behind[1..].to_vec()),
        };
        if also.is_empty() {
            repo.git
                .reference(RECORDS_REF, behind[0], false, "git-hybrid: records fetched")?;
        } else {
            commit_files(repo, tip, &also, &[], "git-hybrid: merge fetched records")?;
        }
        synced.merged = behind.len();
    }
    synced.published = publish(repo, store)?;
    Ok(synced)
}

/// Takes into `store` every records ref (this clone's, and remotes' a fetch brought) whose tip
/// it has not read yet — a store restored from a backup, or copied from elsewhere, learns what
/// the refs know before anything is judged by it. Only reads refs; writes nothing to them.
/// Returns how many generations it learned.
pub fn take_in(repo: &Repo, store: &mut Store) -> Result<usize, Error> {
    let mut synced = Synced::default();
    for (refname, tip) in record_refs(repo)? {
        import(repo, store, &refname, tip, None, &mut synced)?;
    }
    Ok(synced.imported_generations)
}

/// Records every record of the records commit `tip` that `store` lacks. A tip read whole before
/// has nothing new (the ref only grows), and a record the store has is known by its name: a
/// fetch's hook and a push to a server with many records then read nothing again. Which tips
/// were read is kept in the store itself, so a lost store forgets them too.
///
/// With `signers`, an approval counts only when a signature beside it, by a key `signers` lists
/// for the author the approval names, verifies: any other approval is recorded as approving
/// nothing (counted in `untrusted`), so it is never read again and never opens anything.
fn import(
    repo: &Repo,
    store: &mut Store,
    refname: &str,
    tip: Oid,
    signers: Option<&AllowedSigners>,
    synced: &mut Synced,
) -> Result<(), Error> {
    if store.has_imported_tip(&tip.to_string())? {
        return Ok(());
    }
    refuse_rewritten(repo, store, refname, tip)?;
    // One transaction for the whole tip: a cold store (a server's first look, a CI clone) reads
    // thousands of records, and a commit each would cost more than reading them.
    store.in_one_transaction(|store| import_files(repo, store, (refname, tip), signers, synced))
}

/// A records ref only grows. When `refname`'s new tip is not built on the tip this store read
/// from it last and lacks record files that one held, someone rewrote it (a forced push where
/// no server hook guards the ref): refused, naming what was lost and how to put it back, rather
/// than reading less from then on. (This store keeps what it read either way; what the check
/// protects is everyone who reads the ref after.)
fn refuse_rewritten(repo: &Repo, store: &Store, refname: &str, tip: Oid) -> Result<(), Error> {
    let Some(last) = store
        .last_imported_tip(refname)?
        .and_then(|t| Oid::from_str(&t).ok())
    else {
        return Ok(());
    };
    if last == tip || repo.git.graph_descendant_of(tip, last).unwrap_or(false) {
        return Ok(());
    }
    // The old tip may be gone (pruned after the rewrite): nothing left to compare with.
    let Ok(before) = files_of(repo, last) else {
        return Ok(());
    };
    let now: std::collections::HashSet<String> =
        files_of(repo, tip)?.into_iter().map(|(p, _)| p).collect();
    let lost: Vec<String> = before
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| format::kind(p) != Kind::Other && !now.contains(p))
        .collect();
    if lost.is_empty() {
        return Ok(());
    }
    Err(Error::Rewritten {
        refname: refname.to_string(),
        lost: lost.len(),
        example: lost[0].clone(),
        last: last.to_string(),
    })
}

/// `import`'s work, inside its transaction.
fn import_files(
    repo: &Repo,
    store: &mut Store,
    (refname, tip): (&str, Oid),
    signers: Option<&AllowedSigners>,
    synced: &mut Synced,
) -> Result<(), Error> {
    let files = files_of(repo, tip)?;
    let by_path: std::collections::HashMap<&str, Oid> =
        files.iter().map(|(p, id)| (p.as_str(), *id)).collect();
    for (path, blob) in &files {
        let kind = format::kind(path);
        let known = match kind {
            Kind::Verdict(key) => store.has_verdict_record(key)?,
            // A file named by its content is read once; an older one, once its id is known.
            Kind::Generation(name) => match format::generation_name(name) {
                (_, Some(_)) => store.has_imported_record(path)?,
                (id, None) => store.generation_exists(id)?,
            },
            Kind::Signature | Kind::Other => true,
        };
        if known {
            continue;
        }
        let unreadable = |message: String| Error::Unreadable {
            refname: refname.to_string(),
            path: path.clone(),
            message,
        };
        let bytes = read_blob(repo, *blob).map_err(unreadable)?;
        match (kind, format::read(path, &bytes).map_err(unreadable)?) {
            (_, Some(Record::Generation { record, at, by })) => {
                synced.imported_generations +=
                    usize::from(store.import_generation(&record, at, &by)?);
                store.mark_imported_record(path)?;
            }
            (Kind::Verdict(key), Some(Record::Verdict { mut record, at, by })) => {
                if let Some(signers) = signers
                    && record.decision == Decision::Approve
                {
                    let signature = by_path
                        .get(format!("{path}{}", format::SIGNATURE_SUFFIX).as_str())
                        .and_then(|id| read_blob(repo, *id).ok());
                    let trusted = signature.is_some_and(|sig| signers.verifies(&bytes, &sig, &by));
                    if !trusted {
                        record.seen = store::SentLines::default();
                        record.complete = false;
                        record.summary = format!(
                            "not signed by a signer {} lists for {by}: approves nothing here",
                            signers.origin
                        );
                        synced.untrusted += 1;
                    }
                }
                synced.imported_verdicts +=
                    usize::from(store.import_verdict(&record, key, at, &by)?);
            }
            _ => {}
        }
    }
    store.mark_imported_tip(&tip.to_string(), refname)?;
    Ok(())
}

/// A blob's bytes, refused unread when it is larger than any record can be.
fn read_blob(repo: &Repo, id: Oid) -> Result<Vec<u8>, String> {
    let odb = repo.git.odb().map_err(|e| e.message().to_string())?;
    let (size, _) = odb.read_header(id).map_err(|e| e.message().to_string())?;
    if size > format::MAX_RECORD_BYTES {
        return Err(format!(
            "{size} bytes is more than a record can hold ({})",
            format::MAX_RECORD_BYTES
        ));
    }
    repo.git
        .find_blob(id)
        .map(|b| b.content().to_vec())
        .map_err(|e| e.message().to_string())
}

/// A store that holds the records of `sources` and nothing else, kept under the repository's
/// hybrid folder and brought up to date here: what the server and CI judge by. With `signers`,
/// only approvals they vouch for count; each list of signers has its own view (named by the
/// list's digest), so a change of signers never reuses what an earlier list believed.
pub fn view(
    repo: &Repo,
    sources: &[(String, Oid)],
    signers: Option<&AllowedSigners>,
) -> Result<(Store, Synced), Error> {
    let name = match signers {
        Some(s) => format!("view-{}.db", &s.digest()[..16]),
        None => "view.db".to_string(),
    };
    let path = repo.common_dir().join("hybrid").join(name);
    let mut synced = Synced::default();
    let store = Store::open_filled(&path, |store| {
        for (refname, tip) in sources {
            import(repo, store, refname, *tip, signers, &mut synced)?;
        }
        Ok::<(), Error>(())
    })?;
    Ok((store, synced))
}
