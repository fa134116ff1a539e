//! Attributions other tools keep in git notes, read as local output, and ours written in Agent
//! Trace's format.
//!
//! Two formats teams already have: Agent Trace (an open specification for AI code attribution:
//! trace records of files → conversations → line ranges, shared by its command-line tool as
//! notes under `refs/notes/agent-trace`, whose payload carries the same ranges in an inline
//! ledger) and git-ai (`refs/notes/ai`: an authorship log of files → attestation ids → line
//! ranges, then `---` and JSON naming each id's agent, tool and model). `adopt --from` reads a
//! range's notes, keeps the AI-written lines whose tool and model the policy names
//! (`[adopt] tools`, `models`), and records each commit's as one generation; a human's lines
//! are never taken. Line numbers are those of the commit the note is on; lines its parent
//! already had are left out, as `adopt` leaves them out. This module never writes notes and never
//! decides what the gate allows.

mod agent_trace;
mod git_ai;

pub use agent_trace::export;

use std::collections::{BTreeMap, BTreeSet, HashSet};

use git2::Oid;

use crate::change::{self, Change, Fingerprint};
use crate::config::AdoptSettings;
use crate::git::{self, Repo};
use crate::provenance::{self, Range};
use crate::store::{self, GenerationRecord, Store};

/// The largest note read: an attribution of a very large commit. Anything bigger is refused.
const MAX_NOTE_BYTES: usize = 8 << 20;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Git(#[from] git::Error),
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(transparent)]
    Change(#[from] change::Error),
    #[error(transparent)]
    Provenance(#[from] provenance::Error),
    #[error("the {source_name} note on {commit} cannot be read: {why}")]
    Unreadable {
        source_name: &'static str,
        commit: String,
        why: String,
    },
    #[error("invalid [adopt] pattern {pattern:?}: {why}")]
    Pattern { pattern: String, why: String },
}

/// Where attributions come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Source {
    /// Agent Trace records (`refs/notes/agent-trace`)
    AgentTrace,
    /// git-ai authorship logs (`refs/notes/ai`)
    GitAi,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::AgentTrace => "agent-trace",
            Source::GitAi => "git-ai",
        }
    }

    pub fn notes_ref(self) -> &'static str {
        match self {
            Source::AgentTrace => "refs/notes/agent-trace",
            Source::GitAi => "refs/notes/ai",
        }
    }

    fn parse(self, note: &str) -> Result<Vec<Attribution>, String> {
        match self {
            Source::AgentTrace => agent_trace::parse(note),
            Source::GitAi => git_ai::parse(note),
        }
    }
}

/// Lines of one file a note attributes to one contributor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Attribution {
    pub path: String,
    /// 1-based line numbers in the commit the note is on.
    pub lines: BTreeSet<u32>,
    /// Whether an AI wrote them (a human's lines are never local output).
    pub ai: bool,
    pub tool: Option<String>,
    pub model: Option<String>,
}

/// The widest line range a note may name: more is a corrupt or hostile note.
const MAX_RANGE: u32 = 1_000_000;

/// `start..=end` as line numbers, refused when it is empty, starts at 0 or is absurdly wide.
pub(crate) fn line_range(start: u64, end: u64) -> Result<std::ops::RangeInclusive<u32>, String> {
    let (Ok(start), Ok(end)) = (u32::try_from(start), u32::try_from(end)) else {
        return Err(format!("line range {start}-{end} is out of bounds"));
    };
    if start == 0 || end < start || end - start > MAX_RANGE {
        return Err(format!("line range {start}-{end} is not a range of lines"));
    }
    Ok(start..=end)
}

/// Which attributions count, compiled from the policy's `[adopt]` patterns.
pub struct Filter {
    tools: Vec<glob::Pattern>,
    models: Vec<glob::Pattern>,
}

impl Filter {
    pub fn new(settings: &AdoptSettings) -> Result<Filter, Error> {
        let compile = |list: &[String]| {
            list.iter()
                .map(|p| {
                    glob::Pattern::new(p).map_err(|e| Error::Pattern {
                        pattern: p.clone(),
                        why: e.to_string(),
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Filter {
            tools: compile(&settings.tools)?,
            models: compile(&settings.models)?,
        })
    }

    /// An AI's lines whose tool and model match the patterns (any, when there are none). A
    /// tool or model the note does not name matches no pattern.
    fn takes(&self, a: &Attribution) -> bool {
        let matches = |patterns: &[glob::Pattern], value: &Option<String>| {
            patterns.is_empty()
                || value
                    .as_deref()
                    .is_some_and(|v| patterns.iter().any(|p| p.matches(v)))
        };
        a.ai && matches(&self.tools, &a.tool) && matches(&self.models, &a.model)
    }
}

/// What `adopt --from` did.
#[derive(Clone, Debug, Default)]
pub struct Imported {
    /// Commits in the range that carry a note.
    pub notes: usize,
    /// Generations newly recorded (one per commit with lines taken).
    pub generations: Vec<String>,
    /// Lines recorded as local output.
    pub lines: usize,
    /// Attributed lines left out: a human's, or an AI's the policy does not name.
    pub left_out: usize,
}

/// Records, for each commit of `range` that carries a `source` note, the AI-written lines the
/// filter takes as one generation of local output.
pub fn import(
    repo: &Repo,
    store: &mut Store,
    source: Source,
    range: &Range,
    filter: &Filter,
) -> Result<Imported, Error> {
    let mut imported = Imported::default();
    for commit_id in range.commits(repo)?.into_iter().rev() {
        let Some(text) = note(repo, source, commit_id)? else {
            continue;
        };
        imported.notes += 1;
        let attributions = source.parse(&text).map_err(|why| Error::Unreadable {
            source_name: source.name(),
            commit: commit_id.to_string(),
            why,
        })?;
        let (taken, left): (Vec<Attribution>, Vec<Attribution>) =
            attributions.into_iter().partition(|a| filter.takes(a));
        imported.left_out += left.iter().map(|a| a.lines.len()).sum::<usize>();
        if taken.is_empty() {
            continue;
        }
        let commit = repo.git.find_commit(commit_id).map_err(git::Error::from)?;
        let parent = commit.parent_ids().next();
        let new_tree = commit.tree().map_err(git::Error::from)?;
        let old_tree = parent.map(|p| repo.tree_of(p)).transpose()?;
        let existing = match &old_tree {
            Some(tree) => provenance::tree_fingerprints(repo, tree)?,
            None => HashSet::new(),
        };
        let lines = fingerprints(repo, &new_tree, &taken, &existing);
        if lines.is_empty() {
            continue;
        }
        let models: BTreeSet<&str> = taken.iter().filter_map(|a| a.model.as_deref()).collect();
        let change = Change::between_trees(&repo.git, old_tree.as_ref(), Some(&new_tree))?;
        let id = provenance::generation_id(source.name(), parent, commit_id);
        imported.lines += lines.len();
        let record = GenerationRecord {
            id: id.clone(),
            kind: source.name().to_string(),
            model: (!models.is_empty()).then(|| models.into_iter().collect::<Vec<_>>().join(", ")),
            spec_path: None,
            branch: range.branch.clone(),
            base_commit: parent.map(|p| p.to_string()),
            result_commit: commit_id.to_string(),
            change_id: change.id().to_string(),
            lines,
            // Attribution names lines inside commits people also wrote in: the commit's edits
            // are not all the tool's, so only its lines are recorded.
            edits: Vec::new(),
            tokens: Vec::new(),
            job_id: None,
            stats: None,
            check: None,
        };
        if store.record_generation(&record)? {
            imported.generations.push(id);
        }
    }
    if !imported.generations.is_empty() {
        provenance::mark_records(repo)?;
    }
    Ok(imported)
}

/// The note `source` keeps on `commit`, if any.
fn note(repo: &Repo, source: Source, commit: Oid) -> Result<Option<String>, Error> {
    let unreadable = |why: String| Error::Unreadable {
        source_name: source.name(),
        commit: commit.to_string(),
        why,
    };
    let note = match repo.git.find_note(Some(source.notes_ref()), commit) {
        Ok(note) => note,
        Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
        Err(e) => return Err(unreadable(e.message().to_string())),
    };
    let bytes = note.message_bytes();
    if bytes.len() > MAX_NOTE_BYTES {
        return Err(unreadable(format!(
            "{} bytes is more than an attribution can be",
            bytes.len()
        )));
    }
    String::from_utf8(bytes.to_vec())
        .map(Some)
        .map_err(|_| unreadable("it is not UTF-8 text".into()))
}

/// The fingerprints of the attributed lines as the commit has them, leaving out lines the parent
/// already had (and lines past a file's end, or in files the commit does not have).
fn fingerprints(
    repo: &Repo,
    tree: &git2::Tree<'_>,
    taken: &[Attribution],
    existing: &HashSet<Fingerprint>,
) -> Vec<(Fingerprint, Vec<u8>, u32)> {
    let mut by_path: BTreeMap<&str, BTreeSet<u32>> = BTreeMap::new();
    for a in taken {
        by_path.entry(&a.path).or_default().extend(&a.lines);
    }
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for (path, wanted) in by_path {
        let Ok(entry) = tree.get_path(std::path::Path::new(path)) else {
            continue;
        };
        let Ok(blob) = repo.git.find_blob(entry.id()) else {
            continue;
        };
        for (n, line) in blob.content().split_inclusive(|&b| b == b'\n').enumerate() {
            let number = u32::try_from(n + 1).unwrap_or(u32::MAX);
            if !wanted.contains(&number) {
                continue;
            }
            if let Some(fp) = change::fingerprint(line)
                && !existing.contains(&fp)
                && seen.insert(fp)
            {
                out.push((fp, path.as_bytes().to_vec(), number));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ai(tool: Option<&str>, model: Option<&str>) -> Attribution {
        Attribution {
            path: "a.rs".into(),
            lines: [1].into(),
            ai: true,
            tool: tool.map(str::to_string),
            model: model.map(str::to_string),
        }
    }

    #[test]
    fn the_filter_takes_what_the_policy_names() {
        let all = Filter::new(&AdoptSettings::default()).unwrap();
        assert!(all.takes(&ai(None, None)));
        assert!(!all.takes(&Attribution {
            ai: false,
            ..ai(Some("aider"), None)
        }));
        let local = Filter::new(&AdoptSettings {
            tools: vec!["aider".into(), "continue*".into()],
            models: vec!["ollama/*".into()],
        })
        .unwrap();
        assert!(local.takes(&ai(Some("aider"), Some("ollama/qwen2.5-coder"))));
        assert!(local.takes(&ai(Some("continue-cli"), Some("ollama/llama3"))));
        assert!(!local.takes(&ai(Some("cursor"), Some("ollama/qwen2.5-coder"))));
        assert!(!local.takes(&ai(Some("aider"), Some("anthropic/claude-opus-4-5"))));
        assert!(!local.takes(&ai(None, Some("ollama/x"))));
    }

    #[test]
    fn ranges_are_checked() {
        assert_eq!(line_range(2, 4), Ok(2..=4));
        assert!(line_range(0, 4).is_err());
        assert!(line_range(5, 4).is_err());
        assert!(line_range(1, 5_000_000).is_err());
        assert!(line_range(1, u64::MAX).is_err());
    }
}
