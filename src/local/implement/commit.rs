//! Turning a usable answer into history: the base and the branch name, the tree and commit
//! object, the generation record (lines, stats, the check's outcome), and last the branch.

use std::path::Path;
use std::time::Duration;

use git2::{Index, Oid, Repository, Signature};

use super::super::Backend;
use super::answer::Changed;
use super::{Error, Request};
use crate::config::Settings;
use crate::git::Repo;
use crate::provenance;
use crate::spec::slug;
use crate::store::{CheckRecord, GenerationRecord, Store};

/// The commit to build on and the branch to create or extend.
pub(super) fn base_and_branch<'r>(
    git: &'r Repository,
    settings: &Settings,
    request: &Request<'_>,
) -> Result<(git2::Commit<'r>, String), Error> {
    match request.onto {
        Some(existing) => {
            let name = existing.trim_start_matches("refs/heads/").to_string();
            if !settings.is_quarantine(&format!("refs/heads/{name}")) {
                return Err(Error::NotQuarantine { branch: name });
            }
            let tip = git
                .find_reference(&format!("refs/heads/{name}"))
                .and_then(|r| r.peel_to_commit())?;
            Ok((tip, name))
        }
        None => {
            let head = git
                .head()
                .ok()
                .and_then(|h| h.peel_to_commit().ok())
                .ok_or(Error::Unborn)?;
            let branch = pick_branch(git, settings, request.branch, &request.spec.title)?;
            Ok((head, branch))
        }
    }
}

fn pick_branch(
    git: &Repository,
    settings: &Settings,
    wanted: Option<&str>,
    title: &str,
) -> Result<String, Error> {
    let exists = |b: &str| git.find_reference(&format!("refs/heads/{b}")).is_ok();
    match wanted {
        Some(b) => {
            let b = b.trim_start_matches("refs/heads/").to_string();
            if !settings.is_quarantine(&format!("refs/heads/{b}")) {
                return Err(Error::NotQuarantine { branch: b });
            }
            if exists(&b) {
                return Err(Error::BranchExists { branch: b });
            }
            Ok(b)
        }
        None => {
            let stem = format!("hybrid/{}", slug(title));
            (1..100)
                .map(|n| {
                    if n == 1 {
                        stem.clone()
                    } else {
                        format!("{stem}-{n}")
                    }
                })
                .find(|b| !exists(b))
                .ok_or(Error::BranchExists { branch: stem })
        }
    }
}

pub(super) fn read_file(git: &Repository, tree: &git2::Tree<'_>, path: &str) -> Option<String> {
    let entry = tree.get_path(Path::new(path)).ok()?;
    let blob = git.find_blob(entry.id()).ok()?;
    String::from_utf8(blob.content().to_vec()).ok()
}

/// What the attempts produced, to be committed.
pub(super) struct Made<'a, 'r> {
    pub base: &'a git2::Commit<'r>,
    pub base_tree: &'a git2::Tree<'r>,
    pub branch: &'a str,
    pub changed: &'a Changed,
    pub check: Option<&'a CheckRecord>,
    pub tokens: (u64, u64),
    pub wall: Duration,
    pub attempts: usize,
}

/// The commit and the generation recorded for it.
pub(super) struct Committed {
    pub commit: Oid,
    pub generation_id: String,
}

/// Writes the commit object, records it as a generation, then creates (or moves) the branch.
pub(super) fn record_and_branch(
    repo: &Repo,
    store: &mut Store,
    backend: &dyn Backend,
    request: &Request<'_>,
    made: &Made<'_, '_>,
) -> Result<Committed, Error> {
    let git = &repo.git;
    let spec = request.spec;
    let tree = build_tree(git, made.base_tree, made.changed)?;
    let generation_id = new_generation_id(&spec.text, made.base.id(), backend.model());
    let mut message = format!(
        "hybrid: {}\n\nGenerated from {} by {} ({}).\n",
        spec.title,
        spec.path,
        backend.model(),
        backend.provider(),
    );
    if let Some(check) = made.check {
        message.push_str(&format!("Check: {}.\n", check.summary()));
    }
    message.push_str(&format!(
        "\nHybrid-Generation: {generation_id}\nHybrid-Model: {}\nHybrid-Spec: {}\n",
        backend.model(),
        spec.path
    ));
    let signature = git
        .signature()
        .or_else(|_| Signature::now("git-hybrid", "git-hybrid@localhost"))?;
    // The commit object first, without a ref: nothing points at it until it is recorded.
    let commit = git.commit(
        None,
        &signature,
        &signature,
        &message,
        &git.find_tree(tree)?,
        &[made.base],
    )?;
    let range = provenance::Range {
        base: Some(made.base.id()),
        base_name: None,
        tip: commit,
        branch: Some(format!("refs/heads/{}", made.branch)),
        display: made.branch.to_string(),
    };
    let change = range.change(repo)?;
    let existing = provenance::tree_fingerprints(repo, made.base_tree)?;
    let recorded = if backend.is_local() {
        provenance::recordable(repo, &[&change], &existing, Some(made.base.id()))
    } else {
        provenance::Recordable::default()
    };
    store.record_generation(&GenerationRecord {
        id: generation_id.clone(),
        kind: "implement".into(),
        model: Some(backend.model().to_string()),
        spec_path: Some(spec.path.clone()),
        branch: range.branch.clone(),
        base_commit: Some(made.base.id().to_string()),
        result_commit: commit.to_string(),
        change_id: change.id().to_string(),
        // Cloud output is not local output: nothing of it is for the gate to stop.
        lines: recorded.lines,
        edits: recorded.edits,
        tokens: recorded.tokens,
        job_id: request.job_id,
        stats: Some((
            made.tokens.0 as i64,
            made.tokens.1 as i64,
            made.wall.as_millis() as i64,
            serde_json::json!({
                "backend": backend.provider().as_str(),
                "model": backend.identity(),
                "attempts": made.attempts,
                "context_tokens": request.context_tokens,
                "edit_format": request.edit_format,
                "route": request.route,
            })
            .to_string(),
        )),
        check: made.check.cloned(),
    })?;
    if backend.is_local() {
        provenance::mark_records(repo)?;
    }
    // Last: the branch. A new one must not exist yet; an extended one must still be where the
    // fix started from, so a concurrent change is never overwritten.
    let refname = format!("refs/heads/{}", made.branch);
    let log = format!("git-hybrid implement {}", spec.path);
    if request.onto.is_some() {
        git.reference_matching(&refname, commit, true, made.base.id(), &log)?;
    } else {
        git.reference(&refname, commit, false, &log)?;
    }
    Ok(Committed {
        commit,
        generation_id,
    })
}

/// The base tree with the changed files written in, as a new tree object.
fn build_tree(git: &Repository, base: &git2::Tree<'_>, changed: &Changed) -> Result<Oid, Error> {
    let mut index = Index::new()?;
    index.read_tree(base)?;
    for (path, content) in changed {
        let mode = base
            .get_path(Path::new(path))
            .map(|e| e.filemode() as u32)
            .ok()
            .filter(|m| *m == 0o100755)
            .unwrap_or(0o100644);
        let id = git.blob(content.as_bytes())?;
        index.add(&crate::git::index_entry(
            path.as_bytes(),
            mode,
            id,
            content.len(),
        ))?;
    }
    Ok(index.write_tree_to(git)?)
}

fn new_generation_id(spec: &str, base: Oid, model: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    provenance::id_of(&[
        b"implement",
        spec.as_bytes(),
        base.as_bytes(),
        model.as_bytes(),
        &now.to_le_bytes(),
    ])
}
