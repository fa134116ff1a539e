//! The trust root: what decides whose approvals count and what the gate guards — the `[trust]`
//! and `[gate]` tables of the committed policy and the allowed-signers file it names. Once a
//! policy names signers, the root changes on the default branch only by a commit one of the
//! *current* signers signed (as TUF rotates its root keys, as Gerrit guards its config ref), so
//! a pusher cannot add their own key, or drop `[trust]`, and then approve their own output.
//! This module answers which commits changed the root without such a signature; what to do
//! about them is the caller's.

use std::path::Path;
use std::process::{Command, Stdio};

use git2::{Oid, Tree};

use super::AllowedSigners;
use crate::config::POLICY_FILE;
use crate::git::Repo;

/// One commit that changed the trust root without a listed signer's signature.
#[derive(Clone, Debug)]
pub struct UnsignedChange {
    pub commit: Oid,
    /// What of the root it changed, for the message.
    pub what: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("git: {}", .0.message())]
    Git(#[from] git2::Error),
    #[error("git could not be started to check a commit's signature: {0}")]
    Spawn(#[source] std::io::Error),
}

/// Every commit from `old` (exclusive; `None`: all of `new`'s history) to `new` that changes the
/// trust root against each of its parents and that no key `signers` lists signed (`git
/// verify-commit` against that file). `current` is the signers file's path the policy names
/// now: a change to it counts, wherever the new policy points.
pub fn unsigned_changes(
    repo: &Repo,
    signers: &AllowedSigners,
    current: Option<&str>,
    old: Option<Oid>,
    new: Oid,
) -> Result<Vec<UnsignedChange>, Error> {
    let git = &repo.git;
    let mut walk = git.revwalk()?;
    walk.push(new)?;
    if let Some(old) = old {
        walk.hide(old)?;
    }
    let mut out = Vec::new();
    for oid in walk {
        let commit = git.find_commit(oid?)?;
        let tree = commit.tree()?;
        let parents: Vec<Tree<'_>> = commit
            .parents()
            .map(|p| p.tree())
            .collect::<Result<_, _>>()?;
        // A root commit changes the root when it has one at all.
        let what = if parents.is_empty() {
            differences(repo, &tree, None, current)
        } else {
            // A merge changes it only when it differs from every parent.
            let each: Vec<Vec<String>> = parents
                .iter()
                .map(|p| differences(repo, &tree, Some(p), current))
                .collect();
            if each.iter().any(Vec::is_empty) {
                Vec::new()
            } else {
                each.into_iter().next().unwrap_or_default()
            }
        };
        if what.is_empty() || signed_by_listed(repo, signers, commit.id())? {
            continue;
        }
        out.push(UnsignedChange {
            commit: commit.id(),
            what,
        });
    }
    Ok(out)
}

/// What of the trust root differs between `new` and `old` (the empty tree when `None`).
fn differences(
    repo: &Repo,
    new: &Tree<'_>,
    old: Option<&Tree<'_>>,
    current: Option<&str>,
) -> Vec<String> {
    let (new_tables, new_named) = policy_root(repo, Some(new));
    let (old_tables, old_named) = policy_root(repo, old);
    let mut what = Vec::new();
    if new_tables != old_tables {
        what.push(format!("[gate]/[trust] in {POLICY_FILE}"));
    }
    let mut paths: Vec<String> = [current.map(str::to_string), new_named, old_named]
        .into_iter()
        .flatten()
        .collect();
    paths.sort();
    paths.dedup();
    for path in paths {
        if blob_at(Some(new), &path) != blob_at(old, &path) {
            what.push(path);
        }
    }
    what
}

/// The `[gate]` and `[trust]` tables of the policy in `tree` (its raw bytes when it does not
/// parse), and the signers file its `[trust]` names.
fn policy_root(repo: &Repo, tree: Option<&Tree<'_>>) -> (Option<Vec<u8>>, Option<String>) {
    let Some(id) = blob_at(tree, POLICY_FILE) else {
        return (None, None);
    };
    let Ok(blob) = repo.git.find_blob(id) else {
        return (Some(id.as_bytes().to_vec()), None);
    };
    let parsed = std::str::from_utf8(blob.content())
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok());
    let Some(table) = parsed else {
        return (Some(blob.content().to_vec()), None);
    };
    let named = table
        .get("trust")
        .and_then(|t| t.get("allowed_signers"))
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let root: toml::Table = table
        .into_iter()
        .filter(|(k, _)| k == "gate" || k == "trust")
        .collect();
    (Some(root.to_string().into_bytes()), named)
}

fn blob_at(tree: Option<&Tree<'_>>, path: &str) -> Option<Oid> {
    tree?.get_path(Path::new(path)).ok().map(|e| e.id())
}

/// Whether git accepts `commit`'s signature as made by a key `signers` lists. Only an SSH
/// signature can be: a GPG or X.509 one would be judged by whatever keyring the machine has.
fn signed_by_listed(repo: &Repo, signers: &AllowedSigners, commit: Oid) -> Result<bool, Error> {
    let ssh = repo
        .git
        .extract_signature(&commit, None)
        .is_ok_and(|(signature, _)| signature.starts_with(b"-----BEGIN SSH SIGNATURE-----"));
    if !ssh {
        return Ok(false);
    }
    let status = Command::new("git")
        .arg("--git-dir")
        .arg(repo.git.path())
        .arg("-c")
        .arg(format!(
            "gpg.ssh.allowedSignersFile={}",
            signers.path().display()
        ))
        // Never another signature program, whatever this machine's config says.
        .args(["-c", "gpg.program=false", "-c", "gpg.x509.program=false"])
        .arg("verify-commit")
        .arg(commit.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(Error::Spawn)?;
    Ok(status.success())
}
