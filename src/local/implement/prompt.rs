//! What the model is asked: the instructions, the spec, the repository context around the files
//! it names, and which files it may rewrite whole (the grammar's shape).

use std::path::Path;

use git2::Repository;

use super::super::{Backend, ChatMessage, edit};
use crate::spec::{Spec, paths_named};

/// Existing files up to this many lines may only be rewritten whole where the backend enforces
/// a grammar (and only when a whole rewrite fits the answer's line budget).
const WHOLE_FILE_LINES: usize = 60;

const SYSTEM: &str = "You are a careful software engineer. You implement exactly what the spec asks, \
in the style of the surrounding code, with error handling and tests where the spec asks for them.";

/// The first messages of a conversation, and what the context left out.
pub struct Prompt {
    pub messages: Vec<ChatMessage>,
    pub left_out: Vec<String>,
    /// The one file the spec names, when it names exactly one (besides itself).
    pub single: Option<String>,
}

/// Builds the prompt and constrains `backend` to the edit format over the named files.
pub fn build(
    git: &Repository,
    base: &git2::Tree<'_>,
    spec: &Spec,
    context_tokens: usize,
    backend: &mut dyn Backend,
) -> Prompt {
    let context = super::context::build(git, base, &spec.text, context_tokens, &|t| {
        backend.count_tokens(t)
    });
    if !context.outlined.is_empty() {
        tracing::debug!(outlined = ?context.outlined, "files given as their outline");
    }
    // Where the backend can enforce it, the answer may only touch the files the spec names:
    // new and small ones written whole, larger ones edited.
    let named: Vec<String> = paths_named(&spec.text)
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
    // Bounded so that a looping model still ends its answer before the token limit: at 20
    // tokens a line. 40 ended files after 15 lines at --max-tokens 600 — the grammar closed the
    // block mid-function, and the cut file could never parse (benches/implement_quality: 6 of 8
    // Rust tasks); 12 let the tiny test model loop into the token limit instead.
    let max_lines = backend.max_tokens().map_or(400, |t| t as usize / 20);
    // A small file is rewritten whole: it costs about what a SEARCH/REPLACE pair costs, and it
    // cannot fail to apply — small models rarely copy SEARCH lines exactly.
    let whole_up_to = WHOLE_FILE_LINES.min(max_lines * 3 / 4);
    let (small, existing): (Vec<String>, Vec<String>) = existing.into_iter().partition(|p| {
        base.get_path(Path::new(p))
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
    backend.constrain(&crate::backend::Constraint {
        gbnf: edit::grammar(&whole, &existing, max_lines),
        json_schema: edit::json_schema(&whole, &existing),
    });
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
                    "Repository files for context:\n\n{}\n\nSpec ({}):\n\n{}",
                    context.text, spec.path, spec.text
                ),
            },
        ],
        left_out: context.left_out,
        single,
    }
}

/// What the model is told after an answer that could not be used.
pub fn refused(reason: &dyn std::fmt::Display) -> String {
    format!(
        "Your answer could not be used: {reason}. Answer again with the complete set of blocks, in the format described."
    )
}

/// What the model is told after an answer whose check failed.
pub fn check_failed(command: &str, status: &str, output: &str) -> String {
    format!(
        "An earlier answer to this spec failed the check `{command}` ({status}). Its output:\n\n```\n{}\n```\n\nWrite an implementation that passes the check: read the spec again, and answer with the complete set of blocks, in the format described, against the files as shown above.",
        output.trim_end()
    )
}
