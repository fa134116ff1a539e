//! The repository context a model gets with a spec: the files the spec names, then the files
//! they import (the definitions the work will call), then their neighbours in the same folders —
//! each whole where the token budget allows, else as its outline (`outline`: the defining lines
//! only), else left out and said so.
//!
//! Why this order: a small model writes calls to what it can see; a helper module the named
//! file imports matters more than a neighbour that happens to share its folder, and a big file's
//! signatures are worth more than nothing. It reads the base tree only and never sends a file
//! outside the folders and imports of what the spec names.

use std::path::Path;
use std::sync::OnceLock;

use git2::{ObjectType, Repository};
use regex::Regex;

use super::outline::outline;
use crate::spec::{paths_named, regex};

/// The context and the paths it left out entirely.
pub struct Context {
    pub text: String,
    pub left_out: Vec<String>,
    /// Paths given as their outline only.
    pub outlined: Vec<String>,
}

/// Files the spec names that exist at `tree`, the files they import, then their folders'
/// other files, within `budget` tokens as `count` counts them.
pub fn build(
    repo: &Repository,
    tree: &git2::Tree<'_>,
    spec: &str,
    budget: usize,
    count: &dyn Fn(&str) -> usize,
) -> Context {
    let read = |path: &str| -> Option<String> {
        let entry = tree.get_path(Path::new(path)).ok()?;
        let blob = repo.find_blob(entry.id()).ok()?;
        (!blob.is_binary()).then(|| String::from_utf8_lossy(blob.content()).into_owned())
    };
    let exists = |path: &str| {
        tree.get_path(Path::new(path))
            .is_ok_and(|e| e.kind() == Some(ObjectType::Blob))
    };
    let named: Vec<String> = paths_named(spec)
        .into_iter()
        .filter(|p| exists(p))
        .collect();
    // Each path with the names used from it: empty for the named files and neighbours (whole,
    // or their whole outline), the imported names for a file imported by name.
    let mut paths: Vec<(String, Vec<String>)> =
        named.iter().map(|p| (p.clone(), Vec::new())).collect();
    // The named files are read once: for their imports here, for the context below.
    let mut texts: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for path in &named {
        let Some(text) = read(path) else { continue };
        let found = imports(path, &text, &exists);
        texts.insert(path.clone(), text);
        for import in found {
            if !paths.iter().any(|(p, _)| *p == import.path) {
                paths.push((import.path, import.names));
            }
        }
    }
    for path in &named {
        for neighbour in neighbours(repo, tree, path) {
            if !paths.iter().any(|(p, _)| *p == neighbour) {
                paths.push((neighbour, Vec::new()));
            }
        }
    }
    let mut context = Context {
        text: String::new(),
        left_out: Vec::new(),
        outlined: Vec::new(),
    };
    let mut used = 0;
    for (path, names) in paths {
        let Some(text) = texts.remove(&path).or_else(|| read(&path)) else {
            continue;
        };
        // A file imported by name gives the definitions of those names; another is sent whole
        // where it fits, else as its outline.
        let used_only = (!names.is_empty())
            .then(|| outline(&path, &text, &names))
            .flatten()
            .map(|map| {
                format!(
                    "=== {path} (only what is used: {}) ===\n{map}\n",
                    names.join(", ")
                )
            });
        let whole = used_only.unwrap_or_else(|| format!("=== {path} ===\n{text}\n"));
        let tokens = count(&whole);
        if used + tokens <= budget {
            used += tokens;
            context.text.push_str(&whole);
            continue;
        }
        let map = outline(&path, &text, &[])
            .map(|map| format!("=== {path} (outline: its definitions only) ===\n{map}\n"));
        match map {
            Some(map) if used + count(&map) <= budget => {
                used += count(&map);
                context.text.push_str(&map);
                context.outlined.push(path);
            }
            _ => context.left_out.push(path),
        }
    }
    context
}

/// The other files in `path`'s folder.
fn neighbours(repo: &Repository, tree: &git2::Tree<'_>, path: &str) -> Vec<String> {
    let folder = Path::new(path)
        .parent()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let entries = if folder.is_empty() {
        Some(tree.clone())
    } else {
        tree.get_path(Path::new(&folder))
            .ok()
            .and_then(|e| repo.find_tree(e.id()).ok())
    };
    entries
        .iter()
        .flat_map(|t| t.iter())
        .filter(|e| e.kind() == Some(ObjectType::Blob))
        .filter_map(|e| e.name().ok().map(str::to_string))
        .map(|name| {
            if folder.is_empty() {
                name
            } else {
                format!("{folder}/{name}")
            }
        })
        .filter(|p| p != path)
        .collect()
}

/// The repository files `path` (with `text`) imports, as far as they can be told from its
/// import lines — Python modules, Rust `mod` declarations and `use` paths from the crate root
/// or the parent module, JavaScript and TypeScript relative imports — each with the names taken
/// from it (none: the whole module).
/// What does not resolve to an existing file is skipped.
pub fn imports(path: &str, text: &str, exists: &dyn Fn(&str) -> bool) -> Vec<Import> {
    let folder = Path::new(path)
        .parent()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let join = |base: &str, rel: &str| {
        if base.is_empty() {
            rel.to_string()
        } else {
            format!("{base}/{rel}")
        }
    };
    // Each candidate file with the names it would give.
    let mut candidates: Vec<(String, Vec<String>)> = Vec::new();
    let extension = path.rsplit_once('.').map_or("", |(_, e)| e);
    match extension {
        "py" | "pyi" => {
            static FROM: OnceLock<Regex> = OnceLock::new();
            static IMPORT: OnceLock<Regex> = OnceLock::new();
            let from = regex(
                &FROM,
                r"(?m)^[ \t]*from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+(?:\(([^)]*)\)|([\w \t,]+))",
            );
            let import = regex(
                &IMPORT,
                r"(?m)^[ \t]*import[ \t]+([\w.]+(?:[ \t]*,[ \t]*[\w.]+)*)",
            );
            let module = |dots: usize, name: &str| -> Vec<String> {
                let rel = name.replace('.', "/");
                let bases: Vec<String> = if dots == 0 {
                    vec![String::new(), folder.clone(), "src".to_string()]
                } else {
                    let mut base = Path::new(&folder);
                    for _ in 1..dots {
                        base = base.parent().unwrap_or(Path::new(""));
                    }
                    vec![base.to_string_lossy().into_owned()]
                };
                bases
                    .iter()
                    .flat_map(|b| {
                        if rel.is_empty() {
                            vec![join(b, "__init__.py")]
                        } else {
                            vec![
                                join(b, &format!("{rel}.py")),
                                join(b, &format!("{rel}/__init__.py")),
                            ]
                        }
                    })
                    .collect()
            };
            for c in from.captures_iter(text) {
                let dots = c.get(1).map_or(0, |m| m.as_str().len());
                let name = c.get(2).map_or("", |m| m.as_str());
                let items: Vec<String> = c
                    .get(3)
                    .or(c.get(4))
                    .map_or("", |m| m.as_str())
                    .split(',')
                    .filter_map(|i| i.split_whitespace().next())
                    .filter(|i| *i != "*")
                    .map(str::to_string)
                    .collect();
                candidates.extend(module(dots, name).into_iter().map(|p| (p, items.clone())));
                // `from pkg import sub` may name a module of the package.
                for item in &items {
                    let dotted = if name.is_empty() {
                        item.clone()
                    } else {
                        format!("{name}.{item}")
                    };
                    candidates.extend(module(dots, &dotted).into_iter().map(|p| (p, Vec::new())));
                }
            }
            for c in import.captures_iter(text) {
                for name in c[1].split(',') {
                    candidates.extend(module(0, name.trim()).into_iter().map(|p| (p, Vec::new())));
                }
            }
        }
        "rs" => {
            static MOD: OnceLock<Regex> = OnceLock::new();
            static USE: OnceLock<Regex> = OnceLock::new();
            let declared = regex(&MOD, r"(?m)^\s*(?:pub(?:\([\w:]+\))?\s+)?mod\s+(\w+)\s*;");
            let used = regex(
                &USE,
                r"(?m)^\s*(?:pub(?:\([\w:]+\))?\s+)?use\s+(crate|super)((?:::\w+)+)(?:::\{([^}]*)\})?",
            );
            let stem = Path::new(path)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            // Where this file's submodules live: beside it for a crate or `mod.rs` root,
            // else in the folder named after it.
            let own = if ["lib", "main", "mod"].contains(&stem.as_str()) {
                folder.clone()
            } else {
                join(&folder, &stem)
            };
            let crate_root = path
                .rfind("src/")
                .map_or(String::from("src"), |i| path[..i + 3].to_string());
            for c in declared.captures_iter(text) {
                candidates.push((join(&own, &format!("{}.rs", &c[1])), Vec::new()));
                candidates.push((join(&own, &format!("{}/mod.rs", &c[1])), Vec::new()));
            }
            for c in used.captures_iter(text) {
                let base = if &c[1] == "crate" {
                    crate_root.clone()
                } else {
                    Path::new(&own)
                        .parent()
                        .map(|p| p.to_string_lossy().into_owned())
                        .unwrap_or_default()
                };
                // A path `a::b::Item` from the root: the module is a prefix of it; each is tried, with
                // the name after it (and any `{A, B}` the line goes on to list) as what is used.
                let parts: Vec<&str> = c[2].split("::").filter(|p| !p.is_empty()).collect();
                let listed: Vec<String> = c
                    .get(3)
                    .map_or("", |m| m.as_str())
                    .split(',')
                    .map(|i| {
                        i.trim()
                            .split([' ', ':'])
                            .next()
                            .unwrap_or_default()
                            .to_string()
                    })
                    .filter(|i| !i.is_empty() && i != "self")
                    .collect();
                for n in 1..=parts.len() {
                    let rel = parts[..n].join("/");
                    let names = match parts.get(n) {
                        Some(next) => vec![next.to_string()],
                        None => listed.clone(),
                    };
                    candidates.push((join(&base, &format!("{rel}.rs")), names.clone()));
                    candidates.push((join(&base, &format!("{rel}/mod.rs")), names));
                }
            }
        }
        "js" | "mjs" | "cjs" | "jsx" | "ts" | "mts" | "cts" | "tsx" => {
            static FROM: OnceLock<Regex> = OnceLock::new();
            let from = regex(
                &FROM,
                r#"(?:from\s+|require\(\s*|import\s+)['"](\.{1,2}/[^'"]+)['"]"#,
            );
            for c in from.captures_iter(text) {
                let rel = Path::new(&folder).join(&c[1]);
                let rel = normalize(&rel.to_string_lossy());
                for suffix in [
                    "",
                    ".ts",
                    ".tsx",
                    ".js",
                    ".jsx",
                    ".mjs",
                    "/index.ts",
                    "/index.js",
                ] {
                    candidates.push((format!("{rel}{suffix}"), Vec::new()));
                }
            }
        }
        _ => {}
    }
    let mut found: Vec<Import> = Vec::new();
    for (file, names) in candidates {
        let file = normalize(&file);
        if file == path || !exists(&file) {
            continue;
        }
        match found.iter_mut().find(|i| i.path == file) {
            // Taken whole once means whole.
            Some(seen) if seen.names.is_empty() || names.is_empty() => seen.names.clear(),
            Some(seen) => {
                for name in names {
                    if !seen.names.contains(&name) {
                        seen.names.push(name);
                    }
                }
            }
            None => found.push(Import { path: file, names }),
        }
    }
    found
}

/// A file imported, and the names taken from it (none: the whole module).
#[derive(Debug, PartialEq, Eq)]
pub struct Import {
    pub path: String,
    pub names: Vec<String>,
}

/// `a/./b/../c` as `a/c`.
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::imports;

    fn found(path: &str, text: &str, files: &[&str]) -> Vec<String> {
        imports(path, text, &|p| files.contains(&p))
            .into_iter()
            .map(|i| i.path)
            .collect()
    }

    #[test]
    fn python_imports_resolve_to_modules_and_packages() {
        let files = [
            "app/db.py",
            "app/models/__init__.py",
            "app/models/user.py",
            "src/lib/util.py",
            "app/helpers.py",
        ];
        let text = "import os\nfrom app import db\nfrom app.models import user, Thing\nfrom .helpers import fmt\nimport lib.util\n";
        assert_eq!(
            found("app/views.py", text, &files),
            [
                "app/db.py",
                "app/models/__init__.py",
                "app/models/user.py",
                "app/helpers.py",
                "src/lib/util.py"
            ]
        );
    }

    #[test]
    fn the_names_used_go_with_each_file() {
        let files = ["app/db.py", "src/gate/rule.rs", "src/store.rs"];
        let py = imports(
            "app/views.py",
            "from .db import (\n    connect,\n    Row,\n)\n",
            &|p| files.contains(&p),
        );
        assert_eq!(
            py,
            [super::Import {
                path: "app/db.py".into(),
                names: vec!["connect".into(), "Row".into()]
            }]
        );
        let rs = imports(
            "src/lib.rs",
            "use crate::gate::rule::Rule;\nuse crate::store::{Store, Error as StoreError};\n",
            &|p| files.contains(&p),
        );
        assert_eq!(
            rs,
            [
                super::Import {
                    path: "src/gate/rule.rs".into(),
                    names: vec!["Rule".into()]
                },
                super::Import {
                    path: "src/store.rs".into(),
                    names: vec!["Store".into(), "Error".into()]
                },
            ]
        );
    }

    #[test]
    fn rust_mods_and_crate_paths_resolve() {
        let files = [
            "src/store.rs",
            "src/gate/mod.rs",
            "src/gate/rule.rs",
            "src/cli/args.rs",
        ];
        let text = "mod store;\npub mod gate;\nuse crate::gate::rule::Rule;\n";
        assert_eq!(
            found("src/lib.rs", text, &files),
            ["src/store.rs", "src/gate/mod.rs", "src/gate/rule.rs"]
        );
        assert_eq!(
            found("src/cli/mod.rs", "mod args;\n", &files),
            ["src/cli/args.rs"]
        );
    }

    #[test]
    fn javascript_relative_imports_resolve() {
        let files = ["lib/utils.js", "lib/router/index.js"];
        let text = "import { a } from './utils';\nconst r = require('./router');\nimport x from 'express';\n";
        assert_eq!(
            found("lib/app.js", text, &files),
            ["lib/utils.js", "lib/router/index.js"]
        );
    }
}
