//! Submodule pins (gitlinks) a candidate sets: which of them point into this repository, and so
//! are this gate's business even when the pinned commit is not here (yet).
//!
//! A pin to another repository's commit is that repository's business. A pin into this one to
//! a commit it does not hold is a promise of content the gate cannot see: the commit may arrive
//! later on a quarantine branch, and whoever checks the pin out then gets unreviewed output. So
//! such a pin blocks, and so does one whose submodule cannot be placed at all (no `.gitmodules`
//! entry says where it lives). Reading `.gitmodules` runs `git config --blob`, only for a pin
//! whose commit is missing, which almost never happens on a normal commit.

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
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(repo.common_dir())
        .args(["config", "--blob", &blob.to_string(), "-z", "--get-regexp"])
        .arg(r"^submodule\..*\.(path|url)$")
        .output()
        .ok()?;
    // Entries: key NEWLINE value NUL.
    let mut paths = Vec::new();
    let mut urls = Vec::new();
    for entry in out.stdout.split(|&b| b == 0).filter(|e| !e.is_empty()) {
        let text = String::from_utf8_lossy(entry);
        let (key, value) = text.split_once('\n')?;
        let (name, what) = key.strip_prefix("submodule.")?.rsplit_once('.')?;
        match what {
            "path" => paths.push((name.to_string(), value.to_string())),
            "url" => urls.push((name.to_string(), value.to_string())),
            _ => {}
        }
    }
    let (name, _) = paths
        .iter()
        .find(|(_, p)| p.trim_end_matches('/') == path)?;
    urls.into_iter().find(|(n, _)| n == name).map(|(_, u)| u)
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
