//! Provenance: turning a change into a recorded generation of local output (ARCHITECTURE §4).
//!
//! Every non-trivial added line is fingerprinted and stored with its generation, path and line;
//! binary files are recorded by blob id. This is what the gate later recognises, wherever the
//! lines turn up. Lines that already existed anywhere in the base tree are not recorded: they are
//! not the model's own (a moved block, a common import), and recording them is what makes human
//! commits look like local output — on real crates it cut flagged human commits from 30% to 2.5%
//! (`cargo bench --bench fingerprint_accuracy`). `adopt` uses it for commits another tool made; `implement` will use it for its
//! own. It never changes the repository.

use std::collections::HashSet;

use git2::{ObjectType, Oid, Tree, TreeWalkMode, TreeWalkResult};
use sha2::{Digest, Sha256};

use crate::change::{self, Change, Fingerprint};
use crate::git::{self, Repo};
use crate::store::{self, GenerationRecord, Store};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Git(#[from] git::Error),
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(transparent)]
    Change(#[from] change::Error),
    #[error("{range} changes nothing, so there is no output to record")]
    Empty { range: String },
}

/// A resolved commit range: `base` is `None` for a root commit (the empty tree).
#[derive(Clone, Debug)]
pub struct Range {
    pub base: Option<Oid>,
    /// The base as the range named it (`origin/main` of `origin/main..HEAD`); `None` for a
    /// single revision and for `A...B`, whose base is a merge-base.
    pub base_name: Option<String>,
    pub tip: Oid,
    /// The branch the tip was named by, when it was named by one.
    pub branch: Option<String>,
    pub display: String,
}

impl Range {
    /// `A..B`; `A...B`, B against its merge-base with A (what `git diff A...B` shows); either
    /// side empty meaning HEAD; or a single revision, that commit against its first parent.
    pub fn parse(repo: &Repo, spec: &str) -> Result<Range, git::Error> {
        let sides = spec
            .split_once("...")
            .map(|(a, b)| (a, b, "..."))
            .or_else(|| spec.split_once("..").map(|(a, b)| (a, b, "..")));
        let (base, base_name, tip_spec) =
            match sides {
                Some((a, b, dots)) => {
                    let named = (!a.is_empty()).then(|| a.to_string());
                    let a = if a.is_empty() { "HEAD" } else { a };
                    let b = if b.is_empty() { "HEAD" } else { b };
                    // git2 reads the range as git does; a side it cannot resolve is resolved alone
                    // for an error that names it.
                    let parsed = repo
                        .git
                        .revparse(&format!("{a}{dots}{b}"))
                        .map_err(|source| {
                            repo.commit_id(a)
                                .and_then(|_| repo.commit_id(b))
                                .err()
                                .unwrap_or(git::Error::Resolve {
                                    spec: spec.to_string(),
                                    source,
                                })
                        })?;
                    let commit = |side: Option<&git2::Object<'_>>, name: &str| match side {
                        Some(o) => o.peel_to_commit().map(|c| c.id()).map_err(|source| {
                            git::Error::Resolve {
                                spec: name.to_string(),
                                source,
                            }
                        }),
                        None => repo.commit_id(name),
                    };
                    let (from, to) = (commit(parsed.from(), a)?, commit(parsed.to(), b)?);
                    if parsed.mode().contains(git2::RevparseMode::MERGE_BASE) {
                        let base = repo.git.merge_base(from, to).map_err(|source| {
                            git::Error::Resolve {
                                spec: spec.to_string(),
                                source,
                            }
                        })?;
                        (Some(base), None, b)
                    } else {
                        (Some(from), named, b)
                    }
                }
                None => (None, None, spec),
            };
        let tip = repo.commit_id(tip_spec)?;
        let base = match base {
            Some(b) => Some(b),
            None => repo.git.find_commit(tip)?.parent_ids().next(),
        };
        let branch = repo
            .git
            .resolve_reference_from_short_name(tip_spec)
            .ok()
            .filter(|r| r.is_branch())
            .and_then(|r| r.name().ok().map(str::to_string));
        Ok(Range {
            base,
            base_name,
            tip,
            branch,
            display: spec.to_string(),
        })
    }

    /// What every command means by a target, the same for `review`, `show`, `verify`, `adopt`
    /// and `fix`: `A..B` as given; a branch, everything on it since its merge-base with the
    /// default branch; any other revision (`HEAD`, a commit, a tag, a branch the default branch
    /// already contains), that commit against its first parent.
    pub fn of_target(
        repo: &Repo,
        spec: &str,
        default_branch: Option<&str>,
    ) -> Result<Range, git::Error> {
        Ok(Range::parse(repo, spec)?.whole_branch(repo, default_branch))
    }

    /// A branch name means everything on it since its merge-base with the default branch (what
    /// another tool's session left there), not just its tip; other revisions are unchanged.
    pub fn whole_branch(self, repo: &Repo, default_branch: Option<&str>) -> Range {
        if self.branch.is_none() || self.display.contains("..") {
            return self;
        }
        match repo.base_for_new_ref(self.tip, default_branch) {
            // The default branch itself, or a branch it already contains: its tip commit.
            Some(base) if base == self.tip => self,
            base => Range { base, ..self },
        }
    }

    /// The commits of the range, newest first, leaving out merges (what a merge brings in from
    /// its other parents is someone else's work, and the range's own change still holds it).
    pub fn commits(&self, repo: &Repo) -> Result<Vec<Oid>, Error> {
        let mut walk = repo.git.revwalk().map_err(git::Error::from)?;
        walk.push(self.tip).map_err(git::Error::from)?;
        if let Some(base) = self.base {
            walk.hide(base).map_err(git::Error::from)?;
        }
        let mut out = Vec::new();
        for oid in walk {
            let oid = oid.map_err(git::Error::from)?;
            let commit = repo.git.find_commit(oid).map_err(git::Error::from)?;
            if commit.parent_count() <= 1 {
                out.push(oid);
            }
        }
        Ok(out)
    }

    pub fn change(&self, repo: &Repo) -> Result<Change, Error> {
        let old = self.base.map(|b| repo.tree_of(b)).transpose()?;
        let new = repo.tree_of(self.tip)?;
        Ok(Change::between_trees(&repo.git, old.as_ref(), Some(&new))?)
    }
}

/// Lock files: written by package managers, not by anyone's hand or model, and full of lines
/// (`version = "0.4.7"`) that every project repeats. Recording them made human dependency bumps
/// look like local output in the same-repository replay (`benches/fp_replay.py`).
const LOCK_FILES: &[&str] = &[
    "Cargo.lock",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lock",
    "poetry.lock",
    "Pipfile.lock",
    "uv.lock",
    "pdm.lock",
    "Gemfile.lock",
    "composer.lock",
    "go.sum",
    "flake.lock",
    "mix.lock",
    "pubspec.lock",
    "Podfile.lock",
    "packages.lock.json",
    "gradle.lockfile",
];

/// Whether a path is a lock file, by name: generated content provenance leaves out.
fn is_lock_file(path: &[u8]) -> bool {
    let name = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
    LOCK_FILES.iter().any(|l| l.as_bytes() == name)
}

/// The paths among `paths` that the attributes committed in `base` mark `linguist-generated`.
/// Read with git itself (`git check-attr --source`), from the base as committed — never from the
/// working tree or the index, which may be the recorded change's own: output must not decide
/// what of itself is recorded. When git cannot answer, nothing is left out (stricter, never
/// looser).
fn generated_at(repo: &Repo, base: Option<Oid>, paths: &[&[u8]]) -> HashSet<Vec<u8>> {
    use std::io::Write;
    let mut out = HashSet::new();
    let source = match base {
        Some(b) => repo.tree_of(b).map(|t| t.id()).ok(),
        None => repo.git.treebuilder(None).and_then(|b| b.write()).ok(),
    };
    let (Some(source), false) = (source, paths.is_empty()) else {
        return out;
    };
    // `--git-dir`, no work tree: the attributes are the source tree's alone.
    let child = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(repo.git.path())
        .env_remove("GIT_WORK_TREE")
        .args(["check-attr", "-z", "--stdin"])
        .arg(format!("--source={source}"))
        .arg("linguist-generated")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn();
    let Ok(mut child) = child else {
        return out;
    };
    if let Some(mut stdin) = child.stdin.take() {
        let mut input = Vec::new();
        for p in paths {
            input.extend_from_slice(p);
            input.push(0);
        }
        // A failed write shows as a failed command below.
        let _ = stdin.write_all(&input);
    }
    let Ok(done) = child.wait_with_output() else {
        return out;
    };
    if !done.status.success() {
        tracing::debug!("git check-attr failed; no file is left out as generated");
        return out;
    }
    // <path> NUL <attribute> NUL <value> NUL, for each path.
    let fields: Vec<&[u8]> = done.stdout.split(|&b| b == 0).collect();
    for triple in fields.chunks(3) {
        if let [path, _, value] = triple
            && (*value == b"set" || *value == b"true")
        {
            out.insert(path.to_vec());
        }
    }
    out
}

/// What provenance records of a generation's changes.
#[derive(Default)]
pub struct Recordable {
    /// Fingerprints of added lines that are new against the base (binary files always): how
    /// the gate finds the output wherever it turns up.
    pub lines: Vec<(Fingerprint, Vec<u8>, u32)>,
    /// The exact identity of every line added or removed, trivial ones included: how the gate
    /// knows the generation's own change when a protected update brings it.
    pub edits: Vec<Fingerprint>,
    /// Token fingerprints of the runs of added lines that are new against the base: how the gate
    /// finds the output after a formatter re-laid it out.
    pub tokens: Vec<Fingerprint>,
}

/// What provenance records of `changes`, outside generated files — lock files, and files the
/// attributes committed in `base` mark `linguist-generated`: the fingerprints of added lines
/// that are new against `existing`, and every edit.
pub fn recordable(
    repo: &Repo,
    changes: &[&Change],
    existing: &HashSet<Fingerprint>,
    base: Option<Oid>,
) -> Recordable {
    let mut seen = HashSet::new();
    let paths: Vec<&[u8]> = changes
        .iter()
        .flat_map(|c| c.files.iter().map(|f| f.path()))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    // One git process for every path: an attribute lookup reads .gitattributes files.
    let generated = generated_at(repo, base, &paths);
    let recorded = |path: &[u8]| !is_lock_file(path) && !generated.contains(path);
    let lines = changes
        .iter()
        .flat_map(|c| c.fingerprints())
        .filter(|(fp, _, line)| *line == 0 || !existing.contains(fp))
        .filter(|(_, path, _)| recorded(path))
        .filter(|(fp, _, _)| seen.insert(*fp))
        .map(|(fp, path, line)| (fp, path.to_vec(), line))
        .collect();
    // Every removed line (a deletion, the far half of a move or of a whitespace change), and
    // every added line but those that say nothing of who wrote them: blank lines, and lines the
    // base tree already had (a moved block, repeated boilerplate — as for fingerprints). Short
    // lines stay: they have no fingerprint, and their edit is all that finds them.
    let edits: std::collections::BTreeSet<Fingerprint> = changes
        .iter()
        .flat_map(|c| c.edits())
        .filter(|e| recorded(e.path))
        .filter(|e| {
            e.removed
                || (!e.bytes.iter().all(u8::is_ascii_whitespace)
                    && change::fingerprint(e.bytes).is_none_or(|fp| !existing.contains(&fp)))
        })
        .map(|e| e.edit)
        .collect();
    // What the base's version of each touched file already says, token run by token run (the
    // old half of a line the generation edited, an idiom the file repeats): the base's text,
    // never the generation's output, whatever run of its lines it turns up in. A file that
    // cannot be read subtracts nothing (more is recorded, never less).
    let mut base_runs: HashSet<Fingerprint> = HashSet::new();
    for (old, _) in changes
        .iter()
        .flat_map(|c| c.files.iter())
        .filter(|f| f.old.is_some() && recorded(f.path()))
        .filter_map(|f| change::readable_text(&repo.git, f).ok().flatten())
    {
        let lines: Vec<&[u8]> = old.split_inclusive(|&b| b == b'\n').collect();
        base_runs.extend(change::tokens::runs(&change::tokens::tokens(
            lines.iter().copied(),
        )));
        base_runs.extend(lines.iter().filter_map(|l| change::tokens::line_hash(l)));
    }
    // Runs of added lines, cut where the base already had a line: what the base shows is no
    // one's output, wherever a formatter moves it.
    let tokens: std::collections::BTreeSet<Fingerprint> = changes
        .iter()
        .flat_map(|c| c.added_runs())
        .filter(|run| recorded(run.path))
        .flat_map(|run| {
            run.lines
                .split(|l| change::fingerprint(l.bytes).is_some_and(|fp| existing.contains(&fp)))
                .flat_map(|piece| {
                    let tokens = change::tokens::tokens(piece.iter().map(|l| l.bytes));
                    // Each significant line's own token hash too: found in place after a
                    // formatter re-quoted or re-punctuated it.
                    let lines = piece
                        .iter()
                        .filter(|l| change::fingerprint(l.bytes).is_some())
                        .filter_map(|l| change::tokens::line_hash(l.bytes));
                    change::tokens::winnow(&tokens)
                        .into_iter()
                        .map(|k| k.hash)
                        .chain(lines)
                        .filter(|h| !base_runs.contains(h))
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>()
        })
        .collect();
    Recordable {
        lines,
        edits: edits.into_iter().collect(),
        tokens: tokens.into_iter().collect(),
    }
}

/// Files larger than this are left out of the base's line set: data, not code anyone pastes from.
const MAX_BASE_BLOB: usize = 4 << 20;

/// The fingerprints of every line of every text file in a tree.
pub fn tree_fingerprints(repo: &Repo, tree: &Tree<'_>) -> Result<HashSet<Fingerprint>, Error> {
    let mut out = HashSet::new();
    let mut failure = None;
    tree.walk(TreeWalkMode::PreOrder, |_, entry| {
        if entry.kind() != Some(ObjectType::Blob) || entry.filemode() & 0o170000 != 0o100000 {
            return TreeWalkResult::Ok;
        }
        match repo.git.find_blob(entry.id()) {
            Ok(blob) if blob.size() <= MAX_BASE_BLOB => {
                // Read as the gate reads added lines: a UTF-16 or NUL-bearing file's lines are
                // lines of the base too.
                let text = if blob.is_binary() {
                    change::text::decode(blob.content()).map(|(t, _)| t)
                } else {
                    Some(blob.content().to_vec())
                };
                if let Some(text) = text {
                    // A JSON or YAML string's lines are lines of the base as the gate reads
                    // them too.
                    let name = entry.name_bytes();
                    let embedded = change::embedded::applies(name)
                        .then(|| change::embedded::expanded(&text))
                        .flatten();
                    for text in [Some(text), embedded].into_iter().flatten() {
                        out.extend(
                            text.split_inclusive(|&b| b == b'\n')
                                .filter_map(change::fingerprint),
                        );
                    }
                }
                TreeWalkResult::Ok
            }
            Ok(_) => TreeWalkResult::Ok,
            Err(e) => {
                failure = Some(e);
                TreeWalkResult::Abort
            }
        }
    })
    .map_err(git::Error::from)?;
    match failure {
        Some(e) => Err(Error::Git(e.into())),
        None => Ok(out),
    }
}

/// What `adopt` recorded.
#[derive(Clone, Debug)]
pub struct Adopted {
    pub generation_id: String,
    pub newly_recorded: bool,
    pub files: usize,
    pub added_lines: usize,
    pub fingerprinted: usize,
    /// Lines added or removed that the gate holds as this generation's change.
    pub edits: usize,
}

/// A generation id is derived from what it covers, so adopting the same range twice is one
/// generation, not two.
pub fn generation_id(kind: &str, base: Option<Oid>, tip: Oid) -> String {
    let base = base.map(|b| b.to_string()).unwrap_or_default();
    id_of(&[kind.as_bytes(), base.as_bytes(), tip.to_string().as_bytes()])
}

/// `g-` and 12 hex digits of the SHA-256 of `parts` joined by NUL: the form of every generation
/// id, whoever makes it.
pub fn id_of(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hasher.update(b"\0");
        }
        hasher.update(part);
    }
    let hex = crate::digest::hex(&hasher.finalize()[..6]);
    format!("g-{hex}")
}

/// Leaves the marker that says this repository has recorded local output, so a store that goes
/// missing later is refused instead of silently starting over (`Store::open_for`).
pub fn mark_records(repo: &Repo) -> Result<(), Error> {
    repo.write_marker_ref(
        store::MARKER_REF,
        "git-hybrid: local output was recorded in this repository's store (.git/hybrid/hybrid.db).\n\
         If the store is lost, restore it from a backup; only delete this ref to start over knowingly.\n",
    )?;
    Ok(())
}

/// Records the change of `range` as one generation of local output.
pub fn adopt(
    repo: &Repo,
    store: &mut Store,
    range: &Range,
    model: Option<&str>,
) -> Result<Adopted, Error> {
    let change = range.change(repo)?;
    if change.is_empty() {
        return Err(Error::Empty {
            range: range.display.clone(),
        });
    }
    let existing = match range.base {
        Some(base) => tree_fingerprints(repo, &repo.tree_of(base)?)?,
        None => HashSet::new(),
    };
    // Each commit's own lines too, not only the range's end result: a line one commit adds and
    // a later one removes is still local output, and a cherry-pick of that commit would bring
    // it to a protected ref.
    let mut steps = Vec::new();
    let commits = range.commits(repo)?;
    if commits.len() > 1 {
        for oid in commits {
            let commit = repo.git.find_commit(oid).map_err(git::Error::from)?;
            let step = Range {
                base: commit.parent_ids().next(),
                base_name: None,
                tip: oid,
                branch: None,
                display: oid.to_string(),
            };
            steps.push(step.change(repo)?);
        }
    }
    let all: Vec<&Change> = std::iter::once(&change).chain(&steps).collect();
    let Recordable {
        lines,
        edits,
        tokens,
    } = recordable(repo, &all, &existing, range.base);
    let id = generation_id("adopt", range.base, range.tip);
    let record = GenerationRecord {
        id: id.clone(),
        kind: "adopt".into(),
        model: model.map(str::to_string),
        spec_path: None,
        branch: range.branch.clone(),
        base_commit: range.base.map(|b| b.to_string()),
        result_commit: range.tip.to_string(),
        change_id: change.id().to_string(),
        job_id: None,
        stats: None,
        check: None,
        lines,
        edits,
        tokens,
    };
    let newly_recorded = store.record_generation(&record)?;
    mark_records(repo)?;
    Ok(Adopted {
        generation_id: id,
        newly_recorded,
        files: change.files.len(),
        added_lines: change.line_counts().0,
        fingerprinted: record.lines.len(),
        edits: record.edits.len(),
    })
}
