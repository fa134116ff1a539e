//! The repository as git2 sees it: opening it the way git's hooks expect (honouring `GIT_DIR`,
//! `GIT_INDEX_FILE`), the common dir that worktrees share, the hooks dir, resolving revisions to
//! trees, and the default branch.
//!
//! This module owns every call into git2 outside the change computation. It never runs the `git`
//! binary and never writes the index or the working tree: the gate only reads. The one ref it
//! writes is the store's marker (`refs/hybrid/store`), outside every namespace the gate guards.

mod cache_tree;

use std::path::{Path, PathBuf};

use git2::{ErrorCode, Index, ObjectType, Oid, Repository, Tree};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not inside a git repository ({})", .0.message())]
    NotARepo(#[source] git2::Error),
    #[error("cannot resolve {spec:?}: {}", source.message())]
    Resolve {
        spec: String,
        #[source]
        source: git2::Error,
    },
    #[error("{spec:?} does not point to a commit or tree")]
    NotATree { spec: String },
    #[error("cannot read the index {path}: {}", source.message())]
    Index {
        path: PathBuf,
        #[source]
        source: git2::Error,
    },
    #[error("git error: {}", .0.message())]
    Other(#[from] git2::Error),
}

pub type Result<T> = std::result::Result<T, Error>;

pub struct Repo {
    pub git: Repository,
}

impl Repo {
    /// Opens the repository the way git's own hooks see it: `GIT_DIR` and friends when set,
    /// otherwise discovered from the current directory.
    pub fn open() -> Result<Repo> {
        Repository::open_from_env()
            .map(|git| Repo { git })
            .map_err(Error::NotARepo)
    }

    pub fn at(path: &Path) -> Result<Repo> {
        Repository::discover(path)
            .map(|git| Repo { git })
            .map_err(Error::NotARepo)
    }

    /// The git dir shared by all worktrees; the store and the default hooks live there.
    pub fn common_dir(&self) -> &Path {
        self.git.commondir()
    }

    /// The top of this worktree, or `None` for a bare repository.
    pub fn worktree(&self) -> Option<&Path> {
        self.git.workdir()
    }

    /// Where git looks for hooks: `core.hooksPath` (with `~` expanded and a relative path taken
    /// from where hooks run, as git does), otherwise `<common dir>/hooks`.
    pub fn hooks_dir(&self) -> Result<PathBuf> {
        let Some(value) = self.hooks_path_setting()? else {
            return Ok(self.common_dir().join("hooks"));
        };
        // Expanded here, not by libgit2's get_path, which reports "not found" when the home
        // folder is missing — and "not found" must never be mistaken for "not set".
        let path = match value.strip_prefix('~') {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => {
                let home = std::env::var_os("HOME").unwrap_or_default();
                PathBuf::from(home).join(rest.trim_start_matches('/'))
            }
            _ => PathBuf::from(value),
        };
        if path.is_absolute() {
            Ok(path)
        } else {
            let base = self.worktree().unwrap_or_else(|| self.git.path());
            Ok(base.join(path))
        }
    }

    /// `core.hooksPath` as written (hook managers such as husky set it), or `None` when unset.
    pub fn hooks_path_setting(&self) -> Result<Option<String>> {
        match self.git.config()?.get_string("core.hooksPath") {
            Ok(value) => Ok(Some(value)),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The index a commit is being built from: `GIT_INDEX_FILE` when git set it (a temporary index
    /// for `commit -- path`, or `index.lock` for `commit -a`), otherwise the repository's own.
    pub fn staged_index(&self) -> Result<Index> {
        let path = self.staged_index_path();
        Index::open(&path).map_err(|source| Error::Index { path, source })
    }

    fn staged_index_path(&self) -> PathBuf {
        match std::env::var_os("GIT_INDEX_FILE") {
            Some(path) if !path.is_empty() => PathBuf::from(path),
            // A linked worktree's git dir holds its own index.
            _ => self.git.path().join("index"),
        }
    }

    /// The tree the staged index will commit, when git already wrote it (see `cache_tree`).
    pub fn staged_tree(&self) -> Option<Tree<'_>> {
        let oid = cache_tree::staged_root_tree(&self.git, &self.staged_index_path())?;
        self.git.find_tree(oid).ok()
    }

    /// HEAD's tree, or `None` on an unborn branch.
    pub fn head_tree(&self) -> Result<Option<Tree<'_>>> {
        match self.git.head() {
            Ok(head) => Ok(Some(head.peel_to_tree()?)),
            Err(e) if matches!(e.code(), ErrorCode::UnbornBranch | ErrorCode::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The ref HEAD points to (`refs/heads/main`), or `None` when HEAD is detached.
    pub fn head_ref(&self) -> Option<String> {
        let head = self.git.find_reference("HEAD").ok()?;
        head.symbolic_target().ok().flatten().map(str::to_string)
    }

    /// Resolves a revision to a commit id.
    pub fn commit_id(&self, spec: &str) -> Result<Oid> {
        let obj = self
            .git
            .revparse_single(spec)
            .map_err(|source| Error::Resolve {
                spec: spec.to_string(),
                source,
            })?;
        obj.peel_to_commit()
            .map(|c| c.id())
            .map_err(|source| Error::Resolve {
                spec: spec.to_string(),
                source,
            })
    }

    /// The tree of an object id (a commit, an annotated tag or a tree).
    pub fn tree_of(&self, oid: Oid) -> Result<Tree<'_>> {
        let obj = self.git.find_object(oid, None)?;
        if obj.kind() == Some(ObjectType::Blob) {
            return Err(Error::NotATree {
                spec: oid.to_string(),
            });
        }
        obj.peel_to_tree().map_err(|_| Error::NotATree {
            spec: oid.to_string(),
        })
    }

    /// The default branch's tip: the configured one, else what `origin/HEAD` names, else
    /// `init.defaultBranch`, else `main` or `master`. On a server (a bare repository) only the
    /// configured one or what `HEAD` names: a pushed `main` must not become where the policy is
    /// read from. A quarantine name (`refs/heads/hybrid/…`) is never the default branch. `None`
    /// when none of them exists.
    pub fn default_branch_tip(&self, configured: Option<&str>) -> Option<(String, Oid)> {
        let mut candidates: Vec<String> = Vec::new();
        if let Some(name) = configured {
            candidates.push(full_branch(name));
        }
        if self.git.is_bare() {
            if let Ok(head) = self.git.find_reference("HEAD")
                && let Ok(Some(target)) = head.symbolic_target()
            {
                candidates.push(target.to_string());
            }
            return self.first_commit_of(candidates);
        }
        if let Some((local, tracking)) = self.origin_head() {
            candidates.push(local);
            candidates.push(tracking);
        }
        if let Ok(config) = self.git.config()
            && let Ok(name) = config.get_string("init.defaultBranch")
        {
            candidates.push(full_branch(&name));
        }
        candidates.push("refs/heads/main".into());
        candidates.push("refs/heads/master".into());
        self.first_commit_of(candidates)
    }

    /// The branch `refs/remotes/origin/HEAD` names — origin's default branch as last fetched —
    /// as a local branch (`refs/heads/<name>`) and as the remote-tracking ref itself.
    pub fn origin_head(&self) -> Option<(String, String)> {
        let r = self.git.find_reference("refs/remotes/origin/HEAD").ok()?;
        let target = r.symbolic_target().ok().flatten()?.to_string();
        let short = target.strip_prefix("refs/remotes/origin/")?;
        Some((format!("refs/heads/{short}"), target))
    }

    /// The first of `names` that resolves to a commit, with it; quarantine names skipped.
    fn first_commit_of(&self, names: Vec<String>) -> Option<(String, Oid)> {
        names.into_iter().find_map(|name| {
            if name.starts_with(QUARANTINE_NAMESPACE) {
                return None;
            }
            let oid = self.git.refname_to_id(&name).ok()?;
            let commit = self
                .git
                .find_object(oid, None)
                .ok()?
                .peel_to_commit()
                .ok()?;
            Some((name, commit.id()))
        })
    }

    /// What a protected ref that does not exist yet is judged against: the tree the default
    /// branch already shows (its tip), never what its history contains — after `git merge -s
    /// ours hybrid/x` main's history holds the output while its tree does not, so a tag or branch
    /// made from that history must bring the output as new. `None` (the empty tree) when there is
    /// no default branch.
    pub fn baseline_for_new_ref(&self, configured: Option<&str>) -> Option<Oid> {
        self.default_branch_tip(configured).map(|(_, tip)| tip)
    }

    /// The same for a remote's new ref, as a push sees it: the remote's default branch as this
    /// clone last fetched it (`refs/remotes/<remote>/HEAD`, else the default branch's name under
    /// `refs/remotes/<remote>/`); `None` — the empty tree, everything judged — for a remote this
    /// clone never fetched from, or one named by URL. This clone's own default branch is no
    /// baseline for a remote: it may hold what no hook checked (`git branch -C`).
    pub fn remote_baseline(&self, remote: &str, configured: Option<&str>) -> Option<Oid> {
        let prefix = format!("refs/remotes/{remote}/");
        let mut candidates = Vec::new();
        if let Ok(r) = self.git.find_reference(&format!("{prefix}HEAD"))
            && let Ok(Some(target)) = r.symbolic_target()
        {
            candidates.push(target.to_string());
        }
        if let Some((name, _)) = self.default_branch_tip(configured)
            && let Some(short) = name.strip_prefix("refs/heads/")
        {
            candidates.push(format!("{prefix}{short}"));
        }
        candidates.into_iter().find_map(|name| {
            let oid = self.git.refname_to_id(&name).ok()?;
            Some(
                self.git
                    .find_object(oid, None)
                    .ok()?
                    .peel_to_commit()
                    .ok()?
                    .id(),
            )
        })
    }

    /// Where a brand-new ref's content starts: its merge-base with the default branch, or
    /// nothing (the empty tree) when there is no default branch or no common history.
    pub fn base_for_new_ref(&self, new: Oid, configured: Option<&str>) -> Option<Oid> {
        let (_, tip) = self.default_branch_tip(configured)?;
        let new_commit = self
            .git
            .find_object(new, None)
            .ok()?
            .peel_to_commit()
            .ok()?;
        self.git.merge_base(tip, new_commit.id()).ok()
    }
}

/// An index entry without stat data, for building a tree in memory (`Index::new`, then
/// `write_tree_to`) without a working tree.
pub fn index_entry(path: &[u8], mode: u32, id: Oid, size: usize) -> git2::IndexEntry {
    git2::IndexEntry {
        ctime: git2::IndexTime::new(0, 0),
        mtime: git2::IndexTime::new(0, 0),
        dev: 0,
        ino: 0,
        mode,
        uid: 0,
        gid: 0,
        file_size: u32::try_from(size).unwrap_or(u32::MAX),
        id,
        flags: 0,
        flags_extended: 0,
        path: path.to_vec(),
    }
}

/// Where local output lives by default: never a source of policy, whatever points there.
const QUARANTINE_NAMESPACE: &str = "refs/heads/hybrid/";

fn full_branch(name: &str) -> String {
    if name.starts_with("refs/") {
        name.to_string()
    } else {
        format!("refs/heads/{name}")
    }
}

/// A `git branch` rename or copy, as read from the command line of the git process that runs a
/// hook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BranchMove {
    pub copy: bool,
    /// The branch being renamed or copied; `None` means the current branch.
    pub source: Option<String>,
    pub dest: String,
}

/// The subcommand of a git command line and the arguments after it, past git's global options.
pub fn subcommand(argv: &[String]) -> Option<(&str, &[String])> {
    let mut i = 1;
    while let Some(arg) = argv.get(i) {
        match arg.as_str() {
            // Global options that take a separate value.
            "-C" | "-c" | "--git-dir" | "--work-tree" | "--namespace" | "--config-env"
            | "--super-prefix" => i += 2,
            a if a.starts_with('-') => i += 1,
            a => return Some((a, &argv[i + 1..])),
        }
    }
    None
}

/// `git [global options] branch … (-m|-M|-c|-C|--move|--copy) [<old>] <new>` → what it moves.
/// `None` for any other command line (other commands, aliases, nothing to read).
pub fn branch_move(argv: &[String]) -> Option<BranchMove> {
    let ("branch", args) = subcommand(argv)? else {
        return None;
    };
    let args = args.iter().map(String::as_str);
    let (mut moving, mut copy) = (false, false);
    let mut positional = Vec::new();
    let mut rest = args.peekable();
    while let Some(a) = rest.next() {
        match a {
            "--move" => moving = true,
            "--copy" => (moving, copy) = (true, true),
            "--" => positional.extend(rest.by_ref().map(str::to_string)),
            "-u" => {
                rest.next();
            }
            a if a.starts_with("--") => {}
            a if a.starts_with('-') => {
                for c in a.chars().skip(1) {
                    match c {
                        'm' | 'M' => moving = true,
                        'c' | 'C' => (moving, copy) = (true, true),
                        _ => {}
                    }
                }
            }
            a => positional.push(a.to_string()),
        }
    }
    if !moving {
        return None;
    }
    let mut positional = positional.into_iter();
    match (positional.next(), positional.next()) {
        (Some(dest), None) => Some(BranchMove {
            copy,
            source: None,
            dest,
        }),
        (Some(source), Some(dest)) => Some(BranchMove {
            copy,
            source: Some(source),
            dest,
        }),
        _ => None,
    }
}

impl Repo {
    pub fn has_ref(&self, name: &str) -> bool {
        self.git.find_reference(name).is_ok()
    }

    /// Points `name` at a blob holding `text` (a marker; written with libgit2, so no hook runs).
    /// The one place this module writes a ref.
    pub fn write_marker_ref(&self, name: &str, text: &str) -> Result<()> {
        let blob = self.git.blob(text.as_bytes())?;
        if self.git.refname_to_id(name).ok() == Some(blob) {
            return Ok(());
        }
        self.git
            .reference(name, blob, true, "git-hybrid: local output recorded")?;
        Ok(())
    }

    /// Whether git is in the middle of renaming a branch: it parks the branch's reflog here
    /// while it deletes the old name and before it writes the new one (files backend).
    pub fn rename_in_progress(&self) -> bool {
        self.common_dir()
            .join("logs/refs/.tmp-renamed-log")
            .exists()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(line: &str) -> Vec<String> {
        line.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn reads_branch_moves() {
        let m = |line| branch_move(&argv(line));
        assert_eq!(
            m("git branch -M hybrid/x main"),
            Some(BranchMove {
                copy: false,
                source: Some("hybrid/x".into()),
                dest: "main".into()
            })
        );
        assert_eq!(
            m("git -C /r -c a=b branch -f --copy x"),
            Some(BranchMove {
                copy: true,
                source: None,
                dest: "x".into()
            })
        );
        assert_eq!(m("git branch -qm a b").map(|b| b.dest), Some("b".into()));
        assert_eq!(m("git branch -D hybrid/x"), None);
        assert_eq!(m("git checkout -b x"), None);
        assert_eq!(m("git br -m a b"), None);
    }
}
