//! Whether a model's answer is worth a commit: it parses and applies, it changes at least one
//! file, and it does not silently drop what the file already defined (what it left out is
//! restored from the file where that can be done exactly, `restore`).
//!
//! A refusal here is sent back to the model as the reason for another attempt; nothing of a
//! refused answer is written anywhere.

use std::collections::{BTreeMap, BTreeSet};

use super::super::edit;

/// Why an answer cannot be used.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(transparent)]
    Edit(#[from] edit::Error),
    #[error("the answer changes no file: every block leaves its file as it was")]
    NothingChanged,
    #[error(
        "the answer removes {} from {path}, which the spec does not ask for; keep every existing definition",
        .names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
    )]
    Dropped { path: String, names: Vec<String> },
    #[error(
        "the FILE block for {path} could not be merged into it: give each definition you add or change complete, as it should read"
    )]
    Merge { path: String },
    #[error(
        "a block for {path} was cut at the answer's line limit; {} (a larger --max-tokens raises the limit)",
        if *.merged { "give only the definitions you add or change" } else { "write it complete in fewer lines" }
    )]
    Cut { path: String, merged: bool },
    #[error(
        "the answer wrote the same {} again and again (from `{}`) and was stopped; write each line once, and end the block when the file is complete",
        if .0.lines == 1 { "line".to_string() } else { format!("{} lines", .0.lines) },
        .0.first
    )]
    Looped(crate::backend::Looped),
    #[error("{path} does not parse at {error}; answer again with every file complete and valid")]
    Syntax {
        path: String,
        error: super::syntax::SyntaxError,
    },
    #[error(
        "the answer writes {path}, which is not among the files the spec lets it change ({}); change only those",
        .allowed.join(", ")
    )]
    Unlisted { path: String, allowed: Vec<String> },
}

/// The files a usable answer changes, with their new content; only files whose content differs.
pub type Changed = BTreeMap<String, String>;

/// What the answer was asked to look like.
#[derive(Clone, Copy, Debug, Default)]
pub struct Asked<'a> {
    /// The one file the spec names, when it names exactly one: an answer in plain fenced code is
    /// then that file's whole content (what servers that cannot enforce the edit format return).
    pub single: Option<&'a str>,
    /// Files whose FILE block holds only the definitions it adds or changes, merged into them.
    pub merged: &'a [String],
    /// What the grammar let the answer hold, when it was sampled under the grammar: a block
    /// that reached a limit was closed there by the grammar, not by the model.
    pub limits: Option<edit::Limits>,
}

/// Parses and applies `text`, then refuses an answer that changes nothing, was cut at the line
/// limit, or drops existing top-level definitions the spec does not name.
pub fn evaluate(
    text: &str,
    read: &dyn Fn(&str) -> Option<String>,
    spec: &str,
    asked: Asked<'_>,
) -> Result<Changed, Refusal> {
    let Asked {
        single,
        merged,
        limits,
    } = asked;
    let edits = match edit::parse(text) {
        Ok(edits) => edits,
        Err(edit::Error::Empty) => match (single, only_fenced_block(text)) {
            (Some(path), Some(content)) => vec![edit::Edit::File {
                path: path.to_string(),
                content,
            }],
            _ => return Err(edit::Error::Empty.into()),
        },
        Err(e) => return Err(e.into()),
    };
    // Code in a block the grammar closed is cut, however well what it holds parses: a Python
    // function cut after its first `return` is valid and wrong, merged it would replace the
    // whole one, and a SEARCH cut short matches the start of what was meant to be replaced. Prose
    // has no parser to tell a cut from an end, and a model too small for the format loops in it
    // until the limit (SmolLM2-135M, every answer): it goes to review as it is, where a reader
    // sees where it stops.
    for path in limits.into_iter().flat_map(|l| l.cut(&edits)) {
        if code(path, merged) {
            return Err(Refusal::Cut {
                path: path.to_string(),
                merged: merged.iter().any(|m| m == path),
            });
        }
    }
    let mut applied = edit::apply(&edits, read)?;
    for path in merged {
        let whole = edits
            .iter()
            .any(|e| matches!(e, edit::Edit::File { path: p, .. } if p == path));
        if let (true, Some(old), Some(part)) = (whole, read(path), applied.get_mut(path)) {
            *part = super::restore::merge(path, &old, part)
                .ok_or_else(|| Refusal::Merge { path: path.clone() })?;
        }
    }
    let changed: Changed = applied
        .into_iter()
        .filter(|(path, content)| read(path).as_deref() != Some(content.as_str()))
        .collect();
    if changed.is_empty() {
        return Err(Refusal::NothingChanged);
    }
    // Only the files the spec lets it touch: a test asked for is not a licence to rewrite the
    // module under test.
    let allowed = crate::spec::files_to_touch(spec);
    if !allowed.is_empty()
        && let Some(path) = changed.keys().find(|p| !allowed.iter().any(|a| a == *p))
    {
        return Err(Refusal::Unlisted {
            path: path.clone(),
            allowed,
        });
    }
    // Nothing that cannot run: a file cut off mid-loop, or with a stray bracket, goes back to
    // the model with where it stopped parsing. A file that did not parse before is not judged.
    for (path, content) in &changed {
        if let Some(error) = super::syntax::check(path, content)
            && read(path).is_none_or(|old| super::syntax::check(path, &old).is_none())
        {
            return Err(Refusal::Syntax {
                path: path.clone(),
                error,
            });
        }
    }
    let named = code_names(spec);
    let mut changed = changed;
    for (path, content) in changed.iter_mut() {
        let Some(old) = read(path) else { continue };
        // Methods a rewritten class or impl left out go back the same way; where that cannot
        // be done exactly the answer stands as it is (the check and the review judge it).
        if let Some(restored) =
            super::restore::restore_members(path, &old, content, &|n| named.contains(n))
        {
            tracing::info!(%path, "methods the answer left out are restored");
            *content = restored;
        }
        let kept = definitions(content);
        let names: Vec<String> = definitions(&old)
            .into_iter()
            .filter(|d| !kept.contains(d) && !named.contains(d.as_str()))
            .collect();
        if names.is_empty() {
            continue;
        }
        // What the spec did not ask to remove is kept: copied back from the file as it was,
        // where the file's grammar lets that be done exactly; else the model is asked again.
        match super::restore::restore(path, &old, content, &names) {
            Some(restored) => {
                tracing::info!(%path, ?names, "definitions the answer left out are restored");
                *content = restored;
            }
            None => {
                return Err(Refusal::Dropped {
                    path: path.clone(),
                    names,
                });
            }
        }
    }
    Ok(changed)
}

/// Whether a block for `path` is code, whose end a parser can judge: a file with a tree-sitter
/// grammar, or one merged by name. A block of code that stopped early (at the grammar's limit,
/// in a loop) is refused; prose goes to review as it is.
fn code(path: &str, merged: &[String]) -> bool {
    merged.iter().any(|m| m == path) || super::syntax::language(path).is_some()
}

/// An answer stopped in a loop (`Generated::looped`). Like a block the grammar closed, a loop
/// in code is refused: what came before it is not known to be the whole of anything. Prose
/// ends where the loop began, its block closed after the one copy written, and is judged as
/// any answer (the tiny model loops in prose on every answer; a reader sees where it stops).
pub fn evaluate_looped(
    text: &str,
    looped: &crate::backend::Looped,
    read: &dyn Fn(&str) -> Option<String>,
    spec: &str,
    asked: Asked<'_>,
) -> Result<Changed, Refusal> {
    let refused = || Refusal::Looped(looped.clone());
    let before = text.get(..looped.from).ok_or_else(refused)?;
    if before.trim_start().starts_with('{') {
        // JSON cut anywhere is not an answer.
        return Err(refused());
    }
    let kept = match edit::open_block(before) {
        // Between blocks: the ones before it are whole. With none at all (an answer in a
        // fenced code block, from a server that could not be told the format) it was code.
        None if before.contains(edit::OPEN_FILE) || before.contains(edit::OPEN_EDIT) => {
            before.to_string()
        }
        None => return Err(refused()),
        Some((path, true)) if !code(&path, asked.merged) => {
            let newline = if before.ends_with('\n') { "" } else { "\n" };
            format!("{before}{newline}{}\n", edit::CLOSE)
        }
        Some(_) => return Err(refused()),
    };
    evaluate(
        &kept,
        read,
        spec,
        Asked {
            limits: None,
            ..asked
        },
    )
}

/// The content of the answer's only fenced code block, when it has exactly one.
fn only_fenced_block(text: &str) -> Option<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if bare.trim_start().starts_with("```") {
            match current.take() {
                Some(body) => blocks.push(body),
                None => current = Some(String::new()),
            }
        } else if let Some(body) = current.as_mut() {
            body.push_str(line);
        }
    }
    match (blocks.len(), current) {
        (1, None) => blocks.pop().filter(|b| !b.trim().is_empty()),
        _ => None,
    }
}

/// The names the spec writes as code: inside backticks, or called (`name(`). Plain words do
/// not count: "add a function" must not license dropping `add`.
fn code_names(text: &str) -> BTreeSet<&str> {
    let identifiers = |s: &'_ str| -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut start = None;
        for (i, c) in s.char_indices().chain([(s.len(), ' ')]) {
            match (c.is_alphanumeric() || c == '_', start) {
                (true, None) => start = Some(i),
                (false, Some(b)) => {
                    out.push((b, i));
                    start = None;
                }
                _ => {}
            }
        }
        out
    };
    let mut names = BTreeSet::new();
    for (i, span) in text.split('`').enumerate() {
        for (b, e) in identifiers(span) {
            // Odd pieces are inside backticks; elsewhere only a call names a definition.
            if i % 2 == 1 || span[e..].starts_with('(') {
                names.insert(&span[b..e]);
            }
        }
    }
    names
}

/// The names a file defines at its top level, by the keywords of the common languages
/// (Python, Rust, Go, JavaScript/TypeScript, Ruby, shell functions aside): a line that starts in
/// column 0 with optional modifiers, then a defining keyword, then a name.
pub fn definitions(text: &str) -> BTreeSet<String> {
    const MODIFIERS: &[&str] = &[
        "pub",
        "async",
        "unsafe",
        "const",
        "export",
        "default",
        "extern",
        "static",
        "abstract",
        "final",
        "public",
        "private",
        "protected",
    ];
    const KEYWORDS: &[&str] = &[
        "def",
        "class",
        "fn",
        "struct",
        "enum",
        "trait",
        "union",
        "mod",
        "type",
        "func",
        "function",
        "interface",
        "module",
    ];
    let mut out = BTreeSet::new();
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            continue;
        }
        // Skip modifiers (`pub(crate)` included), then expect a defining keyword.
        let mut rest = line;
        let keyword = loop {
            let word_end = rest
                .find(|c: char| c.is_whitespace() || c == '(')
                .unwrap_or(rest.len());
            let (word, after) = rest.split_at(word_end);
            let after = match (word, after.strip_prefix('(')) {
                ("pub", Some(scoped)) => scoped.split_once(')').map_or("", |(_, a)| a),
                _ => after,
            };
            if MODIFIERS.contains(&word) {
                rest = after.trim_start();
                continue;
            }
            break KEYWORDS.contains(&word).then_some(after);
        };
        // A Go method's receiver comes first: `func (r *R) Name` is not a top-level name.
        let Some(after) = keyword.map(str::trim_start).filter(|a| !a.starts_with('(')) else {
            continue;
        };
        let name: String = after
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.insert(name);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str =
        "def keep(a):\n    return a\n\n\nclass Store:\n    pass\n\n\ndef other():\n    return 1\n";

    fn read(path: &str) -> Option<String> {
        (path == "app.py").then(|| OLD.to_string())
    }

    #[test]
    fn an_answer_that_changes_nothing_is_refused() {
        let same = format!("<<<<<<< FILE app.py\n{OLD}>>>>>>> END\n");
        assert_eq!(
            evaluate(&same, &read, "spec", Asked::default()),
            Err(Refusal::NothingChanged)
        );
    }

    #[test]
    fn definitions_the_spec_does_not_name_are_restored_or_the_answer_refused() {
        let answer = "<<<<<<< FILE app.py\ndef keep(a):\n    return a\n\n\ndef added():\n    return 2\n>>>>>>> END\n";
        // Python has a grammar here: what the answer left out is put back where it was.
        let changed =
            evaluate(answer, &read, "Add `added()` to app.py.", Asked::default()).unwrap();
        assert_eq!(
            changed["app.py"],
            "def keep(a):\n    return a\n\n\nclass Store:\n    pass\n\n\ndef other():\n    return 1\n\n\ndef added():\n    return 2\n"
        );
        // Named by the spec: its removal is asked for.
        let spec = "Remove `Store` and `other` from app.py; add `added()`.";
        assert!(
            !evaluate(answer, &read, spec, Asked::default()).unwrap()["app.py"].contains("Store")
        );
        // Without a grammar for the file, the answer is refused with what it dropped.
        let read_rb = |path: &str| {
            (path == "app.rb").then(|| "def keep\nend\n\ndef other\nend\n".to_string())
        };
        let answer = "<<<<<<< FILE app.rb\ndef keep\nend\n\ndef added\nend\n>>>>>>> END\n";
        match evaluate(answer, &read_rb, "Add `added` to app.rb.", Asked::default()) {
            Err(Refusal::Dropped { path, names }) => {
                assert_eq!(path, "app.rb");
                assert_eq!(names, vec!["other".to_string()]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_merged_file_block_keeps_everything_it_leaves_out() {
        let answer = "<<<<<<< FILE app.py\ndef other():\n    return 2\n\n\ndef added():\n    return 3\n>>>>>>> END\n";
        let merged = ["app.py".to_string()];
        let asked = Asked {
            merged: &merged,
            ..Asked::default()
        };
        let changed = evaluate(answer, &read, "Add `added()`.", asked).unwrap();
        assert_eq!(
            changed["app.py"],
            "def keep(a):\n    return a\n\n\nclass Store:\n    pass\n\n\ndef other():\n    return 2\n\n\ndef added():\n    return 3\n"
        );
        let broken = "<<<<<<< FILE app.py\ndef added(:\n>>>>>>> END\n";
        assert_eq!(
            evaluate(broken, &read, "spec", asked),
            Err(Refusal::Merge {
                path: "app.py".into()
            })
        );
    }

    #[test]
    fn a_loop_in_code_is_refused_and_prose_ends_where_it_began() {
        let stopped = |text: &str, block: &str| {
            let mut repeats = crate::backend::Repeats::default();
            let whole = format!("{text}{}", block.repeat(3));
            let looped = repeats.push(whole.as_bytes()).expect("a loop");
            (whole, looped)
        };
        // Code: refused, whatever came before parses.
        let (answer, looped) = stopped(
            "<<<<<<< FILE app.py\ndef keep(a):\n    return a\n",
            "    x = 1\n    y = 2\n    z = 3\n",
        );
        assert_eq!(
            evaluate_looped(&answer, &looped, &read, "spec", Asked::default()),
            Err(Refusal::Looped(looped.clone()))
        );
        assert!(
            Refusal::Looped(looped)
                .to_string()
                .contains("the same 3 lines again and again (from `x = 1`)")
        );
        // Prose: one copy kept, the block closed, judged as any answer.
        let (answer, looped) = stopped(
            "<<<<<<< FILE notes.md\n# Notes\n",
            "Say hello.\nSay it twice.\nThen stop.\n",
        );
        assert_eq!(
            evaluate_looped(&answer, &looped, &read, "spec", Asked::default()).unwrap()["notes.md"],
            "# Notes\nSay hello.\nSay it twice.\nThen stop.\n"
        );
        // Prose merged into a file, or an EDIT block of prose: refused.
        let merged = ["notes.md".to_string()];
        let asked = Asked {
            merged: &merged,
            ..Asked::default()
        };
        assert!(matches!(
            evaluate_looped(&answer, &looped, &read, "spec", asked),
            Err(Refusal::Looped(_))
        ));
        let edit = answer.replace("FILE notes.md", "EDIT notes.md");
        assert!(matches!(
            evaluate_looped(&edit, &looped, &read, "spec", Asked::default()),
            Err(Refusal::Looped(_))
        ));
        // Code in a fenced block, no edit blocks at all: refused as a loop.
        let (answer, looped) =
            stopped("```python\ndef f():\n", "    a = 1\n    b = 2\n    c = 3\n");
        let single = Asked {
            single: Some("app.py"),
            ..Asked::default()
        };
        assert_eq!(
            evaluate_looped(&answer, &looped, &read, "spec", single),
            Err(Refusal::Looped(looped))
        );
    }

    #[test]
    fn a_block_the_grammar_closed_is_cut_even_where_it_parses() {
        // `keep` copied up to its first line: valid Python, and merged it would replace the
        // whole function.
        let answer =
            "<<<<<<< FILE app.py\ndef other():\n    return 2\n\n\ndef keep(a):\n>>>>>>> END\n";
        let merged = ["app.py".to_string()];
        let limited = |file: usize| Asked {
            merged: &merged,
            limits: Some(edit::Limits {
                file,
                ..edit::Limits::new(1, 40, 0)
            }),
            ..Asked::default()
        };
        assert_eq!(
            evaluate(answer, &read, "spec", limited(5)),
            Err(Refusal::Cut {
                path: "app.py".into(),
                merged: true
            })
        );
        // One line short of the limit, the model closed it (and the merge is refused for what
        // it is).
        assert_eq!(
            evaluate(answer, &read, "spec", limited(6)),
            Err(Refusal::Merge {
                path: "app.py".into()
            })
        );
        // A new code file too, and an EDIT whose SEARCH the grammar ended: it matches the start
        // of what was to be replaced.
        let new = "<<<<<<< FILE new.py\ndef f():\n    return 1\n>>>>>>> END\n";
        let search = "<<<<<<< EDIT app.py\ndef keep(a):\n    return a\n=======\ndef keep(a):\n    return a + 1\n>>>>>>> END\n";
        let limits = Some(edit::Limits {
            blocks: 1,
            file: 2,
            search: 2,
            replace: 4,
        });
        for answer in [new, search] {
            assert!(
                matches!(
                    evaluate(
                        answer,
                        &read,
                        "spec",
                        Asked {
                            limits,
                            ..Asked::default()
                        }
                    ),
                    Err(Refusal::Cut { merged: false, .. })
                ),
                "{answer}"
            );
        }
        // Prose has no parser to tell a cut from an end: it goes to review as it is.
        let prose = "<<<<<<< FILE notes.md\n# A\n\nb\nc\n>>>>>>> END\n";
        assert!(
            evaluate(
                prose,
                &read,
                "spec",
                Asked {
                    limits,
                    ..Asked::default()
                }
            )
            .is_ok()
        );
    }

    #[test]
    fn a_single_fenced_block_is_the_one_named_file() {
        let answer = "Here it is:\n```python\ndef keep(a):\n    return a\n\nclass Store:\n    pass\n\ndef other():\n    return 1\n\ndef new():\n    return 3\n```\n";
        let single = Asked {
            single: Some("app.py"),
            ..Asked::default()
        };
        let changed = evaluate(answer, &read, "spec", single).unwrap();
        assert!(changed["app.py"].contains("def new()"));
        assert!(evaluate(answer, &read, "spec", Asked::default()).is_err());
        let two = format!("{answer}```\nmore\n```\n");
        assert!(evaluate(&two, &read, "spec", single).is_err());
    }

    #[test]
    fn top_level_definitions_in_several_languages() {
        let rust = "pub fn a() {}\nfn b<T>() {}\npub(crate) struct C;\nimpl C {\n    fn inner() {}\n}\npub async fn d() {}\nenum E {}\n";
        let names: Vec<String> = definitions(rust).into_iter().collect();
        assert_eq!(names, ["C", "E", "a", "b", "d"]);
        let python = "async def f():\n    def g(): pass\nclass K(Base):\n    pass\n";
        let names: Vec<String> = definitions(python).into_iter().collect();
        assert_eq!(names, ["K", "f"]);
        let js =
            "export function h() {}\nexport default class Q {}\nfunc (r *R) M() {}\nfunc G() {}\n";
        let names: Vec<String> = definitions(js).into_iter().collect();
        assert_eq!(names, ["G", "Q", "h"]);
    }
}
