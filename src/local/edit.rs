//! The edit format a local model answers in, its strict parser, and applying it to a tree's files.
//!
//! ```text
//! <<<<<<< FILE path/to/new_or_replaced.rs
//! the whole file
//! >>>>>>> END
//! <<<<<<< EDIT path/to/existing.rs
//! lines to find, exactly
//! =======
//! lines to put instead
//! >>>>>>> END
//! ```
//!
//! Text outside blocks is ignored (a chat model's preamble). Inside, nothing is guessed: an
//! unterminated block, an unsafe path, or a SEARCH that does not match exactly once is an error
//! that says which block and why (and, when nothing matches, where the nearest lines are), so the
//! model can be asked again with it. A SEARCH is matched as a careful person would: exactly, else
//! line by line with each line's surrounding whitespace ignored — still exactly once — and the
//! replacement is then re-indented to where it lands. Edits apply all or nothing.

use std::collections::BTreeMap;

pub const OPEN_FILE: &str = "<<<<<<< FILE ";
pub const OPEN_EDIT: &str = "<<<<<<< EDIT ";
pub const DIVIDER: &str = "=======";
pub const CLOSE: &str = ">>>>>>> END";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edit {
    /// The file's whole new content.
    File { path: String, content: String },
    /// Replace the one occurrence of `search` with `replace`.
    Replace {
        path: String,
        search: String,
        replace: String,
    },
}

impl Edit {
    pub fn path(&self) -> &str {
        match self {
            Edit::File { path, .. } | Edit::Replace { path, .. } => path,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    #[error("the answer contains no FILE or EDIT block")]
    Empty,
    #[error("block {block} ({path}) starting on line {line} is not closed with `{CLOSE}`")]
    Unclosed {
        block: usize,
        path: String,
        line: usize,
    },
    #[error("EDIT block {block} ({path}) has no `{DIVIDER}` line between SEARCH and REPLACE")]
    NoDivider { block: usize, path: String },
    #[error("block {block}: {path:?} is not a safe relative path inside the repository")]
    UnsafePath { block: usize, path: String },
    #[error("EDIT block {block}: {path} does not exist; use a FILE block to create it")]
    Missing { block: usize, path: String },
    #[error(
        "EDIT block {block}: the SEARCH text does not occur in {path}; copy the lines exactly as they are{nearest}"
    )]
    NoMatch {
        block: usize,
        path: String,
        /// Where the most similar lines are, said to the model (empty when none is close).
        nearest: String,
    },
    #[error(
        "EDIT block {block}: the SEARCH text occurs {count} times in {path}; include more lines so it occurs once"
    )]
    Ambiguous {
        block: usize,
        path: String,
        count: usize,
    },
    #[error("EDIT block {block} ({path}): the SEARCH text is empty")]
    EmptySearch { block: usize, path: String },
}

fn safe_path(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.contains('\\')
        && !path.contains('\0')
        && path
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != ".." && !c.eq_ignore_ascii_case(".git"))
}

/// Parses a model's answer into edits: blocks, or the same edits as JSON (what a server that
/// enforces `json_schema` returns).
pub fn parse(answer: &str) -> Result<Vec<Edit>, Error> {
    if answer.trim_start().starts_with('{')
        && let Some(edits) = parse_json(answer)?
    {
        return Ok(edits);
    }
    parse_blocks(answer)
}

/// The JSON form: `{"files": [{"path", "content"}], "edits": [{"path", "search", "replace"}]}`.
/// `None` when the text is not that JSON at all (it is then read as blocks).
fn parse_json(answer: &str) -> Result<Option<Vec<Edit>>, Error> {
    #[derive(serde::Deserialize)]
    struct Whole {
        path: String,
        content: String,
    }
    #[derive(serde::Deserialize)]
    struct Replace {
        path: String,
        search: String,
        replace: String,
    }
    #[derive(serde::Deserialize)]
    struct Answer {
        #[serde(default)]
        files: Vec<Whole>,
        #[serde(default)]
        edits: Vec<Replace>,
    }
    let Ok(answer) = serde_json::from_str::<Answer>(answer.trim()) else {
        return Ok(None);
    };
    let wholes = answer.files.into_iter().map(|f| Edit::File {
        path: f.path,
        content: f.content,
    });
    let replaces = answer.edits.into_iter().map(|e| Edit::Replace {
        path: e.path,
        search: e.search,
        replace: e.replace,
    });
    let mut edits = Vec::new();
    // The same checks as blocks get: a safe path, a SEARCH that is not empty.
    for edit in wholes.chain(replaces) {
        let block = edits.len() + 1;
        match &edit {
            Edit::File { path, .. } | Edit::Replace { path, .. } if !safe_path(path) => {
                return Err(Error::UnsafePath {
                    block,
                    path: path.clone(),
                });
            }
            Edit::Replace { path, search, .. } if search.trim().is_empty() => {
                return Err(Error::EmptySearch {
                    block,
                    path: path.clone(),
                });
            }
            _ => edits.push(edit),
        }
    }
    if edits.is_empty() {
        return Err(Error::Empty);
    }
    Ok(Some(edits))
}

/// Whether `line` closes a block: the marker alone, or after the closing fence of a code block
/// written on the same line (```` ``` >>>>>>> END ````, how a model used to fencing its code
/// ends both at once; the grammar allows it). `Some(true)` when it carried the fence.
fn closing(line: &str) -> Option<bool> {
    let line = line.trim_end_matches(['\n', '\r']);
    if line == CLOSE {
        return Some(false);
    }
    // Exactly what the grammar's `end` allows, so that the two agree where a block ends.
    line.strip_suffix(CLOSE)
        .filter(|fence| matches!(*fence, "```" | "``` "))
        .map(|_| true)
}

fn markdown(path: &str) -> bool {
    path.ends_with(".md") || path.ends_with(".markdown")
}

/// The block `answer` ends inside of, when it does: its path and whether it is a FILE block.
pub fn open_block(answer: &str) -> Option<(String, bool)> {
    let mut open = None;
    for line in answer.lines() {
        if let Some(path) = line.strip_prefix(OPEN_FILE) {
            open = Some((path.trim().to_string(), true));
        } else if let Some(path) = line.strip_prefix(OPEN_EDIT) {
            open = Some((path.trim().to_string(), false));
        } else if closing(line).is_some() {
            open = None;
        }
    }
    open
}

fn parse_blocks(answer: &str) -> Result<Vec<Edit>, Error> {
    let lines: Vec<&str> = answer.split_inclusive('\n').collect();
    let mut edits = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_end_matches(['\n', '\r']);
        let (is_file, rest) = if let Some(rest) = line.strip_prefix(OPEN_FILE) {
            (true, rest)
        } else if let Some(rest) = line.strip_prefix(OPEN_EDIT) {
            (false, rest)
        } else {
            i += 1;
            continue;
        };
        let block = edits.len() + 1;
        let path = rest.trim().to_string();
        if !safe_path(&path) {
            return Err(Error::UnsafePath { block, path });
        }
        let start = i;
        let close = lines[i + 1..]
            .iter()
            .position(|l| closing(l).is_some())
            .map(|p| p + i + 1)
            .ok_or(Error::Unclosed {
                block,
                path: path.clone(),
                line: start + 1,
            })?;
        let body = &lines[i + 1..close];
        // A fence on the closing line is content where fences are (Markdown, and a whole file,
        // where `unfenced` drops it with its opening one); never in a replacement of code.
        let fence = match closing(lines[close]) {
            Some(true) if is_file || markdown(&path) => "```\n",
            _ => "",
        };
        if is_file {
            edits.push(Edit::File {
                path,
                content: body.concat() + fence,
            });
        } else {
            let divider = body
                .iter()
                .position(|l| l.trim_end_matches(['\n', '\r']) == DIVIDER)
                .ok_or(Error::NoDivider {
                    block,
                    path: path.clone(),
                })?;
            let search = body[..divider].concat();
            if search.trim().is_empty() {
                return Err(Error::EmptySearch { block, path });
            }
            edits.push(Edit::Replace {
                path,
                search,
                replace: body[divider + 1..].concat() + fence,
            });
        }
        i = close + 1;
    }
    if edits.is_empty() {
        return Err(Error::Empty);
    }
    Ok(edits)
}

/// Applies edits to file contents, all or nothing. `read` gives a file's current content (`None`
/// when it does not exist). Returns the new content of every file touched.
pub fn apply(
    edits: &[Edit],
    read: impl Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, String>, Error> {
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    for (i, edit) in edits.iter().enumerate() {
        let block = i + 1;
        match edit {
            Edit::File { path, content } => {
                files.insert(path.clone(), unfenced(path, content));
            }
            Edit::Replace {
                path,
                search,
                replace,
            } => {
                let current = match files.get(path) {
                    Some(c) => c.clone(),
                    None => read(path).ok_or(Error::Missing {
                        block,
                        path: path.clone(),
                    })?,
                };
                let count = current.matches(search.as_str()).count();
                let replaced = match count {
                    0 => match loose_matches(&current, search).as_slice() {
                        // SEARCH new and REPLACE the file's own lines, once: the model wrote the
                        // lines it adds first and the lines they go above second (a doc comment
                        // over the function it documents). Read so, the block only adds lines,
                        // and the answer is still checked and reviewed like any other.
                        [] => match loose_matches(&current, replace).as_slice() {
                            [at] if !search.trim().is_empty() => {
                                tracing::info!(
                                    block,
                                    path = %path,
                                    "the SEARCH text is not in the file and the REPLACE text is: its lines are added above them"
                                );
                                replace_lines(&current, (at.0, at.0), replace, search)
                            }
                            _ => {
                                return Err(Error::NoMatch {
                                    block,
                                    path: path.clone(),
                                    nearest: nearest(&current, search),
                                });
                            }
                        },
                        [at] => replace_lines(&current, *at, search, replace),
                        more => {
                            return Err(Error::Ambiguous {
                                block,
                                path: path.clone(),
                                count: more.len(),
                            });
                        }
                    },
                    1 => current.replacen(search.as_str(), replace, 1),
                    count => {
                        return Err(Error::Ambiguous {
                            block,
                            path: path.clone(),
                            count,
                        });
                    }
                };
                files.insert(path.clone(), replaced);
            }
        }
    }
    Ok(files)
}

/// A whole file's content without the Markdown fence a chat model wraps code in out of habit
/// (a first line such as ```` ```rust ```` and a last line ```` ``` ````); the content as it is
/// otherwise. A closing fence alone, with no other fence in the file, goes too (a model that
/// wrote the file unfenced closes the fence it is used to). A file that is Markdown keeps its
/// fences: there they are content.
fn unfenced(path: &str, content: &str) -> String {
    if markdown(path) {
        return content.to_string();
    }
    let lines: Vec<&str> = content.split_inclusive('\n').collect();
    let fence = |l: &str| l.trim_start().starts_with("```");
    let opens = lines.first().is_some_and(|l| fence(l));
    let last = lines.iter().rposition(|l| !l.trim().is_empty());
    match last {
        Some(end) if lines[end].trim() == "```" && opens && end > 0 => lines[1..end].concat(),
        Some(end)
            if lines[end].trim() == "```" && lines.iter().filter(|l| fence(l)).count() == 1 =>
        {
            lines[..end].concat()
        }
        _ => content.to_string(),
    }
}

/// The SEARCH's lines, without the blank lines that end it.
fn search_lines(search: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = search.lines().collect();
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    lines
}

/// Where `search` occurs in `text` line by line when each line's surrounding whitespace and
/// blank lines are ignored (a small model re-indents what it copies, and drops or adds the
/// blank lines between definitions): the lines each occurrence spans, from its first line to
/// the line after its last.
fn loose_matches(text: &str, search: &str) -> Vec<(usize, usize)> {
    let wanted: Vec<&str> = search_lines(search)
        .into_iter()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let Some(first) = wanted.first() else {
        return Vec::new();
    };
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for start in (0..lines.len()).filter(|&i| lines[i].trim() == *first) {
        let (mut at, mut matched) = (start, 0);
        while at < lines.len() && matched < wanted.len() {
            let line = lines[at].trim();
            if !line.is_empty() {
                if line != wanted[matched] {
                    break;
                }
                matched += 1;
            }
            at += 1;
        }
        if matched == wanted.len() {
            out.push((start, at));
        }
    }
    out
}

fn indent_of(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

/// `text` with the lines `span` of a loose match replaced by `replace`, re-indented: the
/// replacement's lines move by what the matched lines' indentation differs from the SEARCH's.
fn replace_lines(text: &str, (at, end): (usize, usize), search: &str, replace: &str) -> String {
    let wanted = search_lines(search);
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let theirs = wanted
        .iter()
        .find(|l| !l.trim().is_empty())
        .map_or("", |l| indent_of(l));
    // A loose match starts on a line that is not blank.
    let ours = indent_of(lines[at]);
    let mut out: String = lines[..at].concat();
    for line in replace.split_inclusive('\n') {
        match line.strip_prefix(theirs) {
            Some(rest) if !line.trim().is_empty() => {
                out.push_str(ours);
                out.push_str(rest);
            }
            _ => out.push_str(line),
        }
    }
    if !replace.is_empty() && !replace.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&lines[end..].concat());
    out
}

/// Where the lines most like `search` are in `text`, said for the model: "; the closest lines
/// are 12-15: …" when some window is at least half alike, else nothing.
fn nearest(text: &str, search: &str) -> String {
    let wanted = search_lines(search);
    let lines: Vec<&str> = text.lines().collect();
    if wanted.is_empty() || lines.len() < wanted.len() {
        return String::new();
    }
    let wanted_text = wanted
        .iter()
        .map(|l| l.trim())
        .collect::<Vec<_>>()
        .join("\n");
    let best = (0..=lines.len() - wanted.len())
        .map(|i| {
            let window = lines[i..i + wanted.len()]
                .iter()
                .map(|l| l.trim())
                .collect::<Vec<_>>()
                .join("\n");
            let ratio =
                similar::TextDiff::from_chars(wanted_text.as_str(), window.as_str()).ratio();
            (ratio, i)
        })
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((ratio, i)) if ratio >= 0.5 => format!(
            "; the closest lines are {}-{}, which read:\n{}",
            i + 1,
            i + wanted.len(),
            lines[i..i + wanted.len()].join("\n")
        ),
        _ => String::new(),
    }
}

/// The format, as the model is told it.
pub const INSTRUCTIONS: &str = "\
Answer only with blocks in this exact format, one per change, and nothing else:

<<<<<<< FILE path/to/file
the complete content of a new file (or of a file you rewrite whole)
>>>>>>> END

<<<<<<< EDIT path/to/existing/file
the exact lines to replace, copied from the file as shown
=======
the lines to put in their place
>>>>>>> END

Paths are relative to the repository root. An EDIT's first part must match the file exactly \
and only once; include enough lines to make it unique.";

/// A GBNF grammar for the edit format, for llama.cpp's grammar sampler: every answer it allows
/// parses. `whole_paths` may only get FILE blocks (new files, and files small enough to rewrite),
/// `edit_paths` only EDIT blocks (a large file rewritten whole by a small model loses what it
/// does not copy); with no paths at all, any safe relative path may get either. Lines may not
/// start with `>` or `=` (so a block always ends where the parser ends it), and every repetition
/// is bounded (`Limits`), because a tiny model can otherwise loop inside a string until the
/// context is full.
pub fn grammar(whole_paths: &[String], edit_paths: &[String], limits: Limits) -> String {
    let named = whole_paths.len() + edit_paths.len();
    let Limits {
        blocks,
        file,
        search,
        replace,
    } = limits;
    let quote = |p: &String| {
        let escaped: String = p
            .chars()
            .flat_map(|c| match c {
                '"' => vec!['\\', '"'],
                '\\' => vec!['\\', '\\'],
                c => vec![c],
            })
            .collect();
        format!("\"{escaped}\"")
    };
    let any_path = "[a-zA-Z0-9_] [a-zA-Z0-9_./-]{0,120}".to_string();
    let alternatives = |paths: &[String]| -> Option<String> {
        match (named, paths.is_empty()) {
            (0, _) => Some(any_path.clone()),
            (_, true) => None,
            _ => Some(paths.iter().map(quote).collect::<Vec<_>>().join(" | ")),
        }
    };
    let file_path = alternatives(whole_paths);
    let edit_path = alternatives(edit_paths);
    let kinds: Vec<&str> = [
        file_path.as_ref().map(|_| "file-block"),
        edit_path.as_ref().map(|_| "edit-block"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut g = format!(
        "root ::= block{{1,{blocks}}}\nblock ::= {}\n",
        kinds.join(" | ")
    );
    if let Some(file_path) = file_path {
        g.push_str(&format!(
            "file-block ::= \"<<<<<<< FILE \" file-path \"\\n\" line{{0,{file}}} end\n"
        ));
        g.push_str(&format!("file-path ::= {file_path}\n"));
    }
    if let Some(edit_path) = edit_path {
        g.push_str(&format!(
            "edit-block ::= \"<<<<<<< EDIT \" edit-path \"\\n\" line{{1,{search}}} \"=======\\n\" line{{0,{replace}}} end\n"
        ));
        g.push_str(&format!("edit-path ::= {edit_path}\n"));
    }
    // A line starting with a backtick is read a character at a time, so that "```>" and
    // "``` >" cannot begin a line of content: there the marker follows a fence (`end`), and a
    // line that could be both would let the grammar keep a block open that the parser has
    // closed (the model writes on, and its next block has no divider).
    g.push_str(concat!(
        "line ::= \"\\n\" | [^>=`\\n] [^\\n]{0,120} \"\\n\" | \"`\" tick1\n",
        "tick1 ::= \"\\n\" | [^`\\n] [^\\n]{0,119} \"\\n\" | \"`\" tick2\n",
        "tick2 ::= \"\\n\" | [^`\\n] [^\\n]{0,118} \"\\n\" | \"`\" fence\n",
        "fence ::= \"\\n\" | [^ >\\n] [^\\n]{0,117} \"\\n\" | \" \" fence-space\n",
        "fence-space ::= \"\\n\" | [^>\\n] [^\\n]{0,116} \"\\n\"\n",
    ));
    // The marker may follow a code fence on its line (see `closing`).
    g.push_str("end ::= (\"```\" \" \"?)? \">>>>>>> END\\n\"\n");
    g
}

/// How much the grammar lets an answer hold: at most one block per named path (four without),
/// sharing the answer's line budget, so that an answer can always close before the token limit.
/// A part of a block that reached its limit was closed there by the grammar, not by the model
/// (`cut`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub blocks: usize,
    /// Lines of a FILE block.
    pub file: usize,
    /// Lines of an EDIT block's SEARCH part, and of its replacement.
    pub search: usize,
    pub replace: usize,
}

impl Limits {
    /// `named` paths (none: any path) sharing `max_lines`; a FILE block may hold `file_lines`
    /// when that is more (a copy of the file it rewrites).
    pub fn new(named: usize, max_lines: usize, file_lines: usize) -> Limits {
        let blocks = if named == 0 { 4 } else { named.min(4) };
        let each = (max_lines / blocks).max(4);
        Limits {
            blocks,
            file: each.max(file_lines),
            search: (each / 2).max(2),
            replace: each,
        }
    }

    /// The paths of the blocks in `edits` with a part that reached its limit.
    pub fn cut(self, edits: &[Edit]) -> impl Iterator<Item = &str> {
        // A fence on the end marker's line is content here, not a line the grammar counted.
        let lines = |text: &str| {
            text.strip_suffix("```\n")
                .filter(|rest| rest.is_empty() || rest.ends_with('\n'))
                .unwrap_or(text)
                .split_inclusive('\n')
                .count()
        };
        edits.iter().filter_map(move |e| match e {
            Edit::File { path, content } => (lines(content) >= self.file).then_some(path.as_str()),
            Edit::Replace {
                path,
                search,
                replace,
            } => (lines(search) >= self.search || lines(replace) >= self.replace)
                .then_some(path.as_str()),
        })
    }
}

/// The JSON schema of the same edits, for servers that enforce structured output instead of a
/// grammar: whole files only for `whole_paths`, search/replace only for `edit_paths` (any safe
/// path for either when none are named). Strict: nothing else is allowed.
pub fn json_schema(whole_paths: &[String], edit_paths: &[String]) -> serde_json::Value {
    use serde_json::json;
    let named = !(whole_paths.is_empty() && edit_paths.is_empty());
    let list = |items: serde_json::Value, paths: &[String]| {
        let path = if named {
            json!({"type": "string", "enum": paths})
        } else {
            json!({"type": "string", "pattern": "^[a-zA-Z0-9_][a-zA-Z0-9_./ -]{0,200}$"})
        };
        if named && paths.is_empty() {
            // None of this kind: an empty enum is invalid in some validators, so forbid items.
            return json!({"type": "array", "maxItems": 0, "items": {"type": "object"}});
        }
        let mut items = items;
        items["properties"]["path"] = path;
        json!({"type": "array", "items": items})
    };
    let files = list(
        json!({
            "type": "object",
            "properties": {"content": {"type": "string"}},
            "required": ["path", "content"],
            "additionalProperties": false,
        }),
        whole_paths,
    );
    let edits = list(
        json!({
            "type": "object",
            "properties": {"search": {"type": "string"}, "replace": {"type": "string"}},
            "required": ["path", "search", "replace"],
            "additionalProperties": false,
        }),
        edit_paths,
    );
    json!({
        "type": "object",
        "properties": {"files": files, "edits": edits},
        "required": ["files", "edits"],
        "additionalProperties": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What both answer forms of the tests below say.
    fn new_file_and_edit() -> Vec<Edit> {
        vec![
            Edit::File {
                path: "src/new.rs".into(),
                content: "fn a() {}\n".into(),
            },
            Edit::Replace {
                path: "src/lib.rs".into(),
                search: "old\n".into(),
                replace: "new\n".into(),
            },
        ]
    }

    #[test]
    fn the_json_form_parses_into_the_same_edits() {
        let answer = r#"{"files": [{"path": "src/new.rs", "content": "fn a() {}\n"}], "edits": [{"path": "src/lib.rs", "search": "old\n", "replace": "new\n"}]}"#;
        assert_eq!(parse(answer).unwrap(), new_file_and_edit());
        assert_eq!(
            parse(r#"{"files": [{"path": "../x", "content": ""}], "edits": []}"#),
            Err(Error::UnsafePath {
                block: 1,
                path: "../x".into()
            })
        );
        assert_eq!(parse(r#"{"files": [], "edits": []}"#), Err(Error::Empty));
        let schema = json_schema(&["src/new.rs".into()], &[]);
        assert_eq!(schema["properties"]["edits"]["maxItems"], 0);
        assert_eq!(
            schema["properties"]["files"]["items"]["properties"]["path"]["enum"][0],
            "src/new.rs"
        );
    }

    #[test]
    fn parses_blocks_and_ignores_prose() {
        let answer = "Sure! Here is the change.\n<<<<<<< FILE src/new.rs\nfn a() {}\n>>>>>>> END\nand\n<<<<<<< EDIT src/lib.rs\nold\n=======\nnew\n>>>>>>> END\n";
        assert_eq!(parse(answer).unwrap(), new_file_and_edit());
    }

    #[test]
    fn malformed_answers_say_what_is_wrong() {
        assert_eq!(parse("no blocks at all"), Err(Error::Empty));
        assert!(matches!(
            parse("<<<<<<< FILE a.rs\nx\n"),
            Err(Error::Unclosed { line: 1, .. })
        ));
        assert!(matches!(
            parse("<<<<<<< EDIT a.rs\nx\n>>>>>>> END\n"),
            Err(Error::NoDivider { .. })
        ));
        for path in [
            "/etc/passwd",
            "../x",
            "a/../../b",
            ".git/hooks/pre-commit",
            "",
        ] {
            assert!(
                matches!(
                    parse(&format!("<<<<<<< FILE {path}\nx\n>>>>>>> END\n")),
                    Err(Error::UnsafePath { .. })
                ),
                "{path}"
            );
        }
    }

    #[test]
    fn the_grammar_names_the_allowed_paths() {
        let g = grammar(
            &["src/new.rs".into()],
            &["src/lib.rs".into()],
            Limits::new(2, 50, 0),
        );
        assert!(g.contains("line{0,25}"), "two paths share the lines: {g}");
        assert!(g.contains("root ::= block{1,2}"), "{g}");
        assert!(g.contains("file-path ::= \"src/new.rs\"\n"), "{g}");
        assert!(g.contains("edit-path ::= \"src/lib.rs\""), "{g}");
        let only_new = grammar(&["a.rs".into()], &[], Limits::new(1, 50, 80));
        assert!(!only_new.contains("edit-block"), "{only_new}");
        // A FILE block may hold a copy of the file it rewrites.
        assert!(only_new.contains("line{0,80}"), "{only_new}");
        // A large file is edited, never rewritten whole.
        let only_edit = grammar(&[], &["big.rs".into()], Limits::new(1, 50, 0));
        assert!(only_edit.contains("block ::= edit-block\n"), "{only_edit}");
        assert!(!only_edit.contains("file-block"), "{only_edit}");
        assert!(grammar(&[], &[], Limits::new(0, 50, 0)).contains("[a-zA-Z0-9_./-]{0,120}"));
    }

    #[test]
    fn a_part_that_reached_its_limit_is_cut() {
        let limits = Limits::new(1, 8, 0);
        assert_eq!((limits.file, limits.search, limits.replace), (8, 4, 8));
        let file = |n: usize| Edit::File {
            path: "a.rs".into(),
            content: "x\n".repeat(n),
        };
        let replace = |search: usize, replace: usize| Edit::Replace {
            path: "b.rs".into(),
            search: "s\n".repeat(search),
            replace: "r\n".repeat(replace),
        };
        let cut = |edits: &[Edit]| limits.cut(edits).map(str::to_string).collect::<Vec<_>>();
        assert!(cut(&[file(7), replace(3, 7)]).is_empty());
        assert_eq!(cut(&[file(8), replace(3, 7)]), ["a.rs"]);
        assert_eq!(cut(&[file(7), replace(4, 1)]), ["b.rs"]);
        assert_eq!(cut(&[file(8), replace(1, 8)]), ["a.rs", "b.rs"]);
        // A FILE block may hold a copy of the file it rewrites.
        assert_eq!(Limits::new(2, 50, 80).file, 80);
    }

    #[test]
    fn a_search_must_match_exactly_once() {
        let read = |p: &str| (p == "a.rs").then(|| "one\ntwo\none\n".to_string());
        let edit = |search: &str| Edit::Replace {
            path: "a.rs".into(),
            search: search.into(),
            replace: "X\n".into(),
        };
        assert_eq!(
            apply(&[edit("two\n")], read).unwrap()["a.rs"],
            "one\nX\none\n"
        );
        assert!(matches!(
            apply(&[edit("one\n")], read),
            Err(Error::Ambiguous { count: 2, .. })
        ));
        assert!(matches!(
            apply(&[edit("three\n")], read),
            Err(Error::NoMatch { .. })
        ));
        // New lines first and the file's own second: the new lines go above them, which stay.
        let swapped = |search: &str, replace: &str| Edit::Replace {
            path: "a.rs".into(),
            search: search.into(),
            replace: replace.into(),
        };
        assert_eq!(
            apply(&[swapped("/// Two.\n", "two\n")], read).unwrap()["a.rs"],
            "one\n/// Two.\ntwo\none\n"
        );
        // Not where the file's lines occur twice, nor where SEARCH is empty.
        assert!(matches!(
            apply(&[swapped("/// One.\n", "one\n")], read),
            Err(Error::NoMatch { .. })
        ));
        assert!(apply(&[swapped(" \n", "two\n")], read).is_err());
        let missing = Edit::Replace {
            path: "b.rs".into(),
            search: "x".into(),
            replace: "y".into(),
        };
        assert!(matches!(
            apply(&[missing], read),
            Err(Error::Missing { .. })
        ));
    }

    #[test]
    fn a_search_copied_with_other_indentation_still_applies_once() {
        let file = "class Cart:\n    def total(self):\n        return sum(self.items)\n\n    def empty(self):\n        return not self.items\n";
        let read = |p: &str| (p == "cart.py").then(|| file.to_string());
        // The model copied the method flush left, and wrote its replacement flush left too.
        let edit = Edit::Replace {
            path: "cart.py".into(),
            search: "def total(self):\n    return sum(self.items)\n".into(),
            replace: "def total(self):\n    return sum(i.price for i in self.items)\n".into(),
        };
        assert_eq!(
            apply(&[edit], read).unwrap()["cart.py"],
            "class Cart:\n    def total(self):\n        return sum(i.price for i in self.items)\n\n    def empty(self):\n        return not self.items\n"
        );
        // Two places that match loosely are as ambiguous as two exact ones.
        let twice = "if a:\n    go()\nif b:\n        go()\n";
        let read = |p: &str| (p == "t.py").then(|| twice.to_string());
        let edit = Edit::Replace {
            path: "t.py".into(),
            search: "  go()\n".into(),
            replace: "stop()\n".into(),
        };
        assert!(matches!(
            apply(&[edit], read),
            Err(Error::Ambiguous { count: 2, .. })
        ));
    }

    #[test]
    fn a_search_copied_without_the_blank_lines_between_definitions_still_applies() {
        let file = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n\n\ndef last():\n    pass\n";
        let read = |p: &str| (p == "m.py").then(|| file.to_string());
        let edit = Edit::Replace {
            path: "m.py".into(),
            search: "def add(a, b):\n    return a + b\ndef sub(a, b):\n\n    return a - b\n".into(),
            replace: "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n".into(),
        };
        assert_eq!(
            apply(&[edit], read).unwrap()["m.py"],
            "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n\n\ndef last():\n    pass\n"
        );
    }

    #[test]
    fn no_match_says_where_the_nearest_lines_are() {
        let file = "def a():\n    return 1\n\ndef price(item):\n    return item.cost * 2\n";
        let read = |p: &str| (p == "m.py").then(|| file.to_string());
        let edit = Edit::Replace {
            path: "m.py".into(),
            search: "def price(item):\n    return item.cost * 3\n".into(),
            replace: "x\n".into(),
        };
        let err = apply(&[edit], read).unwrap_err().to_string();
        assert!(err.contains("the closest lines are 4-5"), "{err}");
        assert!(err.contains("return item.cost * 2"), "{err}");
    }

    #[test]
    fn a_whole_file_loses_the_markdown_fence_around_it() {
        let edit = |content: &str| Edit::File {
            path: "a.py".into(),
            content: content.into(),
        };
        let none = |_: &str| None;
        assert_eq!(
            apply(&[edit("```python\nx = 1\n```\n")], none).unwrap()["a.py"],
            "x = 1\n"
        );
        // A closing fence alone goes; fences inside the file are left to the parser.
        assert_eq!(
            apply(&[edit("x = 1\n```\n")], none).unwrap()["a.py"],
            "x = 1\n"
        );
        assert_eq!(
            apply(&[edit("x = 1\n```\ny\n```\n")], none).unwrap()["a.py"],
            "x = 1\n```\ny\n```\n"
        );
    }

    #[test]
    fn a_fence_and_the_end_marker_on_one_line_close_the_block() {
        let answer = "<<<<<<< FILE a.py\nx = 1\n``` >>>>>>> END\n<<<<<<< FILE b.md\n```sh\nls\n```>>>>>>> END\n<<<<<<< EDIT a.py\nx = 1\n=======\nx = 2\n``` >>>>>>> END\n";
        let edits = parse(answer).unwrap();
        assert_eq!(edits.len(), 3);
        let files = apply(&edits, |_| None).unwrap();
        // Code loses the fence, Markdown keeps it, a replacement of code never gets it.
        assert_eq!(files["a.py"], "x = 2\n");
        assert_eq!(files["b.md"], "```sh\nls\n```\n");
        assert_eq!(open_block("<<<<<<< FILE a.py\nx\n``` >>>>>>> END\n"), None);
        // The fence is not one of the lines the grammar counted: one line under the limit
        // with it is not cut.
        let limits = Limits {
            blocks: 1,
            file: 2,
            search: 2,
            replace: 2,
        };
        let fenced = parse("<<<<<<< FILE a.py\nx = 1\n``` >>>>>>> END\n").unwrap();
        assert_eq!(limits.cut(&fenced).count(), 0);
        let full = parse("<<<<<<< FILE a.py\nx = 1\ny = 2\n``` >>>>>>> END\n").unwrap();
        assert_eq!(limits.cut(&full).collect::<Vec<_>>(), ["a.py"]);
        // Anything else before the marker is content, not an end.
        assert_eq!(
            open_block("<<<<<<< FILE a.py\nx = 1 >>>>>>> END\n"),
            Some(("a.py".into(), true))
        );
    }
}
