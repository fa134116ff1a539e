//! Specs: the Markdown task a local model implements, and the lint that catches the vague ones
//! local models fail on (the seed's lesson: no paths, no signatures, no test cases, requirements
//! without values).
//!
//! It also owns reading a spec (inside the repository, UTF-8, not empty), the branch name its
//! title gives (`slug`), the paths it names, and the sections of repository files that go with it
//! to a model — what `implement`, `review` and `spec` share.
//!
//! The lint reads text and asks the repository only whether paths exist; it never changes a
//! spec. Each problem is one line that says what to add.

use std::path::Path;
use std::sync::OnceLock;

use git2::{Oid, Repository};
use regex::Regex;

use crate::git::Repo;
use crate::store::{self, Store};

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read the spec {path}: {source}")]
    Unreadable {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the spec {path} is empty")]
    Empty { path: String },
    #[error("the spec {path} is not UTF-8 text")]
    NotText { path: String },
    #[error("the spec {path} is outside the repository")]
    Outside { path: String },
}

/// A spec as read from disk.
#[derive(Clone, Debug)]
pub struct Spec {
    /// Relative to the repository's top, `/`-separated.
    pub path: String,
    pub text: String,
    pub title: String,
}

impl Spec {
    /// The spec the generation ending at `commit` was made from, as the worktree has it now:
    /// `(path, Some(text))`, `(path, None)` when it can no longer be read, and `None` when no
    /// generation with a spec ends there.
    pub fn of_commit(
        repo: &Repo,
        store: &Store,
        commit: Oid,
    ) -> store::Result<Option<(String, Option<String>)>> {
        Ok(store.spec_for_commit(&commit.to_string())?.map(|path| {
            let text = repo
                .worktree()
                .and_then(|top| std::fs::read_to_string(top.join(&path)).ok());
            (path, text)
        }))
    }

    /// Reads and checks a spec: it must exist inside the repository, be UTF-8 and not be empty.
    pub fn read(top: &Path, path: &Path) -> Result<Spec, ReadError> {
        let shown = path.display().to_string();
        let absolute = if path.is_absolute() {
            path.to_path_buf()
        } else {
            std::env::current_dir()
                .map(|d| d.join(path))
                .unwrap_or_else(|_| path.to_path_buf())
        };
        let bytes = std::fs::read(&absolute).map_err(|source| ReadError::Unreadable {
            path: shown.clone(),
            source,
        })?;
        let canonical = absolute
            .canonicalize()
            .map_err(|source| ReadError::Unreadable {
                path: shown.clone(),
                source,
            })?;
        let top = top.canonicalize().unwrap_or_else(|_| top.to_path_buf());
        let relative = canonical
            .strip_prefix(&top)
            .map_err(|_| ReadError::Outside {
                path: shown.clone(),
            })?
            .to_string_lossy()
            .replace('\\', "/");
        let text = String::from_utf8(bytes).map_err(|_| ReadError::NotText {
            path: shown.clone(),
        })?;
        if text.trim().is_empty() {
            return Err(ReadError::Empty { path: shown });
        }
        let title = text
            .lines()
            .map(|l| l.trim_start_matches('#').trim())
            .find(|l| !l.is_empty())
            .unwrap_or("change")
            .to_string();
        Ok(Spec {
            path: relative,
            text,
            title,
        })
    }
}

/// `hybrid/<slug>`: the title in lowercase words joined by dashes, at most 48 characters.
pub fn slug(title: &str) -> String {
    let mut out = String::new();
    for word in title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if out.len() + word.len() + 1 > 48 {
            break;
        }
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(&word.to_ascii_lowercase());
    }
    if out.is_empty() { "change".into() } else { out }
}

/// The words of a spec that look like file paths (`src/port.rs`, `README.md`), in order, once each.
pub fn paths_named(spec: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in spec.split(|c: char| c.is_whitespace() || "`'\"()[]<>,".contains(c)) {
        let word = word.trim_matches(|c: char| ".:;!?".contains(c));
        let looks_like_path = (word.contains('/') || word.contains('.'))
            && word.chars().any(|c| c.is_ascii_alphabetic())
            && !word.contains("://")
            && word
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_./-".contains(c));
        if looks_like_path && !out.iter().any(|w| w == word) {
            out.push(word.to_string());
        }
    }
    out
}

/// The text files among `paths` at `tree`, as `=== path ===` sections, within `budget` tokens as
/// `count` counts them. Returns the sections and the paths the budget left out.
pub fn file_sections(
    repo: &Repository,
    tree: &git2::Tree<'_>,
    paths: &[String],
    budget: usize,
    count: &dyn Fn(&str) -> usize,
) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut used = 0;
    let mut left_out = Vec::new();
    for path in paths {
        let Ok(entry) = tree.get_path(Path::new(path)) else {
            continue;
        };
        let Ok(blob) = repo.find_blob(entry.id()) else {
            continue;
        };
        if blob.is_binary() {
            continue;
        }
        let text = String::from_utf8_lossy(blob.content());
        let piece = format!("=== {path} ===\n{text}\n");
        let tokens = count(&piece);
        if used + tokens > budget {
            left_out.push(path.clone());
            continue;
        }
        used += tokens;
        out.push_str(&piece);
    }
    (out, left_out)
}

/// A spec larger than this is not a task description a model can follow in one go.
pub const MAX_SPEC_BYTES: usize = 256 * 1024;

/// One thing wrong with a spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem(pub String);

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn regex(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    // The patterns are constants: a typo is a bug the tests below catch.
    cell.get_or_init(|| Regex::new(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}")))
}

/// `name(args)`, optionally with a return type, or a declaration keyword: what a signature
/// looks like in the common languages.
fn signature(text: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    regex(
        &RE,
        r"(?m)(\b(fn|def|func|function|class|struct|interface|trait|enum|impl|public|private|async)\s+[A-Za-z_]\w*)|`[^`\n]*\b[A-Za-z_]\w*\s*\([^`\n]*\)[^`\n]*`",
    )
    .is_match(text)
}

/// A concrete value: a number, a quoted or backticked literal, or a code-like token.
fn concrete(line: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    regex(&RE, r#"\d|`[^`]+`|"[^"]+"|'[^']+'|\w+::\w+|\w+_\w+|\(\)"#).is_match(line)
}

fn heading(line: &str) -> Option<String> {
    let t = line.trim_start();
    t.starts_with('#')
        .then(|| t.trim_start_matches('#').trim().to_lowercase())
}

fn bullet(line: &str) -> Option<&str> {
    let t = line.trim_start();
    for marker in ["- ", "* ", "+ "] {
        if let Some(rest) = t.strip_prefix(marker) {
            return Some(rest.trim());
        }
    }
    let digits = t.chars().take_while(|c| c.is_ascii_digit()).count();
    (digits > 0 && t[digits..].starts_with(". ")).then(|| t[digits + 2..].trim())
}

/// The problems of a spec, its paths checked against HEAD's tree (every path is new in a
/// repository without commits).
pub fn lint_in(repo: &crate::git::Repo, text: &str) -> Vec<Problem> {
    let head = repo.head_tree().ok().flatten();
    lint(text, &|path| {
        head.as_ref()
            .is_some_and(|t| t.get_path(std::path::Path::new(path)).is_ok())
    })
}

/// The problems of a spec. `exists` says whether a repository path exists.
pub fn lint(text: &str, exists: &dyn Fn(&str) -> bool) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut say = |s: String| problems.push(Problem(s));
    if text.trim().is_empty() {
        say("the spec is empty: describe the goal, the files, the signatures and the tests".into());
        return problems;
    }
    if text.len() > MAX_SPEC_BYTES {
        say(format!(
            "the spec is {} KB; a spec over {} KB is not a task a model can follow: split it",
            text.len() / 1024,
            MAX_SPEC_BYTES / 1024
        ));
        return problems;
    }
    let paths = paths_named(text);
    if paths.is_empty() {
        say("no file paths: name the files to create or change (e.g. src/auth/login.rs)".into());
    }
    for path in &paths {
        if path.starts_with('/') || path.split('/').any(|c| c == "..") {
            say(format!(
                "{path} is outside the repository: name files inside it, relative to its top"
            ));
            continue;
        }
        if exists(path) {
            continue;
        }
        // A file that does not exist yet must be announced as new where it is named.
        let announced = text.lines().any(|l| {
            let l = l.to_lowercase();
            l.contains(&path.to_lowercase())
                && ["create", "new ", "add ", "adds ", "write "]
                    .iter()
                    .any(|w| l.contains(w))
        });
        if !announced {
            say(format!(
                "{path} does not exist in the repository; fix the path, or say \"create {path}\" if it is new"
            ));
        }
    }
    if !signature(text) {
        say("no signatures: give the exact ones, e.g. `fn parse_port(value: &str) -> Result<u16, String>`".into());
    }
    // Sections by heading.
    let mut section = String::new();
    let mut has_tests = false;
    let mut requirements = Vec::new();
    for line in text.lines() {
        if let Some(h) = heading(line) {
            section = h;
            has_tests |= section.contains("test");
            continue;
        }
        if let Some(item) = bullet(line) {
            if section.contains("test") {
                has_tests = true;
            }
            if section.contains("requirement") {
                requirements.push(item.to_string());
            }
        }
    }
    if !has_tests {
        say(
            "no test cases: add a \"Tests\" section listing inputs and the results expected".into(),
        );
    }
    for r in requirements.iter().filter(|r| !concrete(r)) {
        say(format!(
            "requirement without a concrete value: \"{r}\" (give the limits, formats, error messages or codes)"
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "# Port parsing\n\nCreate src/port.rs next to src/lib.rs.\n\n## Signatures\n\n`fn parse_port(value: &str) -> Result<u16, String>`\n\n## Requirements\n\n- reject values above 65535 with \"port out of range\"\n- trim whitespace first\n\n## Tests\n\n- `parse_port(\"80\")` returns `Ok(80)`\n";

    fn lint_with(text: &str) -> Vec<String> {
        lint(text, &|p| p == "src/lib.rs")
            .into_iter()
            .map(|p| p.0)
            .collect()
    }

    #[test]
    fn a_precise_spec_passes() {
        let problems = lint_with(GOOD);
        assert_eq!(problems, vec![
            "requirement without a concrete value: \"trim whitespace first\" (give the limits, formats, error messages or codes)".to_string()
        ]);
    }

    #[test]
    fn vague_specs_are_caught() {
        let problems = lint_with(
            "# Auth\n\nImplement user authentication.\n\n## Requirements\n\n- make it secure\n",
        );
        assert!(
            problems.iter().any(|p| p.starts_with("no file paths")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.starts_with("no signatures")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.starts_with("no test cases")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("\"make it secure\"")),
            "{problems:?}"
        );
        let problems = lint_with(
            "Change src/missing.rs and ../etc/passwd.txt: `fn a() -> u8`\n## Tests\n- a\n",
        );
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("src/missing.rs does not exist")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("outside the repository")),
            "{problems:?}"
        );
        assert_eq!(
            lint_with("  \n")[0],
            "the spec is empty: describe the goal, the files, the signatures and the tests"
        );
        assert!(lint_with(&"x".repeat(MAX_SPEC_BYTES + 1))[0].contains("split it"));
    }
}
