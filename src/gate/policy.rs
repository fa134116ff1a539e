//! The committed policy as a candidate: an update that changes `.hybrid.toml` must leave a valid
//! policy behind, and an update that does nothing but repair a broken one must pass (or nothing
//! could ever repair it). It never loosens the rule for any other update.

use super::updates::parse_ref_updates;
use crate::change::Change;
use crate::config::{POLICY_FILE, Settings};
use crate::git::Repo;

/// Whether this hook's update does nothing but repair the committed policy: its only change is to
/// `.hybrid.toml`, and the new file is valid. Called only when the settings cannot be loaded
/// because the policy on the default branch is broken (it got there past the hooks): every other
/// update stays blocked, and this one must pass, or nothing could ever repair it.
pub fn repairs_policy(repo: &Repo, hook: &str, input: &str) -> bool {
    let default_ref = repo.default_branch_tip(None).map(|(name, _)| name);
    let only_policy = |old: Option<&git2::Tree<'_>>, new: &git2::Tree<'_>| -> bool {
        let Ok(change) = Change::between_trees(&repo.git, old, Some(new)) else {
            return false;
        };
        let [file] = change.files.as_slice() else {
            return false;
        };
        if file.path() != POLICY_FILE.as_bytes()
            || file.old.as_ref().is_some_and(|o| o.path != file.path())
        {
            return false;
        }
        let Ok(entry) = new.get_path(std::path::Path::new(POLICY_FILE)) else {
            return false;
        };
        let Ok(blob) = repo.git.find_blob(entry.id()) else {
            return false;
        };
        std::str::from_utf8(blob.content()).is_ok_and(|text| {
            Settings::validate_policy(text, POLICY_FILE, default_ref.as_deref()).is_ok()
        })
    };
    match hook {
        "pre-commit" | "pre-merge-commit" => {
            let Ok(head) = repo.head_tree() else {
                return false;
            };
            let staged = match repo.staged_tree() {
                Some(tree) => tree,
                None => {
                    let Ok(mut index) = repo.staged_index() else {
                        return false;
                    };
                    let Ok(id) = index.write_tree_to(&repo.git) else {
                        return false;
                    };
                    let Ok(tree) = repo.git.find_tree(id) else {
                        return false;
                    };
                    tree
                }
            };
            only_policy(head.as_ref(), &staged)
        }
        "reference-transaction" | "pre-receive" => {
            let Ok(updates) = parse_ref_updates(input) else {
                return false;
            };
            updates
                .iter()
                .filter(|u| {
                    !u.is_deletion()
                        && (u.refname.starts_with("refs/heads/")
                            || u.refname.starts_with("refs/tags/"))
                })
                .all(|u| {
                    let (Some(new), None) = (u.new, &u.new_target) else {
                        return false;
                    };
                    let old = u.old.and_then(|o| repo.tree_of(o).ok());
                    repo.tree_of(new).is_ok_and(|new| {
                        old.as_ref().is_some_and(|old| old.id() == new.id())
                            || only_policy(old.as_ref(), &new)
                    })
                })
        }
        _ => false,
    }
}

/// When an update changes the committed policy file, what is wrong with the new one, if anything.
pub(super) fn policy_problem(
    repo: &Repo,
    default_branch: Option<&str>,
    old: Option<&git2::Tree<'_>>,
    new: &git2::Tree<'_>,
) -> Result<Option<String>, crate::git::Error> {
    let path = std::path::Path::new(POLICY_FILE);
    let Ok(entry) = new.get_path(path) else {
        return Ok(None);
    };
    if old.and_then(|t| t.get_path(path).ok()).map(|e| e.id()) == Some(entry.id()) {
        return Ok(None);
    }
    let blob = repo.git.find_blob(entry.id())?;
    let Ok(text) = std::str::from_utf8(blob.content()) else {
        return Ok(Some("it is not UTF-8 text".into()));
    };
    let default_ref = repo
        .default_branch_tip(default_branch)
        .map(|(name, _)| name);
    Ok(
        Settings::validate_policy(text, POLICY_FILE, default_ref.as_deref())
            .err()
            .map(|e| e.to_string()),
    )
}
