//! A file's map for a model's context: the lines that define something (functions, classes,
//! structs, traits, methods, constants at the top), read with tree-sitter, in file order and
//! indented as written — what a model needs to call into a file it does not change, in a
//! fraction of the file's tokens.
//!
//! It reads only; a file with no grammar here, or with nothing defined, has no outline (the
//! caller then leaves the file out rather than guess).

use super::syntax::language;

/// Node kinds whose first line is a definition, per grammar; `container` kinds also show what
/// they define inside (a class's methods, an impl's functions).
fn defines(kind: &str) -> bool {
    matches!(
        kind,
        // Python
        "function_definition" | "class_definition" | "decorated_definition"
        // Rust
        | "function_item" | "function_signature_item" | "struct_item" | "enum_item" | "trait_item"
        | "impl_item" | "type_item" | "const_item" | "static_item" | "mod_item" | "macro_definition"
        // JavaScript, TypeScript
        | "function_declaration" | "generator_function_declaration" | "class_declaration"
        | "method_definition" | "interface_declaration" | "type_alias_declaration"
        | "enum_declaration" | "abstract_class_declaration"
        // Go
        | "method_declaration" | "type_declaration"
    )
}

/// Kinds whose definitions inside are shown too.
fn container(kind: &str) -> bool {
    matches!(
        kind,
        "class_definition"
            | "decorated_definition"
            | "impl_item"
            | "trait_item"
            | "mod_item"
            | "class_declaration"
            | "abstract_class_declaration"
            | "class_body"
            | "block"
            | "declaration_list"
            | "export_statement"
            | "program"
            | "source_file"
            | "module"
    )
}

/// The defining lines of `content` (the file at `path`), or `None` without a grammar or
/// without a definition. A definition's header is kept whole when it spans lines (a signature
/// broken over several), up to where its body opens. With `only` not empty, the top level keeps
/// just the definitions of those names (a class's or an impl's inside whole, as its outline).
pub fn outline(path: &str, content: &str, only: &[String]) -> Option<String> {
    let language = language(path)?;
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(&language).ok()?;
    let tree = parser.parse(content, None)?;
    let lines: Vec<&str> = content.lines().collect();
    let mut kept: Vec<usize> = Vec::new();
    let root = tree.root_node();
    if only.is_empty() {
        walk(root, &lines, &mut kept);
    } else {
        top_level(root, content, only, &lines, &mut kept);
    }
    kept.sort_unstable();
    kept.dedup();
    if kept.is_empty() {
        return None;
    }
    let mut out = String::new();
    let mut last = None;
    for row in kept {
        if last.is_some_and(|l: usize| row > l + 1) {
            out.push_str("    ...\n");
        }
        out.push_str(lines.get(row).copied().unwrap_or_default());
        out.push('\n');
        last = Some(row);
    }
    Some(out)
}

/// The definitions named in `only` among `node`'s top-level ones (through `export`, and through
/// a decorator to what it decorates).
fn top_level(
    node: tree_sitter::Node<'_>,
    content: &str,
    only: &[String],
    lines: &[&str],
    kept: &mut Vec<usize>,
) {
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        let defined = match child.kind() {
            "export_statement" => {
                top_level(child, content, only, lines, kept);
                continue;
            }
            "decorated_definition" => child.child_by_field_name("definition"),
            _ => Some(child),
        };
        let name = defined.and_then(|d| {
            d.child_by_field_name("name")
                .or_else(|| d.child_by_field_name("type"))
                .and_then(|n| n.utf8_text(content.as_bytes()).ok())
        });
        // `impl<T> Store<T>` is named by its type, without its parameters.
        let name = name.map(|n| n.split('<').next().unwrap_or(n).trim());
        if name.is_some_and(|n| only.iter().any(|o| o == n)) {
            walk(child, lines, kept);
        }
    }
}

/// Lines a struct or enum may have to be shown whole (its fields are how it is used).
const WHOLE_TYPE_LINES: usize = 15;

fn walk(node: tree_sitter::Node<'_>, lines: &[&str], kept: &mut Vec<usize>) {
    let kind = node.kind();
    let (start, end) = (node.start_position().row, node.end_position().row);
    if matches!(kind, "struct_item" | "enum_item") && end - start < WHOLE_TYPE_LINES {
        kept.extend(start..=end);
        return;
    }
    if defines(kind) && kind != "decorated_definition" {
        // The header: to the line where a braced body opens, or to the line before an indented
        // one (Python's block starts at its first statement); a docstring or a body is left out.
        let header_end = match node.child_by_field_name("body") {
            Some(body) if body.start_position().row > start => {
                let row = body.start_position().row;
                if lines
                    .get(row)
                    .is_some_and(|l| l.trim_start().starts_with('{'))
                {
                    row
                } else {
                    row - 1
                }
            }
            _ => start,
        };
        kept.extend(start..=header_end.min(start + 8));
        if !container(kind) {
            return;
        }
    }
    if !(defines(kind) || container(kind)) {
        return;
    }
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        walk(child, lines, kept);
    }
}

#[cfg(test)]
mod tests {
    use super::outline;

    #[test]
    fn a_python_module_shows_its_classes_methods_and_functions() {
        let text = "\"\"\"Money.\"\"\"\nimport re\n\nRATE = 3\n\n\nclass Wallet:\n    \"\"\"A wallet.\"\"\"\n\n    def __init__(self, owner: str):\n        self.owner = owner\n\n    @property\n    def empty(self) -> bool:\n        return True\n\n\ndef to_cents(text: str,\n             strict: bool = True) -> int:\n    return 0\n";
        let map = outline("money.py", text, &[]).unwrap();
        assert_eq!(
            map,
            "class Wallet:\n    ...\n    def __init__(self, owner: str):\n    ...\n    def empty(self) -> bool:\n    ...\ndef to_cents(text: str,\n             strict: bool = True) -> int:\n"
        );
    }

    #[test]
    fn a_rust_file_shows_items_and_impl_functions() {
        let text = "use std::fmt;\n\n/// A point.\npub struct Point {\n    pub x: i32,\n}\n\nimpl Point {\n    pub fn new(x: i32) -> Point {\n        Point { x }\n    }\n}\n\npub fn origin() -> Point {\n    Point::new(0)\n}\n";
        let map = outline("src/point.rs", text, &[]).unwrap();
        assert_eq!(
            map,
            "pub struct Point {\n    pub x: i32,\n}\n    ...\nimpl Point {\n    pub fn new(x: i32) -> Point {\n    ...\npub fn origin() -> Point {\n"
        );
        assert_eq!(outline("notes.md", "# x\n", &[]), None);
        assert_eq!(outline("a.py", "x = 1\n", &[]), None);
        // Only what is used: the impl goes with its type.
        let only = outline("src/point.rs", text, &["Point".to_string()]).unwrap();
        assert!(
            only.contains("pub fn new") && !only.contains("origin"),
            "{only}"
        );
        let py = "def a():\n    pass\n\n\n@cache\ndef b(x):\n    return x\n";
        assert_eq!(
            outline("m.py", py, &["b".to_string()]).unwrap(),
            "def b(x):\n"
        );
    }
}
