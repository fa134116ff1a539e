//! Specs: the Markdown task a local model implements, and the lint that catches the vague ones
//! local models fail on (the workflow's first lesson: no paths, no signatures, no test cases, requirements
//! without values).
//!
//! It also owns reading a spec (inside the repository, UTF-8, not empty), the branch name its
//! title gives (`slug`), the paths it names, and the sections of repository files that go with it
//! to a model — what `implement`, `review` and `spec` share.
//!
//! The lint reads text and asks the repository only whether paths exist; it never changes a
//! spec. Each problem is one line that says what to add.

pub mod examples;

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
        let title = title_of(&text).to_string();
        Ok(Spec {
            path: relative,
            text,
            title,
        })
    }
}

/// A spec's title: its first non-empty line, without the heading marks ("change" when none).
pub fn title_of(text: &str) -> &str {
    text.lines()
        .map(|l| l.trim_start_matches('#').trim())
        .find(|l| !l.is_empty())
        .unwrap_or("change")
}

/// The items of the lists under the spec's headings that contain `name` (lowercase:
/// "requirement" reads `## Requirements`), without their marks, in order.
fn bullets(text: &str, name: &str) -> Vec<String> {
    let mut section = String::new();
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(h) = heading(line) {
            section = h;
        } else if let Some(item) = bullet(line).filter(|_| section.contains(name)) {
            out.push(item.to_string());
        }
    }
    out
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
/// A path in backticks is taken whole, spaces and all (`` `docs/user guide.md` ``).
pub fn paths_named(spec: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |word: &str| {
        if !out.iter().any(|w| w == word) {
            out.push(word.to_string());
        }
    };
    for (i, piece) in spec.split('`').enumerate() {
        // Odd pieces are inside backticks: a whole path there may hold spaces.
        if i % 2 == 1 && piece.contains(' ') && backticked_path(piece) {
            add(piece);
            continue;
        }
        // A request (`GET /health`, `HTTP/1.1 200 OK`) names a route, not files.
        if i % 2 == 1 && request(piece) {
            continue;
        }
        for word in piece.split(|c: char| c.is_whitespace() || "'\"()[]<>,".contains(c)) {
            let word = word.trim_matches(|c: char| ".:;!?".contains(c));
            // `src/port.rs:6` is a place in a file (a finding's, a compiler's): the file.
            let word = match word.rsplit_once(':') {
                Some((file, line)) if line.chars().all(|c| c.is_ascii_digit()) => file,
                _ => word,
            };
            if path_like(word, "_./-") && !route(word) {
                add(word);
            }
        }
    }
    out
}

/// The files a spec lets an answer write: those named under its files heading (`## Files`,
/// `## Files to touch`…), which separates what to change from what is only mentioned; without
/// such a heading, every path it names. A file named there in a clause that keeps it as it is
/// (`- create `test_slug.py` (leave `slug.py` as it is)`) is for reading, not writing. Empty
/// when it names none (then nothing is restricted).
pub fn files_to_touch(spec: &str) -> Vec<String> {
    let mut section = String::new();
    let mut kept: Vec<String> = Vec::new();
    let mut inside = false;
    for line in spec.lines() {
        if let Some(heading) = line.trim_start().strip_prefix('#') {
            inside = heading
                .trim_start_matches('#')
                .trim()
                .to_ascii_lowercase()
                .starts_with("files");
            continue;
        }
        if !inside {
            continue;
        }
        // Only the clause that says so: "change `a.py` (leave `b.py` as it is)" keeps b.py, and
        // "`a.py` (leave the tests as they are)" still lets a.py be written.
        // A dash sets a clause apart too, however it is typed: an em dash, a spaced en dash,
        // or two hyphens (an en dash between numbers is a range, not a clause's end).
        let line = line
            .replace(" \u{2013} ", "\u{2014}")
            .replace(" -- ", "\u{2014}");
        for clause in line.split(['(', ')', ';', ',', ':', '\u{2014}']) {
            if keeps_as_it_is(clause) {
                kept.extend(paths_named(clause));
            } else {
                section.push_str(clause);
                section.push('\n');
            }
        }
    }
    let listed: Vec<String> = paths_named(&section)
        .into_iter()
        .filter(|p| !kept.contains(p))
        .collect();
    if listed.is_empty() {
        paths_named(spec)
            .into_iter()
            .filter(|p| !kept.contains(p))
            .collect()
    } else {
        listed
    }
}

/// Whether a clause says the file it names stays as it is — and does not also ask for a change
/// ("change `a.py` so that the rest stays unchanged" writes a.py).
fn keeps_as_it_is(clause: &str) -> bool {
    let clause = clause.to_ascii_lowercase().replace('`', " ");
    let words: Vec<&str> = clause
        .split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '-')
        .filter(|w| !w.is_empty())
        .collect();
    let has = |phrase: &[&str]| words.windows(phrase.len()).any(|w| w == phrase);
    const WRITE: [&str; 14] = [
        "create",
        "change",
        "add",
        "edit",
        "update",
        "modify",
        "write",
        "extend",
        "implement",
        "fix",
        "replace",
        "rename",
        "delete",
        "remove",
    ];
    let negated = |i: usize| i > 0 && ["not", "don't", "never"].contains(&words[i - 1]);
    let asks_a_change = words
        .iter()
        .enumerate()
        .any(|(i, w)| WRITE.contains(w) && !negated(i));
    let keeps = has(&["leave"])
        || has(&["as", "it", "is"])
        || has(&["as", "is"])
        || has(&["unchanged"])
        || has(&["untouched"])
        || has(&["read-only"])
        || has(&["read", "only"])
        || has(&["for", "reference"])
        || words
            .iter()
            .enumerate()
            .any(|(i, w)| negated(i) && (WRITE.contains(w) || *w == "touch"));
    keeps && !asks_a_change
}

/// Has a slash or a dot, a letter, no URL scheme, and only the characters `allowed` besides
/// letters and digits.
fn path_like(word: &str, allowed: &str) -> bool {
    (word.contains('/') || word.contains('.'))
        && word.chars().any(|c| c.is_ascii_alphabetic())
        && !word.contains("://")
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || allowed.contains(c))
}

/// A backticked span with spaces that is a path rather than code: a folder or an extension,
/// words between, nothing that reads as code (parentheses, `::`, operators), a request
/// (`GET /health`, `HTTP/1.1 200 OK`) or a command line (`python3 test_money.py`, `ls -l`).
fn backticked_path(span: &str) -> bool {
    let ends_like_file = span.rsplit_once('.').is_some_and(|(_, ext)| {
        (1..=8).contains(&ext.len()) && ext.chars().all(|c| c.is_ascii_alphanumeric())
    });
    let mut words = span.split(' ');
    let first = words.next().unwrap_or_default();
    span.trim() == span
        && (span.contains('/') || ends_like_file)
        && path_like(span, "_./- ")
        && !request(span)
        && !COMMANDS.contains(&first)
        && !words.any(|w| w.starts_with(['/', '-']))
        && !span
            .split(' ')
            .any(|w| ["fn", "def", "let", "const", "return"].contains(&w))
}

/// An HTTP request or status line: a method and a route or URL (`GET /health`), or a status
/// line (`HTTP/1.1 200 OK`). A folder in capitals (`API docs/guide.md`) is no request.
fn request(span: &str) -> bool {
    let mut words = span.split(' ');
    let first = words
        .next()
        .unwrap_or_default()
        .trim_start_matches(['"', '\'']);
    let second = words.next().unwrap_or_default();
    let method = first.len() >= 3 && first.chars().all(|c| c.is_ascii_uppercase());
    (method && (second.starts_with('/') || second.contains("://") || second == "*"))
        || (first.starts_with("HTTP/") && !second.is_empty())
}

/// An absolute path without an extension: a route (`/health`, `/api/users/`) in a spec far more
/// often than a file (which is named relative to the repository's top anyway).
fn route(word: &str) -> bool {
    word.starts_with('/')
        && !word
            .rsplit('/')
            .find(|part| !part.is_empty())
            .is_some_and(|last| last.contains('.'))
}

/// Programs a command line in a spec starts with: such a span is no path.
const COMMANDS: &[&str] = &[
    "python", "python3", "pytest", "pip", "uv", "node", "npm", "npx", "deno", "cargo", "rustc",
    "go", "git", "make", "sh", "bash", "ruby", "java", "ls", "cat", "cd",
];

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

/// A spec to fill in: the format `lint` checks, with `TODO:` where the author writes. `files`
/// are (path, whether it exists) — an existing file is changed, another created.
pub fn template(title: &str, files: &[(String, bool)]) -> String {
    let mut out =
        format!("# {title}\n\nTODO: one paragraph: what changes, and why.\n\n## Files\n\n");
    if files.is_empty() {
        out.push_str("- TODO: `path/to/file.ext` (write \"create\" before a file that is new)\n");
    }
    for (path, exists) in files {
        let verb = if *exists { "change" } else { "create" };
        out.push_str(&format!("- {verb} `{path}`\n"));
    }
    out.push_str(
        "\n## Signatures\n\n\
         - TODO: each exact signature, e.g. `fn parse_port(value: &str) -> Result<u16, String>`\n\n\
         ## Requirements\n\n\
         - TODO: each rule with a concrete value: a limit (at most 3), an exact message (\"bad port\"), an error type (ValueError)\n\n\
         ## Tests\n\n\
         - TODO: `parse_port(\"80\")` returns `Ok(80)`\n",
    );
    out
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

/// A pattern compiled once into `cell` (the specs' and the context's patterns are constants).
pub(crate) fn regex(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
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

/// A concrete value: a number, a quoted or backticked literal (the empty string `""` too), a
/// code-like token, a named type (`ValueError`, `None`), or an exact phrasing ("exactly",
/// "at most", "empty", "unchanged").
fn concrete(line: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    regex(
        &RE,
        r#"(?i:\d|`[^`]+`|"[^"]*"|'[^']*'|\w+::\w+|\w+_\w+|\(\)|\b(exactly|at most|at least|no more than|empty|unchanged|none|null|nil|true|false|zero|one|two|three)\b)|\b[A-Z][a-z0-9]+[A-Z]\w*\b|\b[A-Z]\w*(Error|Exception)\b"#,
    )
    .is_match(line)
}

/// A test case written in prose: a call, then what it gives (`` `sub(5, 3)` returns `2` ``).
fn inline_test(line: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    regex(
        &RE,
        r"(?i)`[^`\n]*\w\([^`\n]*\)[^`\n]*`\s*(returns|raises|throws|gives|yields|fails|is|==|->|=>|→)",
    )
    .is_match(line)
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
    let todo = text
        .lines()
        .filter(|l| l.trim_start_matches(['-', '*', ' ']).starts_with("TODO"))
        .count();
    if todo > 0 {
        say(format!(
            "{todo} line{} still say{} TODO: fill {} in",
            crate::ui::plural(todo),
            if todo == 1 { "s" } else { "" },
            if todo == 1 { "it" } else { "them" }
        ));
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
    let has_tests = text
        .lines()
        .any(|l| inline_test(l) || heading(l).is_some_and(|h| h.contains("test")));
    let requirements = bullets(text, "requirement");
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

/// Where a spec titled `title` goes by default: `.hybrid/specs/<slug>.md`, numbered when taken.
pub fn default_path(top: &std::path::Path, title: &str) -> std::path::PathBuf {
    let dir = top.join(".hybrid/specs");
    let stem = slug(title);
    (1..100)
        .map(|n| {
            dir.join(if n == 1 {
                format!("{stem}.md")
            } else {
                format!("{stem}-{n}.md")
            })
        })
        .find(|p| !p.exists())
        .unwrap_or_else(|| dir.join(format!("{stem}.md")))
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
    fn bullets_are_read_under_their_heading_only() {
        let spec = "# T\n\n- not this\n\n## Requirements\n\n- trim `x`\n* keep order\n1. no `=` gives `None`\nprose\n\n### Tests\n\n- `f(1)` returns `2`\n";
        assert_eq!(
            bullets(spec, "requirement"),
            ["trim `x`", "keep order", "no `=` gives `None`"]
        );
        assert_eq!(bullets(spec, "test"), ["`f(1)` returns `2`"]);
        assert!(bullets(spec, "signature").is_empty());
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

    #[test]
    fn precise_requirements_and_inline_tests_pass() {
        let spec = "# Greet\n\nIn src/lib.rs, add `fn greet(name: &str) -> String`.\n\n## Requirements\n\n- Raise ValueError when name is empty.\n- An empty string returns \"\".\n- The output is exactly the name after \"Hello, \".\n- Trailing spaces stay unchanged.\n\n`greet(\"Ann\")` returns `\"Hello, Ann\"`.\n";
        assert_eq!(lint_with(spec), Vec::<String>::new());
    }

    #[test]
    fn the_template_fails_until_filled_and_passes_once_filled() {
        let blank = template("Add sub", &[("src/lib.rs".into(), true)]);
        let problems = lint_with(&blank);
        assert!(
            problems[0].starts_with("4 lines still say TODO"),
            "{problems:?}"
        );
        let filled = blank
            .replace("TODO: one paragraph: what changes, and why.", "Subtraction for the calculator.")
            .replace(
                "- TODO: each exact signature, e.g. `fn parse_port(value: &str) -> Result<u16, String>`",
                "- `pub fn sub(a: i32, b: i32) -> i32`",
            )
            .replace(
                "- TODO: each rule with a concrete value: a limit (at most 3), an exact message (\"bad port\"), an error type (ValueError)",
                "- overflow panics exactly as `i32` subtraction does",
            )
            .replace("- TODO: `parse_port(\"80\")` returns `Ok(80)`", "- `sub(5, 3)` returns `2`");
        assert_eq!(lint_with(&filled), Vec::<String>::new(), "{filled}");
    }

    #[test]
    fn requests_and_command_lines_in_backticks_are_no_paths() {
        let spec = "Answer `GET /health` and `/health/` with `\"HTTP/1.1 200 OK\"`; run `python3 test_money.py` and `ls -l docs`, edit `docs/user guide.md`, `API docs/guide.md` and `README.md`.";
        assert_eq!(
            paths_named(spec),
            [
                "test_money.py",
                "docs/user guide.md",
                "API docs/guide.md",
                "README.md"
            ]
        );
    }

    #[test]
    fn backticked_paths_keep_their_spaces() {
        let spec = "Change `docs/user guide.md` and src/lib.rs; call `parse(a b)`; see `a b`, src/port.rs:6.";
        assert_eq!(
            paths_named(spec),
            ["docs/user guide.md", "src/lib.rs", "src/port.rs"]
        );
    }

    #[test]
    fn a_file_the_files_section_keeps_as_it_is_is_not_for_writing() {
        let spec = "# Test slugify\n\n## Files\n\n- create `test_slug.py` (leave `slug.py` as it is)\n\n## Signatures\n\n- `def slugify(text: str) -> str` (exists in `slug.py`)\n";
        assert_eq!(files_to_touch(spec), ["test_slug.py"]);
        for line in [
            "- `test_money.py`; do not change `money.py`",
            "- `test_money.py` \u{2014} `money.py` is read-only",
            "- `test_money.py` (`money.py` stays unchanged)",
            "- `test_money.py` (`money.py` for reference)",
            "- create `test_money.py`, leave `money.py` as it is",
            "- `test_money.py`; never touch `money.py`",
            "- `test_money.py` \u{2013} `money.py` is read-only",
            "- `test_money.py` -- `money.py` is read-only",
        ] {
            let spec = format!("# T\n\n## Files\n\n{line}\n");
            assert_eq!(files_to_touch(&spec), ["test_money.py"], "{line}");
        }
        // A clause that keeps something else, or words that only look alike, change nothing.
        for line in [
            "- change `a.py` (leave the tests as they are)",
            "- change `a.py` and `b.py`",
            "- change `a.py`, `b.py` (keep the public names)",
            "- change `a.py`: keep the code as it is, add a docstring",
            "- change `a.py` so that the rest stays unchanged",
            "- change `a.py` (lines 10\u{2013}20 unchanged)",
        ] {
            let spec = format!("# T\n\n## Files\n\n{line}\n");
            let expected: Vec<&str> = if line.contains("b.py") {
                vec!["a.py", "b.py"]
            } else {
                vec!["a.py"]
            };
            assert_eq!(files_to_touch(&spec), expected, "{line}");
        }
        // Where the section keeps every file it names, the rest of the spec's paths are the
        // files, less the kept ones.
        let spec = "# T\n\nWrite `test_x.py`.\n\n## Files\n\n- leave `x.py` as it is\n";
        assert_eq!(files_to_touch(spec), ["test_x.py"]);
    }
}
