//! Records arriving in a push, as a server reads them before it accepts the push: checked
//! first (the ref only grows, every new file is a well-formed record), then added to what the
//! server already knows in a throwaway copy of its view, so a refused push leaves no trace.

use std::collections::{HashMap, HashSet};

use git2::Oid;

use super::format::{self, Kind};
use super::{Error, RECORDS_REF, Synced, files_of, import, read_blob, view};
use crate::git::Repo;
use crate::store::Store;
use crate::trust::AllowedSigners;

/// The most record files one push may add unless the server's `hybrid.receiveMaxRecords` says
/// otherwise: a team's records grow by a few per change, and a push of millions would make the
/// check read them all (each file is also capped in size).
pub const MAX_NEW_RECORDS: usize = 50_000;

/// Whether a push may move the records ref from `old` to `new`: never deleted, never a file
/// removed or changed (the ref is append-only: a record once known stays known), and every file
/// it adds a record that reads back (`format::read`). `Err` is the reason, for the pusher.
pub fn check_update(
    repo: &Repo,
    old: Option<Oid>,
    new: Option<Oid>,
    max_new: usize,
) -> Result<(), String> {
    let Some(new) = new else {
        return Err(format!(
            "records are append-only: {RECORDS_REF} cannot be deleted"
        ));
    };
    let listing = |tip: Oid| {
        files_of(repo, tip).map_err(|e| format!("{RECORDS_REF} at {tip} cannot be read: {e}"))
    };
    let new_files: HashMap<String, Oid> = listing(new)?.into_iter().collect();
    let mut known = HashSet::new();
    if let Some(old) = old {
        for (path, id) in listing(old)? {
            match new_files.get(&path) {
                Some(now) if *now == id => {}
                Some(_) => return Err(format!("records are append-only: the push changes {path}")),
                None => return Err(format!("records are append-only: the push removes {path}")),
            }
            known.insert(path);
        }
    }
    let mut added: Vec<(&String, &Oid)> = new_files
        .iter()
        .filter(|(path, _)| !known.contains(*path))
        .collect();
    if added.len() > max_new {
        return Err(format!(
            "the push adds {} record files, more than this server takes at once ({max_new}; on the server: git config hybrid.receiveMaxRecords <n>)",
            added.len()
        ));
    }
    added.sort();
    for (path, id) in added {
        let kind = format::kind(path);
        if kind == Kind::Other {
            return Err(format!(
                "{path} is not a record (generations/<id>@<digest>.json, verdicts/<digest>.json, or a .sig beside one)"
            ));
        }
        let bytes = read_blob(repo, *id).map_err(|m| format!("{path}: {m}"))?;
        format::read(path, &bytes).map_err(|m| format!("{path}: {m}"))?;
        if kind == Kind::Signature {
            let signed = path.strip_suffix(format::SIGNATURE_SUFFIX).unwrap_or(path);
            if !new_files.contains_key(signed) {
                return Err(format!("{path} signs {signed}, which is not there"));
            }
        }
    }
    Ok(())
}

/// The store a push is judged by, and the folder its throwaway copy lives in.
pub struct PushView {
    pub store: Store,
    pub synced: Synced,
    _copy: Option<tempfile::TempDir>,
}

/// The server's view of its own records (brought up to date and kept), plus — in a temporary
/// copy, when the push brings records — the records at `pushed`.
pub fn view_for_push(
    repo: &Repo,
    pushed: Option<Oid>,
    signers: Option<&AllowedSigners>,
) -> Result<PushView, Error> {
    let own: Vec<(String, Oid)> = repo
        .git
        .refname_to_id(RECORDS_REF)
        .ok()
        .map(|id| (RECORDS_REF.to_string(), id))
        .into_iter()
        .collect();
    let (store, mut synced) = view(repo, &own, signers)?;
    let Some(pushed) = pushed.filter(|p| own.first().is_none_or(|(_, id)| id != p)) else {
        return Ok(PushView {
            store,
            synced,
            _copy: None,
        });
    };
    let dir = tempfile::tempdir().map_err(Error::Spawn)?;
    let mut copy = store.scratch_copy(&dir.path().join("push.db"))?;
    import(repo, &mut copy, RECORDS_REF, pushed, signers, &mut synced)?;
    Ok(PushView {
        store: copy,
        synced,
        _copy: Some(dir),
    })
}
