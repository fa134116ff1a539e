//! Submodule pins (gitlinks) a candidate sets: which of them point into this repository, and so
//! are this gate's business even when the pinned commit is not here (yet).
//!
//! A pin to another repository's commit is that repository's business. A pin into this one to
//! a commit it does not hold is a promise of content the gate cannot see: the commit may arrive
//! later on a quarantine branch, and whoever checks the pin out then gets unreviewed output. So
//! such a pin blocks, and so does one whose submodule cannot be placed at all (no `.gitmodules`
//! entry says where it lives). Reading `.gitmodules` runs `git config --blob`, only for a pin
//! whose commit is missing, which almost never happens on a normal commit.
//!
//! The other order of events: a protected branch already pins a commit into this repository
//! (it got there before the gate, or by a path no hook ran for), and a push brings that commit
//! later under a ref the gate does not guard. [`standing`] lists such pins so the server can judge
//! what the push makes them resolve to.

use std::process::Command;

use crate::change::Change;
use crate::git::Repo;

/// Where a pin whose commit this repository lacks lives, as far as `.gitmodules` says.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Home {
    /// Another repository: not this gate's to judge.
    Elsewhere,
    /// This repository (`.`, or a URL naming it).
    Here,
    /// No `.gitmodules` entry names the path.
    Unknown,
}

/// Where the submodule at `path` lives, from the `.gitmodules` the change brings, else the one
/// the default branch has (`baseline`).
pub(super) fn home(repo: &Repo, change: &Change, baseline: Option<git2::Oid>, path: &str) -> Home {
    let brought = change
        .files
        .iter()
        .find(|f| f.path() == b".gitmodules")
        .and_then(|f| f.new.as_ref().map(|n| n.id));
    let standing = baseline
        .and_then(|b| repo.tree_of(b).ok())
        .and_then(|t| t.get_path(std::path::Path::new(".gitmodules")).ok())
        .map(|e| e.id());
    for blob in [brought, standing].into_iter().flatten() {
        if let Some(url) = url_for(repo, blob, path) {
            return if points_here(repo, &url) {
                Home::Here
            } else {
                Home::Elsewhere
            };
        }
    }
    Home::Unknown
}

/// The URL `.gitmodules` (the blob `blob`) gives the submodule at `path`.
fn url_for(repo: &Repo, blob: git2::Oid, path: &str) -> Option<String> {
    entries(repo, blob)
        .into_iter()
        .find(|(p, _)| p == path)
        .map(|(_, url)| url)
}

/// A pin a protected branch holds into this repository.
#[derive(Debug)]
pub(super) struct Standing {
    pub refname: String,
    pub path: String,
    pub commit: git2::Oid,
}

/// Every pin the protected branches hold into this repository, as their `.gitmodules` places
/// them (a gitlink no `.gitmodules` entry places cannot be checked out by `git submodule`). Costs
/// one tree lookup per protected branch where there is no `.gitmodules`, the common case.
pub(super) fn standing(repo: &Repo, settings: &crate::config::Settings) -> Vec<Standing> {
    let mut out = Vec::new();
    let Ok(refs) = repo.git.references_glob("refs/heads/*") else {
        return out;
    };
    let mut read: std::collections::HashMap<git2::Oid, Vec<(String, String)>> = Default::default();
    for reference in refs.flatten() {
        let Ok(refname) = reference.name().map(str::to_string) else {
            continue;
        };
        if !settings.is_protected(&refname) {
            continue;
        }
        let Ok(tree) = reference.peel_to_tree() else {
            continue;
        };
        let Ok(modules) = tree.get_path(std::path::Path::new(".gitmodules")) else {
            continue;
        };
        let listed = read
            .entry(modules.id())
            .or_insert_with(|| entries(repo, modules.id()));
        for (path, url) in listed.iter() {
            let Ok(entry) = tree.get_path(std::path::Path::new(path)) else {
                continue;
            };
            if entry.filemode() == 0o160000 && points_here(repo, url) {
                out.push(Standing {
                    refname: refname.clone(),
                    path: path.clone(),
                    commit: entry.id(),
                });
            }
        }
    }
    out
}

/// Every (path, URL) pair the `.gitmodules` blob `blob` names.
fn entries(repo: &Repo, blob: git2::Oid) -> Vec<(String, String)> {
    let Ok(out) = Command::new("git")
        .arg("--git-dir")
        .arg(repo.common_dir())
        .args(["config", "--blob", &blob.to_string(), "-z", "--get-regexp"])
        .arg(r"^submodule\..*\.(path|url)$")
        .output()
    else {
        return Vec::new();
    };
    // Entries: key NEWLINE value NUL.
    let mut paths = Vec::new();
    let mut urls = Vec::new();
    for entry in out.stdout.split(|&b| b == 0).filter(|e| !e.is_empty()) {
        let text = String::from_utf8_lossy(entry);
        let Some((name, what, value)) = text.split_once('\n').and_then(|(key, value)| {
            let (name, what) = key.strip_prefix("submodule.")?.rsplit_once('.')?;
            Some((name, what, value))
        }) else {
            continue;
        };
        match what {
            "path" => paths.push((name.to_string(), value.to_string())),
            "url" => urls.push((name.to_string(), value.to_string())),
            _ => {}
        }
    }
    paths
        .into_iter()
        .filter_map(|(name, path)| {
            let url = urls.iter().find(|(n, _)| *n == name)?.1.clone();
            Some((path.trim_end_matches('/').to_string(), url))
        })
        .collect()
}

/// Whether a submodule URL names this repository: `.`/`./`, a relative URL that resolves to a
/// repository of this one's name, or the URL (or path) of one of its remotes or of itself.
fn points_here(repo: &Repo, url: &str) -> bool {
    let url = normal(url);
    if url.is_empty() || url == "." {
        return true;
    }
    let own_paths: Vec<String> = [Some(repo.common_dir()), repo.worktree()]
        .into_iter()
        .flatten()
        .map(|p| normal(&p.to_string_lossy()))
        .collect();
    let mut remotes: Vec<String> = Vec::new();
    if let Ok(names) = repo.git.remotes() {
        for name in names.iter().filter_map(|n| n.ok().flatten()) {
            if let Ok(remote) = repo.git.find_remote(name)
                && let Ok(u) = remote.url()
            {
                remotes.push(normal(u));
            }
        }
    }
    if url.starts_with("./") || url.starts_with("../") {
        let names: Vec<&str> = own_paths.iter().chain(&remotes).map(|u| last(u)).collect();
        return names.contains(&last(&url));
    }
    own_paths.contains(&url) || remotes.contains(&url)
}

/// A URL without what does not change where it points: surrounding space, trailing slashes,
/// a `.git` suffix, and a `/.git` directory.
fn normal(url: &str) -> String {
    let mut u = url.trim().trim_end_matches('/').to_string();
    for suffix in ["/.git", ".git"] {
        if let Some(stripped) = u.strip_suffix(suffix) {
            u = stripped.trim_end_matches('/').to_string();
        }
    }
    u
}

/// The last path component of a URL or path.
fn last(url: &str) -> &str {
    url.rsplit(['/', ':']).next().unwrap_or(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_normalise_to_where_they_point() {
        assert_eq!(
            normal("https://example.com/team/app.git/"),
            "https://example.com/team/app"
        );
        assert_eq!(normal("/srv/git/app/.git"), "/srv/git/app");
        assert_eq!(last("git@host:team/app"), "app");
        assert_eq!(last("host:app"), "app");
    }
}
