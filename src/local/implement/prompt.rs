//! What the model is asked: the instructions, the spec, the repository context around the files
//! it names, and which files it may rewrite whole (the grammar's shape).

use std::path::Path;

use git2::Repository;

use super::super::{Backend, ChatMessage, edit};
use crate::spec::{Spec, files_to_touch};

/// Existing files up to this many lines are rewritten whole under `auto` (and only when a whole
/// rewrite fits the answer's line budget).
const WHOLE_FILE_LINES: usize = 60;

/// How the model is asked to change an existing file: new files are always written whole.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EditFormat {
    /// Whole for small files, merged for larger ones (see `WHOLE_FILE_LINES`): on the
    /// benchmark's extension tasks EDIT blocks lost to both with the 0.5B and 1.5B models.
    #[default]
    Auto,
    /// Every existing file whole as far as the answer's line budget holds it, larger ones
    /// merged (their FILE block holds only the definitions added or changed).
    Whole,
    /// Every existing file by EDIT (search/replace) blocks.
    Edit,
    /// Every existing file merged: a FILE block with only the definitions added or changed,
    /// merged into the file by name (`restore::merge`).
    Merge,
}

impl EditFormat {
    pub fn parse(name: &str) -> Option<EditFormat> {
        Some(match name {
            "auto" => EditFormat::Auto,
            "whole" | "whole-file" | "whole_file" => EditFormat::Whole,
            "edit" | "diff" | "search-replace" | "search_replace" => EditFormat::Edit,
            "merge" | "definitions" => EditFormat::Merge,
            _ => return None,
        })
    }

    /// How an existing file of `lines` non-empty lines is changed.
    fn for_file(self, lines: usize, max_lines: usize) -> FileFormat {
        let budget = max_lines * 3 / 4;
        match self {
            EditFormat::Auto if lines <= WHOLE_FILE_LINES.min(budget) => FileFormat::Whole,
            EditFormat::Whole if lines <= budget => FileFormat::Whole,
            EditFormat::Auto | EditFormat::Whole | EditFormat::Merge => FileFormat::Merge,
            EditFormat::Edit => FileFormat::Edit,
        }
    }
}

/// How one existing file is changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FileFormat {
    Whole,
    Edit,
    Merge,
}

const SYSTEM: &str = "You are a careful software engineer. You implement exactly what the spec asks, \
in the style of the surrounding code, with error handling and tests where the spec asks for them.";

/// The first messages of a conversation, and what the context left out.
pub struct Prompt {
    pub messages: Vec<ChatMessage>,
    pub left_out: Vec<String>,
    /// The one file the spec names, when it names exactly one (besides itself).
    pub single: Option<String>,
    /// The answer's shape the backend was constrained to.
    pub shape: Shape,
}

/// Builds the prompt and constrains `backend` to the edit format over the named files.
pub fn build(
    git: &Repository,
    base: &git2::Tree<'_>,
    spec: &Spec,
    context_tokens: usize,
    format: EditFormat,
    backend: &mut dyn Backend,
) -> Prompt {
    let context = super::context::build(git, base, &spec.text, context_tokens, &|t| {
        backend.count_tokens(t)
    });
    if !context.outlined.is_empty() {
        tracing::debug!(outlined = ?context.outlined, "files given as their outline");
    }
    // Where the backend can enforce it, the answer may only touch the files the spec lets it
    // write (the same list an answer is refused by): new ones written whole, existing ones
    // whole or edited as the format says.
    let named: Vec<String> = files_to_touch(&spec.text)
        .into_iter()
        .filter(|p| *p != spec.path)
        .collect();
    let single = match named.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    };
    let (existing, new): (Vec<String>, Vec<String>) = named
        .into_iter()
        .partition(|p| base.get_path(Path::new(p)).is_ok());
    let existing = existing
        .into_iter()
        .map(|path| {
            let content = base
                .get_path(Path::new(&path))
                .ok()
                .and_then(|e| git.find_blob(e.id()).ok())
                .map(|b| String::from_utf8_lossy(b.content()).into_owned())
                .unwrap_or_default();
            Existing {
                lines: content.lines().filter(|l| !l.is_empty()).count(),
                all_lines: content.lines().count(),
                tokens: backend.count_tokens(&content),
                path,
            }
        })
        .collect();
    // Bounded so that a looping model still ends its answer before the token limit: at 20
    // tokens a line. 40 ended files after 15 lines at --max-tokens 600 — the grammar closed the
    // block mid-function, and the cut file could never parse (benches/implement_quality: 6 of 8
    // Rust tasks); 12 let the tiny test model loop into the token limit instead.
    let max_lines = backend.max_tokens().map_or(400, |t| t as usize / 20);
    let shape = Shape {
        new,
        existing,
        max_lines,
        format,
    };
    shape.constrain(backend);
    Prompt {
        messages: vec![
            ChatMessage {
                role: "system",
                content: format!("{SYSTEM}\n\n{}", edit::INSTRUCTIONS),
            },
            ChatMessage {
                role: "user",
                // The repository's files first, the spec last: jobs on the same files then share
                // the longest prompt prefix (a warm model reads only what differs), and the task
                // is what the model read last.
                content: format!(
                    "Repository files for context:\n\n{}\n\nSpec ({}):\n\n{}{}",
                    context.text,
                    spec.path,
                    spec.text,
                    shape.told().map_or(String::new(), |t| format!("\n\n{t}"))
                ),
            },
        ],
        left_out: context.left_out,
        single,
        shape,
    }
}

/// Which files the answer may write whole and which it must edit: the grammar's shape, kept so
/// that a retry can ask for the other format.
#[derive(Clone, Debug)]
pub struct Shape {
    new: Vec<String>,
    /// The named files that exist.
    existing: Vec<Existing>,
    max_lines: usize,
    pub format: EditFormat,
}

/// A file the spec names that exists, measured.
#[derive(Clone, Debug)]
struct Existing {
    path: String,
    /// Non-empty lines.
    lines: usize,
    all_lines: usize,
    tokens: usize,
}

impl Shape {
    /// The files written whole (new ones, and existing ones the format gives whole), those
    /// changed by EDIT blocks, and those whose FILE block is merged.
    fn split(&self) -> (Vec<String>, Vec<String>, Vec<String>) {
        let mut whole = self.new.clone();
        let (mut edit, mut merge) = (Vec::new(), Vec::new());
        for file in &self.existing {
            // A small file is rewritten whole: it costs about what a SEARCH/REPLACE pair costs,
            // and it cannot fail to apply — small models rarely copy SEARCH lines exactly.
            let path = file.path.clone();
            match self.format.for_file(file.lines, self.max_lines) {
                FileFormat::Whole => whole.push(path),
                FileFormat::Edit => edit.push(path),
                FileFormat::Merge => merge.push(path),
            }
        }
        (whole, edit, merge)
    }

    /// What the grammar lets the answer hold. Where a copy of an existing file given whole or
    /// merged fits the answer's token budget, a FILE block may hold that copy and half the
    /// budget's lines more: asked for only what they add, small models still copy the whole
    /// file (benches/implement_quality: the 1.5B model on every extension of a 50-60-line
    /// module), and a block closed by the grammar halfway through the copy never reached the
    /// new definition at the end.
    pub fn limits(&self) -> edit::Limits {
        let (whole, edit, merge) = self.split();
        let named = whole.len() + edit.len() + merge.len();
        let copy = self
            .existing
            .iter()
            // Three quarters of the token budget (`max_lines` is that budget at 20 tokens a line).
            .filter(|f| !edit.contains(&f.path) && f.tokens <= self.max_lines * 15)
            .map(|f| f.all_lines + self.max_lines / 2)
            .max()
            .unwrap_or(0);
        edit::Limits::new(named, self.max_lines, copy)
    }

    /// The existing files whose FILE block holds only what it adds or changes.
    pub fn merged(&self) -> Vec<String> {
        self.split().2
    }

    /// Constrains `backend` to this shape, where it can enforce one.
    pub fn constrain(&self, backend: &mut dyn Backend) {
        let (mut whole, edit, merge) = self.split();
        whole.extend(merge);
        backend.constrain(&crate::backend::Constraint {
            gbnf: edit::grammar(&whole, &edit, self.limits()),
            json_schema: edit::json_schema(&whole, &edit),
        });
    }

    /// What the model is told about files merged by definition, when there are any.
    pub fn told(&self) -> Option<String> {
        let merged = self.merged();
        (!merged.is_empty()).then(|| {
            format!(
                "{} {} too long to write whole: for {}, answer a FILE block holding only the definitions you add or change, each complete, and the imports they need. Everything you leave out stays in the file as it is.",
                merged.join(", "),
                if merged.len() == 1 { "is" } else { "are" },
                if merged.len() == 1 { "it" } else { "each" },
            )
        })
    }

    /// The other format, when asking for it changes what the answer may do with an existing
    /// file after `refusal`: a whole rewrite that changed nothing is asked as EDIT blocks (a
    /// small model copying a file tends to copy it unchanged), EDIT blocks that did not apply
    /// are asked as whole files where the line budget holds them, merged where it does not.
    pub fn other_after(&self, refusal: &super::Refusal) -> Option<Shape> {
        use super::super::edit::Error as E;
        let format = match refusal {
            super::Refusal::NothingChanged => EditFormat::Edit,
            super::Refusal::Edit(
                E::NoMatch { .. } | E::Ambiguous { .. } | E::EmptySearch { .. },
            ) => EditFormat::Whole,
            _ => return None,
        };
        let other = Shape {
            format,
            ..self.clone()
        };
        (other.split() != self.split()).then_some(other)
    }
}

/// What the model is told after an answer that could not be used; `now` is the format asked
/// for from here on, when it changed.
pub fn refused(
    reason: &dyn std::fmt::Display,
    now: Option<EditFormat>,
    told: Option<String>,
) -> String {
    let how = match now {
        Some(EditFormat::Edit) => {
            " This time, change each existing file with EDIT blocks: copy the lines to change, then write what replaces them."
        }
        Some(EditFormat::Whole | EditFormat::Merge) => {
            " This time, write each file in a FILE block, every existing line kept unless the spec changes it."
        }
        _ => "",
    };
    format!(
        "Your answer could not be used: {reason}.{how}{} Answer again with the complete set of blocks, in the format described.",
        told.map_or(String::new(), |t| format!(" {t}"))
    )
}

/// What the model is told after an answer whose check failed.
pub fn check_failed(command: &str, status: &str, output: &str) -> String {
    format!(
        "An earlier answer to this spec failed the check `{command}` ({status}). Its output:\n\n```\n{}\n```\n\nWrite an implementation that passes the check: read the spec again, and answer with the complete set of blocks, in the format described, against the files as shown above.",
        output.trim_end()
    )
}
