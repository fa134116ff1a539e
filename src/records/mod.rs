//! Records that travel with the repository: every generation and verdict in the store is also a
//! file on the ref `refs/hybrid/records`, which push and fetch move like code, and from which a
//! store can be rebuilt (`git hybrid sync`).
//!
//! The ref is a chain of commits whose tree holds one file per record — `generations/<id>.json`,
//! `verdicts/<digest of the file>.json` — written once and never changed: records from several
//! clones merge as the union of their trees, without conflicts. A record carries fingerprints,
//! paths and line numbers, never a line's text, and who recorded it and when. This module never
//! decides what the gate allows: it copies records between the ref and the store.

use git2::{Index, Oid, Signature};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::change::Fingerprint;
use crate::git::{self, Repo};
use crate::store::{
    self, Decision, FindingRow, GenerationRecord, SentLines, Store, StoredVerdict, VerdictRecord,
};

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
    #[error("{refname} moved while records were written to it; run `git hybrid sync` again")]
    Raced { refname: String },
}

/// A path as a record keeps it: text when it is UTF-8, else its bytes in hex.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
enum RecordPath {
    Text(String),
    Bytes { hex: String },
}

impl RecordPath {
    fn of(bytes: &[u8]) -> RecordPath {
        match std::str::from_utf8(bytes) {
            Ok(text) => RecordPath::Text(text.to_string()),
            Err(_) => RecordPath::Bytes {
                hex: crate::digest::hex(bytes),
            },
        }
    }

    fn bytes(&self) -> Option<Vec<u8>> {
        match self {
            RecordPath::Text(t) => Some(t.as_bytes().to_vec()),
            RecordPath::Bytes { hex } => (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
                .collect(),
        }
    }
}

fn fp_hex(fp: Fingerprint) -> String {
    format!("{:016x}", fp as u64)
}

fn fp_parse(hex: &str) -> Option<Fingerprint> {
    u64::from_str_radix(hex, 16).ok().map(|v| v as i64)
}

/// A generation as a file: its lines by fingerprint, path and number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct GenerationFile {
    version: u32,
    id: String,
    kind: String,
    model: Option<String>,
    spec_path: Option<String>,
    branch: Option<String>,
    base_commit: Option<String>,
    result_commit: String,
    change_id: String,
    /// (fingerprint, path, line)
    lines: Vec<(String, RecordPath, u32)>,
    recorded_by: String,
    recorded_at: i64,
}

/// A verdict as a file: exactly the fingerprints its requests carried, and which of them it
/// approved (all of them for an approval, none otherwise).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct VerdictFile {
    version: u32,
    change_id: String,
    decision: Decision,
    model: String,
    request_id: Option<String>,
    summary: String,
    complete: bool,
    base_commit: Option<String>,
    tip_commit: Option<String>,
    target: String,
    parts: u32,
    findings: Vec<FindingRow>,
    seen: Vec<String>,
    approved: Vec<String>,
    recorded_by: String,
    recorded_at: i64,
}

/// What a sync or publish did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Synced {
    pub imported_generations: usize,
    pub imported_verdicts: usize,
    pub published: usize,
    /// Remote record refs merged into this clone's.
    pub merged: usize,
}

/// Adds the fetch refspec that brings `remote`'s records (`+refs/hybrid/records:
/// refs/hybrid/remotes/<remote>/records`) when the remote exists and lacks it. Returns whether
/// it was added; `None` when there is no such remote.
pub fn add_fetch_refspec(repo: &Repo, remote: &str) -> Result<Option<bool>, Error> {
    if repo.git.find_remote(remote).is_err() {
        return Ok(None);
    }
    let spec = format!("+{RECORDS_REF}:{REMOTE_RECORDS}{remote}/records");
    let has = repo
        .git
        .find_remote(remote)?
        .fetch_refspecs()?
        .iter()
        .any(|s| s.ok().flatten() == Some(spec.as_str()));
    if !has {
        repo.git.remote_add_fetch(remote, &spec)?;
    }
    Ok(Some(!has))
}

/// The remote records travel to and from: `hybrid.remote`, default `origin`.
pub fn remote_name(repo: &Repo) -> String {
    repo.git
        .config()
        .and_then(|c| c.get_string("hybrid.remote"))
        .unwrap_or_else(|_| "origin".to_string())
}

/// What `pre-push` did with this clone's records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pushed {
    /// Nothing to do: no records, or the push carries the records itself.
    Nothing,
    /// The records are on the remote now.
    Pushed,
    /// `git push --dry-run`: nothing is sent, records neither.
    DryRun,
    /// They could not be pushed, even after taking in the remote's: git's message.
    Failed(String),
}

/// Before a push proper (as git-lfs does): sends `refs/hybrid/records` to the same remote, so
/// what the push carries is known there. When the remote's records moved on, they are fetched,
/// merged in (`sync`) and the push tried again once. `remote` is the name or URL git gave the
/// hook; `pushed_refs` the remote refs the push updates.
pub fn push_before(
    repo: &Repo,
    store: &mut Store,
    remote: &str,
    pushed_refs: &[String],
) -> Result<Pushed, Error> {
    // A push that carries the records itself (ours, or the user's) needs no second one.
    if pushed_refs.iter().any(|r| r == RECORDS_REF) || repo.git.refname_to_id(RECORDS_REF).is_err()
    {
        return Ok(Pushed::Nothing);
    }
    let dry_run = git::parent_command_line()
        .as_deref()
        .and_then(git::subcommand)
        .is_some_and(|(name, args)| name == "push" && is_dry_run(args));
    if dry_run {
        return Ok(Pushed::DryRun);
    }
    publish(repo, store)?;
    let push = || {
        std::process::Command::new("git")
            .args(["push", "--quiet", "--no-verify", remote])
            .arg(format!("{RECORDS_REF}:{RECORDS_REF}"))
            .stdin(std::process::Stdio::null())
            .output()
    };
    let failed = |out: std::process::Output| {
        Pushed::Failed(String::from_utf8_lossy(&out.stderr).trim().to_string())
    };
    let first = push().map_err(Error::Spawn)?;
    if first.status.success() {
        return Ok(Pushed::Pushed);
    }
    // The remote's records moved on: take them in, merge, and try once more.
    let fetched = std::process::Command::new("git")
        .args(["fetch", "--quiet", remote])
        .arg(format!(
            "+{RECORDS_REF}:{REMOTE_RECORDS}{}/records",
            remote_label(remote)
        ))
        .stdin(std::process::Stdio::null())
        .output();
    if !fetched.is_ok_and(|o| o.status.success()) {
        return Ok(failed(first));
    }
    sync(repo, store)?;
    match push() {
        Ok(out) if out.status.success() => Ok(Pushed::Pushed),
        Ok(out) => Ok(failed(out)),
        Err(_) => Ok(failed(first)),
    }
}

/// Whether `git push`'s arguments ask for a dry run: `--dry-run`, `-n`, or `n` in a cluster of
/// short options (`-qn`), before `--`.
fn is_dry_run(args: &[String]) -> bool {
    args.iter()
        .take_while(|a| *a != "--")
        .any(|a| match a.strip_prefix("--") {
            Some(long) => long == "dry-run",
            None => a.starts_with('-') && a[1..].contains('n'),
        })
}

/// A remote as a ref name component: its name, or its URL made safe.
fn remote_label(remote: &str) -> String {
    remote
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Who records: `user.email` (else `user.name`) from git's config.
fn recorder(repo: &Repo) -> String {
    repo.git
        .signature()
        .ok()
        .and_then(|s| s.email().ok().or(s.name().ok()).map(str::to_string))
        .unwrap_or_else(|| "unknown".to_string())
}

fn generation_file(g: &GenerationRecord, recorded_at: i64, by: &str) -> GenerationFile {
    GenerationFile {
        version: 1,
        id: g.id.clone(),
        kind: g.kind.clone(),
        model: g.model.clone(),
        spec_path: g.spec_path.clone(),
        branch: g.branch.clone(),
        base_commit: g.base_commit.clone(),
        result_commit: g.result_commit.clone(),
        change_id: g.change_id.clone(),
        lines: g
            .lines
            .iter()
            .map(|(fp, path, line)| (fp_hex(*fp), RecordPath::of(path), *line))
            .collect(),
        recorded_by: by.to_string(),
        recorded_at,
    }
}

fn verdict_file(v: &StoredVerdict, by: &str) -> VerdictFile {
    let seen: Vec<String> = v.seen.fingerprints().map(fp_hex).collect();
    VerdictFile {
        version: 1,
        change_id: v.row.change_id.clone(),
        decision: v.row.decision,
        model: v.row.model.clone(),
        request_id: v.row.request_id.clone(),
        summary: v.row.summary.clone().unwrap_or_default(),
        complete: v.row.complete,
        base_commit: v.row.base_commit.clone(),
        tip_commit: v.row.tip_commit.clone(),
        target: v.row.target.clone().unwrap_or_default(),
        parts: v.parts,
        findings: v.findings.clone(),
        approved: if v.row.decision == Decision::Approve {
            seen.clone()
        } else {
            Vec::new()
        },
        seen,
        recorded_by: by.to_string(),
        recorded_at: v.row.created_at,
    }
}

/// A verdict file's name: the digest of its bytes, so the same verdict is the same file.
fn verdict_key(bytes: &[u8]) -> String {
    crate::digest::hex(&Sha256::digest(bytes))
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
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for (g, at) in &generations {
        let bytes = serde_json::to_vec(&generation_file(g, *at, &by)).unwrap_or_default();
        files.push((format!("generations/{}.json", g.id), bytes));
    }
    let mut keys = Vec::new();
    for v in &verdicts {
        let bytes = serde_json::to_vec(&verdict_file(v, &by)).unwrap_or_default();
        let key = verdict_key(&bytes);
        files.push((format!("verdicts/{key}.json"), bytes));
        keys.push((v.row.id, key));
    }
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
    Ok(files.len())
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
        let tree = git.find_commit(*commit)?.tree()?;
        // Records are written once and never change: the union of the trees is the merge.
        tree.walk(git2::TreeWalkMode::PreOrder, |folder, entry| {
            if entry.kind() == Some(git2::ObjectType::Blob)
                && let Ok(name) = entry.name()
            {
                let path = format!("{folder}{name}");
                if index.get_path(std::path::Path::new(&path), 0).is_none() {
                    let _ = index.add(&git::index_entry(path.as_bytes(), 0o100644, entry.id(), 0));
                }
            }
            git2::TreeWalkResult::Ok
        })?;
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

/// The record refs to read: this clone's and every remote's that fetch brought.
fn sources(repo: &Repo) -> Result<Vec<(String, Oid)>, Error> {
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
    let sources = sources(repo)?;
    for (refname, tip) in &sources {
        for (path, blob) in files_of(repo, *tip)? {
            let unreadable = |message: String| Error::Unreadable {
                refname: refname.clone(),
                path: path.clone(),
                message,
            };
            // A record the store has is known by its name: its content is not read again (a
            // fetch's hook runs this; the ref only grows).
            let known = match (
                path.strip_prefix("verdicts/")
                    .and_then(|p| p.strip_suffix(".json")),
                path.strip_prefix("generations/")
                    .and_then(|p| p.strip_suffix(".json")),
            ) {
                (Some(key), _) => store.has_verdict_record(key)?,
                (_, Some(id)) => store.generation_exists(id)?,
                _ => true,
            };
            if known {
                continue;
            }
            let bytes = repo.git.find_blob(blob)?.content().to_vec();
            if let Some(key) = path
                .strip_prefix("verdicts/")
                .and_then(|p| p.strip_suffix(".json"))
            {
                // The name is the digest of the content: a file edited after the fact is refused.
                if verdict_key(&bytes) != key {
                    return Err(unreadable(
                        "its name is not the digest of its content".into(),
                    ));
                }
                let file: VerdictFile =
                    serde_json::from_slice(&bytes).map_err(|e| unreadable(e.to_string()))?;
                if store.import_verdict(&verdict_record(&file), key, file.recorded_at)? {
                    synced.imported_verdicts += 1;
                }
            } else if path.starts_with("generations/") {
                let file: GenerationFile =
                    serde_json::from_slice(&bytes).map_err(|e| unreadable(e.to_string()))?;
                let record = generation_record(&file).ok_or_else(|| {
                    unreadable("a fingerprint or path in it is not well-formed".into())
                })?;
                if store.import_generation(&record, file.recorded_at)? {
                    synced.imported_generations += 1;
                }
            }
        }
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

fn generation_record(f: &GenerationFile) -> Option<GenerationRecord> {
    let lines = f
        .lines
        .iter()
        .map(|(fp, path, line)| Some((fp_parse(fp)?, path.bytes()?, *line)))
        .collect::<Option<Vec<_>>>()?;
    Some(GenerationRecord {
        id: f.id.clone(),
        kind: f.kind.clone(),
        model: f.model.clone(),
        spec_path: f.spec_path.clone(),
        branch: f.branch.clone(),
        base_commit: f.base_commit.clone(),
        result_commit: f.result_commit.clone(),
        change_id: f.change_id.clone(),
        lines,
        job_id: None,
        stats: None,
        check: None,
    })
}

/// A verdict file as a store record. What it approves is what it says it saw, and only when it
/// is an approval: the approval principle holds for records read back as for records made here.
fn verdict_record(f: &VerdictFile) -> VerdictRecord {
    let seen = SentLines::from_fingerprints(f.seen.iter().filter_map(|h| fp_parse(h)));
    VerdictRecord {
        change_id: f.change_id.clone(),
        decision: f.decision,
        model: f.model.clone(),
        request_id: f.request_id.clone(),
        raw_response: None,
        summary: f.summary.clone(),
        complete: f.complete,
        base_commit: f.base_commit.clone(),
        tip_commit: f.tip_commit.clone(),
        target: f.target.clone(),
        parts: f.parts,
        findings: f.findings.clone(),
        seen,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dry_runs_are_read_in_every_spelling() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        for dry in [
            &["--dry-run", "origin"][..],
            &["-n", "origin"],
            &["-qn", "origin", "main"],
        ] {
            assert!(is_dry_run(&args(dry)), "{dry:?}");
        }
        for wet in [
            &["origin", "main"][..],
            &["-q", "origin"],
            &["--", "-n"],
            &["--no-verify"],
        ] {
            assert!(!is_dry_run(&args(wet)), "{wet:?}");
        }
    }

    #[test]
    fn fingerprints_and_paths_round_trip() {
        for fp in [0i64, -1, i64::MIN, i64::MAX, 42] {
            assert_eq!(fp_parse(&fp_hex(fp)), Some(fp));
        }
        for path in [&b"src/lib.rs"[..], b"caf\xe9.txt"] {
            assert_eq!(RecordPath::of(path).bytes().as_deref(), Some(path));
        }
    }
}
