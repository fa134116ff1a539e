//! Whether a file an answer writes parses, in the languages there is a grammar for here
//! (tree-sitter's: Python, Rust, JavaScript, TypeScript, Go): an answer cut off mid-loop, or
//! with a stray bracket, is refused with where the parser stopped, so the model can be asked
//! again instead of a broken file reaching a branch.
//!
//! It judges syntax only — never style, types or meaning — and says nothing about files in
//! other languages or files that did not parse before the answer either (their breakage is not
//! the model's).

/// Where a file stops parsing: 1-based line and column, and what the parser found there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: usize,
    pub column: usize,
    pub what: String,
}

impl std::fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.what
        )
    }
}

/// The grammar for a path, by its extension.
pub(super) fn language(path: &str) -> Option<tree_sitter::Language> {
    let extension = path.rsplit_once('.')?.1;
    Some(match extension {
        "py" | "pyi" => tree_sitter_python::LANGUAGE.into(),
        "rs" => tree_sitter_rust::LANGUAGE.into(),
        "js" | "mjs" | "cjs" | "jsx" => tree_sitter_javascript::LANGUAGE.into(),
        "ts" | "mts" | "cts" => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
        "tsx" => tree_sitter_typescript::LANGUAGE_TSX.into(),
        "go" => tree_sitter_go::LANGUAGE.into(),
        _ => return None,
    })
}

/// The first place `content` (the file at `path`) stops parsing, or `None` when it parses or
/// there is no grammar for it.
pub fn check(path: &str, content: &str) -> Option<SyntaxError> {
    let language = language(path)?;
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(&language).ok()?;
    let tree = parser.parse(content, None)?;
    let root = tree.root_node();
    if !root.has_error() {
        // Python's grammar here accepts a block with no statements (`for x in xs:` and then the
        // end of the file): Python does not, and it is what an answer cut off looks like.
        return (path.ends_with(".py") || path.ends_with(".pyi"))
            .then(|| empty_block(root))
            .flatten()
            .map(|block| SyntaxError {
                line: block.start_position().row + 1,
                column: block.start_position().column + 1,
                what: "an indented block is missing (the file is cut off?)".to_string(),
            });
    }
    let bad = first_error(root).unwrap_or(root);
    if !bad.is_missing() && bad.end_byte() >= content.trim_end().len() {
        // The broken part runs to the end of the file: something opened there is never closed.
        // Said at the file's last line, where the model has to go on.
        return Some(SyntaxError {
            line: content.trim_end().lines().count().max(1),
            column: 1,
            what: "the file ends before the code is complete (cut off, or a closing bracket \
                   missing)"
                .to_string(),
        });
    }
    let at = bad.start_position();
    let what = if bad.is_missing() {
        format!("`{}` is missing", bad.kind())
    } else {
        let line = content.lines().nth(at.row).unwrap_or_default();
        let found: String = line
            .get(at.column..)
            .unwrap_or_default()
            .trim()
            .chars()
            .take(40)
            .collect();
        if found.is_empty() {
            "the file ends before the code does (cut off?)".to_string()
        } else {
            format!("unexpected `{found}`")
        }
    };
    Some(SyntaxError {
        line: at.row + 1,
        column: at.column + 1,
        what,
    })
}

/// The first `block` with no statement in it under `node`.
fn empty_block(node: tree_sitter::Node<'_>) -> Option<tree_sitter::Node<'_>> {
    if node.kind() == "block" && node.named_child_count() == 0 {
        return Some(node);
    }
    let mut cursor = node.walk();
    let children: Vec<_> = node.children(&mut cursor).collect();
    children.into_iter().find_map(empty_block)
}

/// The first error or missing node in document order under `node`.
fn first_error(node: tree_sitter::Node<'_>) -> Option<tree_sitter::Node<'_>> {
    if node.is_error() || node.is_missing() {
        return Some(node);
    }
    let mut cursor = node.walk();
    let children: Vec<_> = node.children(&mut cursor).collect();
    children
        .into_iter()
        .filter(|c| c.has_error() || c.is_missing())
        .find_map(first_error)
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn finds_where_each_language_stops_parsing() {
        assert_eq!(check("a.py", "def f(x):\n    return x\n"), None);
        let cut = check("a.py", "def total(items):\n    for item in items:\n").unwrap();
        assert_eq!(cut.line, 2, "{cut}");
        assert!(check("a.py", "def f(:\n    pass\n").is_some());
        assert_eq!(check("a.rs", "pub fn f() -> u8 { 1 }\n"), None);
        let rust = check(
            "a.rs",
            "use std::cmp;\n\npub fn f() -> u8 {\n    if true {\n        1\n    }\n",
        )
        .unwrap();
        assert!(rust.what.contains("cut off"), "{rust}");
        assert_eq!(rust.line, 6, "{rust}");
        let stray = check("a.rs", "fn f() -> u8 {\n    (1))\n}\n").unwrap();
        assert_eq!(stray.line, 2, "{stray}");
        assert_eq!(check("a.js", "export const f = (x) => x + 1;\n"), None);
        assert!(check("a.js", "function f( {\n").is_some());
        assert_eq!(
            check(
                "a.ts",
                "export function f(x: number): number { return x; }\n"
            ),
            None
        );
        assert!(check("a.ts", "export function f(x: number: number { }\n").is_some());
        assert_eq!(
            check("a.go", "package a\n\nfunc F() int { return 1 }\n"),
            None
        );
        assert!(check("a.go", "package a\n\nfunc F() int { return 1\n").is_some());
        // No grammar: nothing to say.
        assert_eq!(check("notes.md", "# (unbalanced\n"), None);
    }
}
