//! Putting back what a whole-file answer left out: top-level definitions the file had, the
//! answer omitted and the spec did not ask to remove, and the methods of a class or `impl` the
//! answer rewrote without them, copied from the file as it was and placed after the definition
//! they followed there. And its converse, `merge`: an answer that holds only the definitions it
//! adds or changes, merged into the file by name (a method given alone into its class).
//!
//! Small models asked to rewrite a 50-line file to add one function often write the new function
//! and some of the old ones (benches/implement_quality: 2 of 8 extension tasks with the 1.5B
//! model). The spec's rule is to keep them, so keeping them is a repair, not a guess: the text
//! restored is the file's own, byte for byte, and the result must still parse. It never changes
//! a line the answer wrote, and gives up (the caller then refuses the answer, as before) where
//! the file's grammar is not known or a definition cannot be found whole.

use tree_sitter::Node;

use super::syntax::language;

/// A top-level definition: its name and the byte range of its text, with the comments,
/// attributes and decorators right above it.
struct Item {
    name: String,
    start: usize,
    /// Where the node itself starts (its decorators included, the comments above not).
    own: usize,
    /// Where the definition starts (after its decorators).
    inner: usize,
    end: usize,
}

/// `content` parsed as the language of `path`; `None` without a grammar.
fn parse(path: &str, content: &str) -> Option<tree_sitter::Tree> {
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(&language(path)?).ok()?;
    parser.parse(content, None)
}

impl Item {
    /// What of this item a new version (`node`) replaces: the file's comments, attributes and
    /// decorators stay unless the answer gives its own.
    fn replaced_by(&self, node: Node<'_>, with_comments: bool) -> std::ops::Range<usize> {
        let from = if with_comments {
            self.start
        } else if node.kind() == "decorated_definition" {
            self.own
        } else {
            self.inner
        };
        from..self.end
    }
}

/// `answer` (the new content of `path`) with the definitions `missing` restored from `old`, or
/// `None` when one of them cannot be put back.
pub fn restore(path: &str, old: &str, answer: &str, missing: &[String]) -> Option<String> {
    let before = items(path, old)?;
    let mut now = items(path, answer)?;
    let mut text = answer.to_string();
    // Python separates top-level definitions by two blank lines, the others by one.
    let gap = if path.ends_with(".py") { "\n\n" } else { "\n" };
    for (index, item) in before.iter().enumerate() {
        if !missing.contains(&item.name) || now.iter().any(|n| n.name == item.name) {
            continue;
        }
        let source = &old[item.start..item.end];
        // After the nearest earlier definition the answer has; else before the first it has;
        // else at the end.
        let after = nearest_earlier(&before[..index], &now).map(|n| n.end);
        let (at, piece) = match (after, now.first()) {
            (Some(end), _) => (end, format!("\n{gap}{source}")),
            (None, Some(first)) => (first.start, format!("{source}\n{gap}")),
            (None, None) => (
                text.len(),
                format!(
                    "{}{gap}{source}\n",
                    if text.ends_with('\n') { "" } else { "\n" }
                ),
            ),
        };
        text.insert_str(at, &piece);
        now = items(path, &text)?;
        if !now.iter().any(|n| n.name == item.name) {
            return None;
        }
    }
    let restored = missing.iter().all(|m| now.iter().any(|n| &n.name == m));
    (restored && super::syntax::check(path, &text).is_none()).then_some(text)
}

/// `answer` (the new content of `path`) with the members of its classes and `impl`s that the
/// same class or `impl` of `old` had, the answer left out and `named` does not name, copied back
/// from `old` after the member they followed there (else before the answer's first). `None`
/// when nothing was missing, or when what was put back does not parse.
pub fn restore_members(
    path: &str,
    old: &str,
    answer: &str,
    named: &dyn Fn(&str) -> bool,
) -> Option<String> {
    let old_tree = parse(path, old)?;
    let mut text = answer.to_string();
    let mut cursor = old_tree.root_node().walk();
    let mut restored = false;
    for container in old_tree.root_node().children(&mut cursor) {
        let (Some(name), Some(body)) = (name_of(container, old), body_of(container)) else {
            continue;
        };
        let before = items_in(body, old);
        // The members the answer's container has now: read again only after an insertion.
        let Some(mut now) = members(path, &text, &name) else {
            continue;
        };
        for (index, member) in before.iter().enumerate() {
            if named(&member.name) || now.iter().any(|m| m.name == member.name) {
                continue;
            }
            let Some(first) = now.first() else { break };
            let indent = indent_at(&text, first.start);
            let source = &old[member.start..member.end];
            match nearest_earlier(&before[..index], &now) {
                Some(anchor) => text.insert_str(anchor.end, &format!("\n\n{indent}{source}")),
                None => text.insert_str(first.start, &format!("{source}\n\n{indent}")),
            }
            restored = true;
            now = members(path, &text, &name)?;
        }
    }
    (restored && super::syntax::check(path, &text).is_none()).then_some(text)
}

/// The members of `text`'s top-level class or `impl` named `name`.
fn members(path: &str, text: &str, name: &str) -> Option<Vec<Item>> {
    let tree = parse(path, text)?;
    let mut cursor = tree.root_node().walk();
    let container = tree
        .root_node()
        .children(&mut cursor)
        .find(|n| name_of(*n, text).as_deref() == Some(name))?;
    Some(items_in(body_of(container)?, text))
}

/// Of `now`, the item named like the nearest of `earlier` it has: where something that followed
/// `earlier` goes back.
fn nearest_earlier<'a>(earlier: &[Item], now: &'a [Item]) -> Option<&'a Item> {
    earlier
        .iter()
        .rev()
        .find_map(|b| now.iter().find(|n| n.name == b.name))
}

/// The indentation of the line `at` is on, up to `at`.
fn indent_at(text: &str, at: usize) -> String {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    text[line_start..at].to_string()
}

/// `part` (definitions an answer adds or changes in `path`, and the statements they need) merged
/// into `old`: a definition whose name `old` has replaces it there, a new one goes after the
/// definition it follows in `part` (else after `old`'s last), an import `old` lacks goes after
/// the statements above its first definition, and any other statement it lacks at the end.
/// Nothing of `old` is removed. `None` without a grammar, or when the result does not parse.
pub fn merge(path: &str, old: &str, part: &str) -> Option<String> {
    let tree = parse(path, part)?;
    let mut text = old.to_string();
    let gap = if path.ends_with(".py") { "\n\n" } else { "\n" };
    let mut previous: Option<String> = None;
    for (node, with_comments) in pieces(tree.root_node()) {
        let source = &part[with_comments.unwrap_or(node.start_byte())..node.end_byte()];
        let now = items(path, &text)?;
        let Some(name) = name_of(node, part) else {
            // A statement the file already has (the same text, a line's or several) is not
            // added twice. An import goes with the file's statements above its definitions;
            // anything else at the end, where what it uses is defined (an `if __name__` block
            // above the functions it calls would fail).
            let said = source.trim();
            let had = if said.contains('\n') {
                text.contains(said)
            } else {
                text.lines().any(|l| l.trim() == said)
            };
            if said.is_empty() || had {
                continue;
            }
            let import = node.kind().contains("import") || node.kind() == "use_declaration";
            let piece = match (import, now.first(), head_end(path, &text)) {
                (true, _, Some(end)) => (end, format!("\n{source}")),
                (true, Some(first), None) => (first.start, format!("{source}\n{gap}")),
                _ => {
                    let sep = if text.ends_with('\n') || text.is_empty() {
                        ""
                    } else {
                        "\n"
                    };
                    (text.len(), format!("{sep}{gap}{source}\n"))
                }
            };
            text.insert_str(piece.0, &piece.1);
            continue;
        };
        if let Some(same) = now.iter().find(|n| n.name == name) {
            // A class or an impl is merged member by member: the methods the answer leaves
            // out stay.
            if let Some(body) = body_of(node) {
                text = merge_members(path, &text, &name, &pieces(body), part, false)?;
                previous = Some(name);
                continue;
            }
            text.replace_range(same.replaced_by(node, with_comments.is_some()), source);
        } else if let Some(owner) = owner_of_method(path, &text, node, &name, part) {
            // A method given without its class or impl (`def peek(self)`, `fn peek(&self)` at
            // the top level, as small models answer "add `peek` to the stack") goes into the
            // one that has a member of that name, else the file's only one: at the top level
            // it would not run.
            text = merge_members(path, &text, &owner, &[(node, with_comments)], part, true)?;
        } else {
            let after = previous
                .as_ref()
                .and_then(|p| now.iter().find(|n| &n.name == p))
                .or(now.last())
                .map(|n| n.end);
            match after {
                Some(end) => text.insert_str(end, &format!("\n{gap}{source}")),
                None => {
                    if !text.is_empty() && !text.ends_with('\n') {
                        text.push('\n');
                    }
                    if !text.is_empty() {
                        text.push_str(gap);
                    }
                    text.push_str(source);
                    text.push('\n');
                }
            }
        }
        // A new definition after a constant the answer restated goes with the definitions,
        // not in the middle of the constants.
        let defined = node.child_by_field_name("declaration").unwrap_or(node);
        if assigned(defined).is_none() {
            previous = Some(name);
        }
    }
    (super::syntax::check(path, &text).is_none()).then_some(text)
}

/// The children of `parent` an answer gives, each with where the comments and attributes right
/// above it start (they go with it).
fn pieces(parent: Node<'_>) -> Vec<(Node<'_>, Option<usize>)> {
    let mut cursor = parent.walk();
    let mut out = Vec::new();
    let mut comment_from: Option<usize> = None;
    for node in parent.children(&mut cursor) {
        if is_attached(node.kind()) {
            comment_from.get_or_insert(node.start_byte());
        } else {
            out.push((node, comment_from.take()));
        }
    }
    out
}

/// Comments and attributes: they belong to the definition below them.
fn is_attached(kind: &str) -> bool {
    matches!(
        kind,
        "comment" | "line_comment" | "block_comment" | "attribute_item"
    )
}

/// Where the statements above `content`'s first definition end (imports, constants, a module
/// docstring), when it has any.
fn head_end(path: &str, content: &str) -> Option<usize> {
    let tree = parse(path, content)?;
    let mut cursor = tree.root_node().walk();
    let mut end = None;
    for node in tree.root_node().children(&mut cursor) {
        if name_of(node, content).is_some() {
            break;
        }
        if !is_attached(node.kind()) {
            end = Some(node.end_byte());
        }
    }
    end
}

/// The named top-level definitions of `content`, in order; `None` without a grammar.
fn items(path: &str, content: &str) -> Option<Vec<Item>> {
    let tree = parse(path, content)?;
    Some(items_in(tree.root_node(), content))
}

/// The named definitions directly inside `parent` (a file's root, or a class's body).
fn items_in(parent: Node<'_>, content: &str) -> Vec<Item> {
    let mut out = Vec::new();
    let mut cursor = parent.walk();
    let children: Vec<Node<'_>> = parent.children(&mut cursor).collect();
    for (i, child) in children.iter().enumerate() {
        let Some(name) = name_of(*child, content) else {
            continue;
        };
        // Comments and attributes directly above (no blank line between) go with it.
        let mut start = child.start_byte();
        for above in children[..i].iter().rev() {
            let attached = is_attached(above.kind())
                && content[above.end_byte()..start].matches('\n').count() <= 1;
            if !attached {
                break;
            }
            start = above.start_byte();
        }
        let inner = match child.kind() {
            "decorated_definition" => child
                .child_by_field_name("definition")
                .map_or(child.start_byte(), |d| d.start_byte()),
            _ => child.start_byte(),
        };
        out.push(Item {
            name,
            start,
            own: child.start_byte(),
            inner,
            end: child.end_byte(),
        });
    }
    out
}

/// The body of a definition that holds others (a class, an `impl`, a trait), through
/// decorators and `export`.
fn body_of(node: Node<'_>) -> Option<Node<'_>> {
    let defined = match node.kind() {
        "decorated_definition" => node.child_by_field_name("definition")?,
        "export_statement" => node.child_by_field_name("declaration")?,
        _ => node,
    };
    matches!(
        defined.kind(),
        "class_definition"
            | "impl_item"
            | "trait_item"
            | "class_declaration"
            | "abstract_class_declaration"
    )
    .then(|| defined.child_by_field_name("body"))
    .flatten()
}

/// `text` with `given` members (a class's or an impl's, in `part`) merged into the body of `text`'s
/// top-level definition `name`, as definitions are merged into a file: one it has is replaced,
/// a new one goes after the one it follows (else after the body's last), each at the body's
/// indentation. Members of the old body the answer leaves out stay. `top_level`: the members
/// were written at the top level, and their lines after the first are indented to the body's.
fn merge_members(
    path: &str,
    text: &str,
    name: &str,
    given: &[(Node<'_>, Option<usize>)],
    part: &str,
    top_level: bool,
) -> Option<String> {
    let mut text = text.to_string();
    let mut previous: Option<String> = None;
    for &(member, with_comments) in given {
        let Some(member_name) = name_of(member, part) else {
            continue;
        };
        let source = &part[with_comments.unwrap_or(member.start_byte())..member.end_byte()];
        let old = members(path, &text, name)?;
        let indent = indent_at(&text, old.first()?.start);
        let source = if top_level {
            source
                .split('\n')
                .enumerate()
                .map(|(i, line)| match (i, line.is_empty()) {
                    (0, _) | (_, true) => line.to_string(),
                    _ => format!("{indent}{line}"),
                })
                .collect::<Vec<_>>()
                .join("\n")
        } else {
            source.to_string()
        };
        if let Some(same) = old.iter().find(|m| m.name == member_name) {
            text.replace_range(same.replaced_by(member, with_comments.is_some()), &source);
        } else {
            let anchor = previous
                .as_ref()
                .and_then(|p| old.iter().find(|m| &m.name == p))
                .or(old.last())?;
            text.insert_str(anchor.end, &format!("\n\n{indent}{source}"));
        }
        previous = Some(member_name);
    }
    Some(text)
}

/// The class or `impl` of `text` a top-level function `node` of `part` belongs in, when it is a
/// method (its first parameter is `self`): the one with a member of that name, else the only
/// one the file has (an `impl` of a trait does not count: its methods are the trait's).
fn owner_of_method(
    path: &str,
    text: &str,
    node: Node<'_>,
    name: &str,
    part: &str,
) -> Option<String> {
    let defined = match node.kind() {
        "decorated_definition" => node.child_by_field_name("definition")?,
        _ => node,
    };
    let parameters = defined.child_by_field_name("parameters")?;
    let mut cursor = parameters.walk();
    let first = parameters.named_children(&mut cursor).next()?;
    let is_method = match defined.kind() {
        "function_item" => first.kind() == "self_parameter",
        "function_definition" => {
            first.kind() == "identifier"
                && matches!(first.utf8_text(part.as_bytes()).ok()?, "self" | "cls")
        }
        _ => false,
    };
    if !is_method {
        return None;
    }
    let tree = parse(path, text)?;
    let mut cursor = tree.root_node().walk();
    let owners: Vec<(String, Vec<Item>)> = tree
        .root_node()
        .children(&mut cursor)
        .filter(|n| n.kind() != "impl_item" || n.child_by_field_name("trait").is_none())
        .filter_map(|n| Some((name_of(n, text)?, items_in(body_of(n)?, text))))
        .collect();
    if let Some((owner, _)) = owners
        .iter()
        .find(|(_, members)| members.iter().any(|m| m.name == name))
    {
        return Some(owner.clone());
    }
    match owners.as_slice() {
        [(owner, members)] if !members.is_empty() => Some(owner.clone()),
        _ => None,
    }
}

/// The name a top-level node defines (through `export` and decorators); an `impl` block is
/// named `impl Type` (`impl Trait for Type`), a place to restore after rather than a definition.
fn name_of(node: Node<'_>, content: &str) -> Option<String> {
    let text = |n: Node<'_>| n.utf8_text(content.as_bytes()).ok().map(str::to_string);
    if node.kind() == "impl_item" {
        let of = text(node.child_by_field_name("type")?)?;
        return Some(match node.child_by_field_name("trait").and_then(text) {
            Some(t) => format!("impl {t} for {of}"),
            None => format!("impl {of}"),
        });
    }
    let defined = match node.kind() {
        "decorated_definition" => node.child_by_field_name("definition")?,
        "export_statement" => node.child_by_field_name("declaration")?,
        _ => node,
    };
    // A constant set once at the top (`TIMEOUT = 5`, `const limit = 5;`) is named by what it
    // sets, so a changed value replaces the old one instead of being added after it.
    if let Some(target) = assigned(defined) {
        return text(target);
    }
    // Go declares a type in a `type_spec` inside `type T struct {…}` (one spec: a grouped
    // `type (…)` is several definitions, and not one name).
    if defined.kind() == "type_declaration" {
        let mut cursor = defined.walk();
        let specs: Vec<Node<'_>> = defined
            .named_children(&mut cursor)
            .filter(|n| n.kind() == "type_spec")
            .collect();
        return match specs.as_slice() {
            [one] => text(one.child_by_field_name("name")?),
            _ => None,
        };
    }
    // Only what defines a name: an import has a `name` field too.
    let defines = matches!(
        defined.kind(),
        "function_definition"
            | "class_definition"
            | "function_item"
            | "struct_item"
            | "enum_item"
            | "union_item"
            | "trait_item"
            | "type_item"
            | "mod_item"
            | "const_item"
            | "static_item"
            | "macro_definition"
            | "function_declaration"
            | "generator_function_declaration"
            | "class_declaration"
            | "abstract_class_declaration"
            | "interface_declaration"
            | "type_alias_declaration"
            | "enum_declaration"
            | "method_declaration"
            | "method_definition"
    );
    if !defines {
        return None;
    }
    text(defined.child_by_field_name("name")?)
}

/// The one plain name a top-level assignment sets: Python's `NAME = value` (annotated or not),
/// JavaScript's `const NAME = value;` with one declarator.
fn assigned(node: Node<'_>) -> Option<Node<'_>> {
    fn only_named_child(n: Node<'_>) -> Option<Node<'_>> {
        (n.named_child_count() == 1)
            .then(|| n.named_child(0))
            .flatten()
    }
    let target = match node.kind() {
        "expression_statement" => {
            let inner = only_named_child(node).filter(|n| n.kind() == "assignment")?;
            inner.child_by_field_name("left")?
        }
        "lexical_declaration" | "variable_declaration" => {
            only_named_child(node)?.child_by_field_name("name")?
        }
        _ => return None,
    };
    (target.kind() == "identifier").then_some(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PY: &str = "\"\"\"Tools.\"\"\"\n\nimport re\n\n\ndef first(a):\n    return a\n\n\n# Keeps the middle.\n@cache\ndef middle(b):\n    return b\n\n\nclass Last:\n    pass\n";

    #[test]
    fn python_definitions_go_back_where_they_were_with_their_comment_and_decorator() {
        let answer = "\"\"\"Tools.\"\"\"\n\nimport re\n\n\ndef first(a):\n    return a\n\n\ndef added(c):\n    return c\n";
        let restored = restore("tools.py", PY, answer, &["middle".into(), "Last".into()]).unwrap();
        assert_eq!(
            restored,
            "\"\"\"Tools.\"\"\"\n\nimport re\n\n\ndef first(a):\n    return a\n\n\n# Keeps the middle.\n@cache\ndef middle(b):\n    return b\n\n\nclass Last:\n    pass\n\n\ndef added(c):\n    return c\n"
        );
    }

    #[test]
    fn a_first_definition_goes_before_the_answers_first() {
        let answer = "def middle(b):\n    return b\n";
        let restored = restore("tools.py", PY, answer, &["first".into()]).unwrap();
        assert!(
            restored.starts_with("def first(a):\n    return a\n\n\ndef middle(b):"),
            "{restored}"
        );
    }

    #[test]
    fn rust_items_keep_their_doc_comments_and_attributes() {
        let old = "/// The error.\n#[derive(Debug)]\npub enum E {\n    A,\n}\n\npub struct S;\n\nimpl S {\n    pub fn f(&self) {}\n}\n\npub fn describe(e: &E) -> &str {\n    \"e\"\n}\n";
        let answer =
            "pub struct S;\n\nimpl S {\n    pub fn f(&self) {}\n    pub fn g(&self) {}\n}\n";
        let restored =
            restore("src/lib.rs", old, answer, &["E".into(), "describe".into()]).unwrap();
        assert!(
            restored.starts_with(
                "/// The error.\n#[derive(Debug)]\npub enum E {\n    A,\n}\n\npub struct S;"
            ),
            "{restored}"
        );
        assert!(
            restored.ends_with(
                "pub fn g(&self) {}\n}\n\npub fn describe(e: &E) -> &str {\n    \"e\"\n}\n"
            ),
            "{restored}"
        );
    }

    #[test]
    fn a_partial_answer_replaces_what_it_names_and_adds_what_is_new() {
        let part = "import os\nimport re\n\n\ndef middle(b):\n    return b * 2\n\n\ndef added(c):\n    return os.sep + c\n";
        let merged = merge("tools.py", PY, part).unwrap();
        assert_eq!(
            merged,
            "\"\"\"Tools.\"\"\"\n\nimport re\nimport os\n\n\ndef first(a):\n    return a\n\n\n# Keeps the middle.\n@cache\ndef middle(b):\n    return b * 2\n\n\ndef added(c):\n    return os.sep + c\n\n\nclass Last:\n    pass\n"
        );
        // Rust: an item replaced keeps its doc comment; a new one follows the one before it.
        let old = "use std::fmt;\n\n/// Adds.\npub fn add(a: i32) -> i32 {\n    a\n}\n\npub fn last() {}\n";
        let part = "pub fn add(a: i32) -> i32 {\n    a + 1\n}\n\npub fn sub(a: i32) -> i32 {\n    a - 1\n}\n";
        assert_eq!(
            merge("src/lib.rs", old, part).unwrap(),
            "use std::fmt;\n\n/// Adds.\npub fn add(a: i32) -> i32 {\n    a + 1\n}\n\npub fn sub(a: i32) -> i32 {\n    a - 1\n}\n\npub fn last() {}\n"
        );
        // An import goes up with the others, a statement down at the end.
        let part = "import sys\n\n\ndef added(c):\n    return c\n\n\nif __name__ == \"__main__\":\n    added(sys.argv)\n";
        let merged = merge("tools.py", PY, part).unwrap();
        assert!(
            merged.starts_with("\"\"\"Tools.\"\"\"\n\nimport re\nimport sys\n\n\ndef first"),
            "{merged}"
        );
        assert!(merged.ends_with("class Last:\n    pass\n\n\ndef added(c):\n    return c\n\n\nif __name__ == \"__main__\":\n    added(sys.argv)\n"), "{merged}");
        // A class or an impl is merged member by member.
        let old = "class Cart:\n    def add(self, x):\n        self.x = x\n\n    def total(self):\n        return 1\n\n\ndef fmt(c):\n    return str(c)\n";
        let part = "class Cart:\n    def total(self):\n        return 2\n\n    def discounted(self, p):\n        return self.total() * p\n";
        assert_eq!(
            merge("cart.py", old, part).unwrap(),
            "class Cart:\n    def add(self, x):\n        self.x = x\n\n    def total(self):\n        return 2\n\n    def discounted(self, p):\n        return self.total() * p\n\n\ndef fmt(c):\n    return str(c)\n"
        );
        let old = "pub struct S<T>(Vec<T>);\n\nimpl<T> S<T> {\n    pub fn len(&self) -> usize {\n        self.0.len()\n    }\n}\n";
        let part = "impl<T> S<T> {\n    pub fn peek(&self) -> Option<&T> {\n        self.0.last()\n    }\n}\n";
        assert_eq!(
            merge("src/lib.rs", old, part).unwrap(),
            "pub struct S<T>(Vec<T>);\n\nimpl<T> S<T> {\n    pub fn len(&self) -> usize {\n        self.0.len()\n    }\n\n    pub fn peek(&self) -> Option<&T> {\n        self.0.last()\n    }\n}\n"
        );
        // A constant set again replaces the old value where it was.
        let module =
            "\"\"\"M.\"\"\"\n\nLIMIT = 5\nNAMES: list = []\n\n\ndef f():\n    return LIMIT\n";
        let part = "LIMIT = 10\n\n\ndef g():\n    return NAMES\n";
        assert_eq!(
            merge("m.py", module, part).unwrap(),
            "\"\"\"M.\"\"\"\n\nLIMIT = 10\nNAMES: list = []\n\n\ndef f():\n    return LIMIT\n\n\ndef g():\n    return NAMES\n"
        );
        let js = "export const limit = 5;\n\nexport function f() {\n  return limit;\n}\n";
        assert_eq!(
            merge("m.js", js, "export const limit = 10;\n").unwrap(),
            "export const limit = 10;\n\nexport function f() {\n  return limit;\n}\n"
        );
        // A method without its impl or class goes into the one it belongs to.
        let part = "pub fn peek(&self) -> Option<&T> {\n    self.0.last()\n}\n";
        assert_eq!(
            merge("src/lib.rs", old, part).unwrap(),
            "pub struct S<T>(Vec<T>);\n\nimpl<T> S<T> {\n    pub fn len(&self) -> usize {\n        self.0.len()\n    }\n\n    pub fn peek(&self) -> Option<&T> {\n        self.0.last()\n    }\n}\n"
        );
        let cart = "class Cart:\n    def add(self, x):\n        self.x = x\n\n    def total(self):\n        return 1\n\n\ndef fmt(c):\n    return str(c)\n";
        let part = "def total(self):\n    if self.x:\n\n        return 2\n    return 0\n\n\ndef count(self):\n    return 1\n";
        assert_eq!(
            merge("cart.py", cart, part).unwrap(),
            "class Cart:\n    def add(self, x):\n        self.x = x\n\n    def total(self):\n        if self.x:\n\n            return 2\n        return 0\n\n    def count(self):\n        return 1\n\n\ndef fmt(c):\n    return str(c)\n"
        );
        // Not a method, or no one class to put it in: a function at the top level.
        let two = format!("{cart}\n\nclass Other:\n    def x(self):\n        pass\n");
        let merged = merge("cart.py", &two, "def count(self):\n    return 1\n").unwrap();
        assert!(
            merged.ends_with("\n\n\ndef count(self):\n    return 1\n"),
            "{merged}"
        );
        let merged = merge("cart.py", cart, "def count(c):\n    return 1\n").unwrap();
        assert!(
            merged.ends_with("\n\n\ndef count(c):\n    return 1\n"),
            "{merged}"
        );
        // A result that does not parse is no merge.
        assert_eq!(merge("src/lib.rs", old, "pub fn broken( {\n"), None);
    }

    #[test]
    fn methods_a_whole_answer_dropped_go_back_into_their_class() {
        let old = "class Cart:\n    def __init__(self):\n        self.items = {}\n\n    # How many.\n    def count(self):\n        return len(self.items)\n\n    def total(self):\n        return 0\n";
        let answer = "class Cart:\n    def __init__(self):\n        self.items = {}\n\n    def total(self):\n        return 1\n\n    def empty(self):\n        return not self.items\n";
        let keep_all = |_: &str| false;
        assert_eq!(
            restore_members("cart.py", old, answer, &keep_all).unwrap(),
            "class Cart:\n    def __init__(self):\n        self.items = {}\n\n    # How many.\n    def count(self):\n        return len(self.items)\n\n    def total(self):\n        return 1\n\n    def empty(self):\n        return not self.items\n"
        );
        // One the spec names may go; nothing missing is no repair.
        assert_eq!(
            restore_members("cart.py", old, answer, &|n| n == "count"),
            None
        );
        // Rust: an impl's method, before the answer's first when nothing precedes it.
        let old =
            "pub struct S;\n\nimpl S {\n    pub fn a(&self) {}\n\n    pub fn b(&self) {}\n}\n";
        let answer =
            "pub struct S;\n\nimpl S {\n    pub fn b(&self) {}\n\n    pub fn c(&self) {}\n}\n";
        assert_eq!(
            restore_members("src/lib.rs", old, answer, &keep_all).unwrap(),
            "pub struct S;\n\nimpl S {\n    pub fn a(&self) {}\n\n    pub fn b(&self) {}\n\n    pub fn c(&self) {}\n}\n"
        );
    }

    #[test]
    fn go_types_go_back_too() {
        let old = "package m\n\n// Point is a place.\ntype Point struct {\n\tX int\n}\n\nfunc Zero() Point {\n\treturn Point{}\n}\n";
        let answer = "package m\n\nfunc Zero() Point {\n\treturn Point{}\n}\n\nfunc One() Point {\n\treturn Point{X: 1}\n}\n";
        assert_eq!(
            restore("m.go", old, answer, &["Point".into()]).unwrap(),
            "package m\n\n// Point is a place.\ntype Point struct {\n\tX int\n}\n\nfunc Zero() Point {\n\treturn Point{}\n}\n\nfunc One() Point {\n\treturn Point{X: 1}\n}\n"
        );
    }

    #[test]
    fn without_a_grammar_or_a_findable_definition_nothing_is_restored() {
        assert_eq!(restore("notes.txt", "a", "b", &["a".into()]), None);
        assert_eq!(
            restore(
                "tools.py",
                PY,
                "def added():\n    pass\n",
                &["absent".into()]
            ),
            None
        );
    }
}
