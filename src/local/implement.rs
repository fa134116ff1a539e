//! `implement`: a spec in, a commit on a quarantine branch out, recorded as local output.
//!
//! The commit is built in memory from HEAD's tree — no worktree, no checkout — so the user's
//! working tree, index and HEAD are never touched, and nothing is half-written when a step fails.
//! The order matters for the gate: the commit object is written first, then its lines are
//! recorded as a generation, and only then does the branch appear. A failure before the end
//! leaves no branch; a branch never exists whose lines the gate does not know.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use git2::{Index, ObjectType, Oid, Repository, Signature};

use super::edit;
use super::{Backend, ChatMessage};
use crate::config::Settings;
use crate::git::Repo;
use crate::provenance;
use crate::spec::{Spec, file_sections, paths_named, slug};
use crate::store::{self, GenerationRecord, Store, UsageRow};

/// Parse or apply errors are sent back to the model this many times before giving up.
pub const MAX_REPAIRS: usize = 2;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Spec(#[from] crate::spec::ReadError),
    #[error("HEAD has no commit yet: there is nothing to build on")]
    Unborn,
    #[error("implement needs a repository with a working tree (this one is bare)")]
    Bare,
    #[error(
        "{branch} is not a quarantine branch (refs/heads/hybrid/* by default); local output may only go there"
    )]
    NotQuarantine { branch: String },
    #[error("the branch {branch} already exists")]
    BranchExists { branch: String },
    #[error("the local model failed: {0}")]
    Backend(#[from] super::Error),
    #[error("the model did not finish its answer within {produced} tokens")]
    MaxTokens { produced: u64 },
    #[error("the model's answer could not be applied after {attempts} attempts: {last}")]
    Unusable { attempts: usize, last: edit::Error },
    #[error("git: {}", .0.message())]
    Git(#[from] git2::Error),
    #[error(transparent)]
    Repo(#[from] crate::git::Error),
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(transparent)]
    Provenance(#[from] provenance::Error),
}

/// What `implement` made.
#[derive(Clone, Debug)]
pub struct Implemented {
    pub branch: String,
    pub commit: Oid,
    pub generation_id: String,
    pub files: Vec<String>,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub wall: Duration,
    /// Time to the first token of the first answer (prompt reading, or model latency).
    pub first_token: Duration,
    pub attempts: usize,
    /// Files the context could not hold, said out loud rather than dropped silently.
    pub left_out: Vec<String>,
}

/// Files the spec names that exist at `tree`, then their neighbours in the same folders, within
/// `budget` tokens as the model counts them. Returns the context and what was left out.
fn context(
    repo: &Repository,
    tree: &git2::Tree<'_>,
    spec: &str,
    budget: usize,
    count: &dyn Fn(&str) -> usize,
) -> (String, Vec<String>) {
    let named: Vec<String> = paths_named(spec)
        .into_iter()
        .filter(|p| tree.get_path(Path::new(p)).is_ok())
        .collect();
    let mut neighbours = Vec::new();
    for path in &named {
        let folder = Path::new(path)
            .parent()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let entries = if folder.is_empty() {
            Some(tree.clone())
        } else {
            tree.get_path(Path::new(&folder))
                .ok()
                .and_then(|e| repo.find_tree(e.id()).ok())
        };
        for entry in entries.iter().flat_map(|t| t.iter()) {
            if entry.kind() != Some(ObjectType::Blob) {
                continue;
            }
            let name = entry.name().unwrap_or_default();
            let p = if folder.is_empty() {
                name.to_string()
            } else {
                format!("{folder}/{name}")
            };
            if !named.contains(&p) && !neighbours.contains(&p) {
                neighbours.push(p);
            }
        }
    }
    let paths: Vec<String> = named.into_iter().chain(neighbours).collect();
    file_sections(repo, tree, &paths, budget, count)
}

/// Existing files up to this many lines may only be rewritten whole where the backend enforces
/// a grammar (and only when a whole rewrite fits the answer's line budget).
const WHOLE_FILE_LINES: usize = 60;

const SYSTEM: &str = "You are a careful software engineer. You implement exactly what the spec asks, \
in the style of the surrounding code, with error handling and tests where the spec asks for them.";

/// What to implement, and how.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    pub spec: &'a Spec,
    /// The quarantine branch to create; `None` derives `hybrid/<slug>` from the spec's title.
    pub branch: Option<&'a str>,
    /// Tokens of repository context at most.
    pub context_tokens: usize,
    /// The daemon job running this, recorded with the generation.
    pub job_id: Option<i64>,
    /// Why this backend was chosen (the routing decision), kept with the generation.
    pub route: Option<serde_json::Value>,
    /// An existing quarantine branch to add a commit to (a fix), instead of a new branch from
    /// HEAD.
    pub onto: Option<&'a str>,
}

/// Runs the model on the spec and leaves its work on a quarantine branch.
pub fn implement(
    repo: &Repo,
    settings: &Settings,
    store: &mut Store,
    backend: &mut dyn Backend,
    request: &Request<'_>,
    progress: &mut dyn FnMut(&str),
) -> Result<Implemented, Error> {
    let Request {
        spec,
        branch,
        context_tokens,
        job_id,
        route,
        onto,
    } = request.clone();
    let git = &repo.git;
    let (base, branch) = match onto {
        Some(existing) => {
            let name = existing.trim_start_matches("refs/heads/").to_string();
            if !settings.is_quarantine(&format!("refs/heads/{name}")) {
                return Err(Error::NotQuarantine { branch: name });
            }
            let tip = git
                .find_reference(&format!("refs/heads/{name}"))
                .and_then(|r| r.peel_to_commit())?;
            (tip, name)
        }
        None => {
            let head = git
                .head()
                .ok()
                .and_then(|h| h.peel_to_commit().ok())
                .ok_or(Error::Unborn)?;
            (head, pick_branch(git, settings, branch, &spec.title)?)
        }
    };
    let base_tree = base.tree()?;

    let (files, left_out) = context(git, &base_tree, &spec.text, context_tokens, &|t| {
        backend.count_tokens(t)
    });
    // Where the backend can enforce it, the answer may only touch the files the spec names.
    let (existing, new): (Vec<String>, Vec<String>) = paths_named(&spec.text)
        .into_iter()
        .filter(|p| *p != spec.path)
        .partition(|p| base_tree.get_path(Path::new(p)).is_ok());
    // Bounded so that an answer can end within the token limit: lines are at most 120
    // characters, which rarely take more than 40 tokens.
    let max_lines = backend.max_tokens().map_or(400, |t| t as usize / 40);
    // A small file is rewritten whole: it costs about what a SEARCH/REPLACE pair costs, and it
    // cannot fail to apply — small models rarely copy SEARCH lines exactly.
    let whole_up_to = WHOLE_FILE_LINES.min(max_lines * 3 / 4);
    let (small, existing): (Vec<String>, Vec<String>) = existing.into_iter().partition(|p| {
        base_tree
            .get_path(Path::new(p))
            .ok()
            .and_then(|e| git.find_blob(e.id()).ok())
            .is_some_and(|b| {
                b.content()
                    .split(|c| *c == b'\n')
                    .filter(|l| !l.is_empty())
                    .count()
                    <= whole_up_to
            })
    });
    let whole: Vec<String> = new.iter().chain(&small).cloned().collect();
    backend.constrain(&edit::grammar(&whole, &existing, max_lines));
    let mut messages = vec![
        ChatMessage {
            role: "system",
            content: format!("{SYSTEM}\n\n{}", edit::INSTRUCTIONS),
        },
        ChatMessage {
            role: "user",
            content: format!(
                "Spec ({}):\n\n{}\n\nRepository files for context:\n\n{}",
                spec.path, spec.text, files
            ),
        },
    ];
    let started = Instant::now();
    let model = backend.model().to_string();
    let (mut tokens_in, mut tokens_out) = (0, 0);
    let mut usd = Some(0.0);
    let mut first_token = None;
    let mut attempts = 0;
    let changed = loop {
        attempts += 1;
        progress(&format!("generating with {model} (attempt {attempts})"));
        let generated = backend.generate(&messages, &mut |n| {
            progress(&format!(
                "generating with {model} (attempt {attempts}): {n} received"
            ))
        })?;
        tracing::trace!(answer = %generated.text, "local model answer");
        first_token.get_or_insert(generated.first_token);
        usd = usd.zip(backend.cost_usd(&generated)).map(|(a, b)| a + b);
        tokens_in += generated.tokens_in;
        tokens_out += generated.tokens_out;
        if generated.truncated {
            // Asking again would stop at the same limit: say so instead.
            return Err(Error::MaxTokens {
                produced: generated.tokens_out,
            });
        }
        let result = edit::parse(&generated.text)
            .and_then(|edits| edit::apply(&edits, |path| read_file(git, &base_tree, path)));
        match result {
            Ok(changed) => break changed,
            Err(e) if attempts <= MAX_REPAIRS => {
                tracing::info!(attempt = attempts, error = %e, "asking the model again");
                messages.push(ChatMessage {
                    role: "assistant",
                    content: generated.text,
                });
                messages.push(ChatMessage {
                    role: "user",
                    content: format!(
                        "Your answer could not be applied: {e}. Answer again with the complete set of blocks, in the format described."
                    ),
                });
            }
            Err(last) => return Err(Error::Unusable { attempts, last }),
        }
    };
    let wall = started.elapsed();

    let tree = build_tree(git, &base_tree, &changed)?;
    let generation_id = new_generation_id(&spec.text, base.id(), backend.model());
    let message = format!(
        "hybrid: {}\n\nGenerated from {} by {} ({}).\n\nHybrid-Generation: {generation_id}\nHybrid-Model: {}\nHybrid-Spec: {}\n",
        spec.title,
        spec.path,
        backend.model(),
        backend.provider().as_str(),
        backend.model(),
        spec.path
    );
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
        &[&base],
    )?;
    let range = provenance::Range {
        base: Some(base.id()),
        tip: commit,
        branch: Some(format!("refs/heads/{branch}")),
        display: branch.clone(),
    };
    let change = range.change(repo)?;
    let existing = provenance::tree_fingerprints(repo, &base_tree)?;
    store.record_generation(&GenerationRecord {
        id: generation_id.clone(),
        kind: "implement",
        model: Some(backend.model().to_string()),
        spec_path: Some(spec.path.clone()),
        branch: range.branch.clone(),
        base_commit: Some(base.id().to_string()),
        result_commit: commit.to_string(),
        change_id: change.id().to_string(),
        // Cloud output is not local output: nothing of it is for the gate to stop.
        lines: if backend.is_local() {
            provenance::recordable(repo, &[&change], &existing)
        } else {
            Vec::new()
        },
        job_id,
        stats: Some((
            tokens_in as i64,
            tokens_out as i64,
            wall.as_millis() as i64,
            serde_json::json!({
                "backend": backend.provider().as_str(),
                "model": backend.identity(),
                "attempts": attempts,
                "context_tokens": context_tokens,
                "route": route,
            })
            .to_string(),
        )),
    })?;
    if backend.is_local() {
        provenance::mark_records(repo)?;
    }
    store.record_usage(&UsageRow {
        // Work added onto a reviewed branch is the fix loop's, and the ledger says so.
        phase: if onto.is_some() { "fix" } else { "implement" }.into(),
        provider: backend.provider(),
        model: backend.model().into(),
        input_tokens: tokens_in as i64,
        output_tokens: tokens_out as i64,
        usd,
        wall_ms: wall.as_millis() as i64,
        ok: true,
        ..UsageRow::default()
    })?;
    // Last: the branch. A new one must not exist yet; an extended one must still be where the
    // fix started from, so a concurrent change is never overwritten.
    let refname = format!("refs/heads/{branch}");
    let log = format!("git-hybrid implement {}", spec.path);
    if onto.is_some() {
        git.reference_matching(&refname, commit, true, base.id(), &log)?;
    } else {
        git.reference(&refname, commit, false, &log)?;
    }
    Ok(Implemented {
        branch,
        commit,
        generation_id,
        files: changed.keys().cloned().collect(),
        tokens_in,
        tokens_out,
        wall,
        first_token: first_token.unwrap_or_default(),
        attempts,
        left_out,
    })
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

fn read_file(git: &Repository, tree: &git2::Tree<'_>, path: &str) -> Option<String> {
    let entry = tree.get_path(Path::new(path)).ok()?;
    let blob = git.find_blob(entry.id()).ok()?;
    String::from_utf8(blob.content().to_vec()).ok()
}

/// The base tree with the changed files written in, as a new tree object.
fn build_tree(
    git: &Repository,
    base: &git2::Tree<'_>,
    changed: &BTreeMap<String, String>,
) -> Result<Oid, Error> {
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

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn slugs() {
        assert_eq!(
            slug("Add `parse_port` (with tests)!"),
            "add-parse-port-with-tests"
        );
        assert_eq!(slug("###"), "change");
        assert!(slug(&"word ".repeat(40)).len() <= 48);
    }
}
