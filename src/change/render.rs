//! A change as a person reads it: unified hunks with line numbers, and notes (review findings)
//! under the lines they are about. Colour only when asked (the caller knows if it is a terminal).

use std::collections::BTreeMap;

use super::{Body, Change, Tag};

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const CYAN: &str = "\x1b[36m";
const YELLOW: &str = "\x1b[33m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// Notes keyed by (path, line in the new file); line 0 notes go under the file's header.
pub type Notes = BTreeMap<(String, u32), Vec<String>>;

/// One hunk as plain unified diff: its header, then each line behind its sign (` `, `-`, `+`),
/// line terminators dropped. What the reviewer reads.
pub fn unified(hunk: &super::Hunk, out: &mut String) {
    out.push_str(&hunk.header());
    out.push('\n');
    for l in &hunk.lines {
        out.push(l.tag.sign());
        out.push_str(String::from_utf8_lossy(&l.bytes).trim_end_matches(['\n', '\r']));
        out.push('\n');
    }
}

/// A change as a person reads it, with `notes` under their lines.
pub fn render(change: &Change, notes: &Notes, color: bool) -> String {
    let paint = |code: &str, text: &str| {
        if color {
            format!("{code}{text}{RESET}")
        } else {
            text.to_string()
        }
    };
    let mut out = String::new();
    let mut shown = std::collections::HashSet::new();
    for f in &change.files {
        let path = f.display_path();
        let old = f
            .old
            .as_ref()
            .map(|s| String::from_utf8_lossy(&s.path).into_owned());
        let header = match (&old, &f.new) {
            (None, _) => format!("added {path}"),
            (Some(_), None) => format!("deleted {path}"),
            (Some(o), Some(_)) if *o != path => format!("renamed {o} -> {path}"),
            _ => format!("modified {path}"),
        };
        out.push_str(&paint(BOLD, &header));
        out.push('\n');
        let mut note = |out: &mut String, line: u32| {
            if let Some(list) = notes.get(&(path.clone(), line)) {
                shown.insert((path.clone(), line));
                for n in list {
                    out.push_str(&paint(YELLOW, &format!("    ^ {n}")));
                    out.push('\n');
                }
            }
        };
        note(&mut out, 0);
        match f.decoded.as_ref().map(|d| (d.lfs, d.encoding)) {
            Some((Some(super::lfs::Seen::Whole), _)) => {
                out.push_str("  (a Git LFS file: its oid line, then the object's content)\n")
            }
            Some((Some(super::lfs::Seen::OidOnly), _)) => out.push_str(
                "  (a Git LFS file whose object is not here, or is not text: only its oid line)\n",
            ),
            Some((None, super::text::Encoding::Notebook)) => {
                out.push_str("  (a Jupyter notebook: read as its cells' source)\n")
            }
            Some((None, super::text::Encoding::Embedded)) => out.push_str(
                "  (JSON or YAML: its strings' escaped line breaks read as line breaks)\n",
            ),
            Some((None, encoding)) => out.push_str(&format!(
                "  (git calls this binary; read as {} text)\n",
                encoding.name()
            )),
            None => {}
        }
        match (&f.body, f.text_hunks()) {
            (Body::Opaque, []) => out.push_str("  (binary, symlink or submodule)\n"),
            (Body::Text(_), []) => out.push_str("  (content unchanged)\n"),
            (_, hunks) => {
                for h in hunks {
                    out.push_str(&paint(CYAN, &h.header()));
                    out.push('\n');
                    for l in &h.lines {
                        let text = String::from_utf8_lossy(&l.bytes);
                        let text = text.trim_end_matches(['\n', '\r']);
                        let sign = l.tag.sign();
                        let (code, number) = match l.tag {
                            Tag::Context => ("", l.new_line),
                            Tag::Removed => (RED, None),
                            Tag::Added => (GREEN, l.new_line),
                        };
                        let number = number.map_or("     ".to_string(), |n| format!("{n:>5}"));
                        let body = format!("{number} {sign}{text}");
                        out.push_str(&if code.is_empty() {
                            body
                        } else {
                            paint(code, &body)
                        });
                        out.push('\n');
                        if l.tag != Tag::Removed
                            && let Some(n) = l.new_line
                        {
                            note(&mut out, n);
                        }
                    }
                }
            }
        }
    }
    // Findings about lines the hunks do not show still get shown.
    let rest: Vec<_> = notes.iter().filter(|(k, _)| !shown.contains(*k)).collect();
    if !rest.is_empty() {
        out.push_str(&paint(BOLD, "notes on lines outside the hunks"));
        out.push('\n');
        for ((path, line), list) in rest {
            for n in list {
                out.push_str(&paint(YELLOW, &format!("  {path}:{line}: {n}")));
                out.push('\n');
            }
        }
    }
    out
}
