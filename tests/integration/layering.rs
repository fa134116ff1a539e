//! The import graph of `src/`, read from the source: top-level modules import each other without
//! a circle, and each rests only on the floors below it. (Tests and `#[cfg(test)]` code are left
//! out: they may reach anywhere.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Bottom to top. A module may import only modules on a lower floor (or its own).
const FLOORS: &[&[&str]] = &[
    &["git", "route", "ui", "digest", "runtime", "sse"],
    &["change", "config"],
    &["store"],
    &["provenance", "spec", "backend", "shim", "trust"],
    &["gate", "local", "cloud", "records", "attribution"],
    &["fix", "daemon", "receive"],
    &["workflow"],
    &["error"],
    &["cli"],
];

fn module_of(path: &Path, src: &Path) -> String {
    let rel = path.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

fn imports(text: &str) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(list) = rest.strip_prefix('{') {
            let end = list.find('}').unwrap_or(list.len());
            for item in list[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            out.insert(name);
        }
    }
    out
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let module = module_of(&path, &src);
                if module == "lib" || module == "main" {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                let entry = edges.entry(module.clone()).or_default();
                entry.extend(imports(&text).into_iter().filter(|m| *m != module));
            }
        }
    }
    edges
}

#[test]
fn modules_import_only_downwards() {
    let floor = |m: &str| {
        FLOORS
            .iter()
            .position(|f| f.contains(&m))
            .unwrap_or_else(|| panic!("module {m} is on no floor: add it to FLOORS"))
    };
    let mut upward = Vec::new();
    for (module, targets) in graph() {
        for target in targets {
            if floor(&target) >= floor(&module) {
                upward.push(format!("{module} -> {target}"));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports that do not go down: {upward:#?}"
    );
}

#[test]
fn the_gate_rests_on_config_store_change_and_git_only() {
    let graph = graph();
    // The reader sees imports at all (both `crate::x::…` and `crate::{x, y}` forms).
    assert!(graph["cloud"].contains("spec") && graph["cli"].contains("gate"));
    let gate: Vec<&str> = graph["gate"].iter().map(String::as_str).collect();
    assert_eq!(gate, ["change", "config", "git", "store"]);
}

/// Every `ARCHITECTURE §N` a comment, test, migration or README cites names a section that
/// `docs/ARCHITECTURE.md` has, and nothing cites a design document outside the repository.
#[test]
fn section_references_name_sections_the_architecture_document_has() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/ARCHITECTURE.md")).unwrap();
    let sections: BTreeSet<String> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("## "))
        .filter_map(|l| l.split_once('.').map(|(n, _)| n.to_string()))
        .collect();
    let mut files = vec![root.join("README.md")];
    for dir in ["src", "tests", "migrations"] {
        collect(&root.join(dir), &mut files);
    }
    let mut checked = 0;
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        assert!(
            !text.contains(&format!("{}/DESIGN.md", "shared")),
            "{} cites a document outside the repository",
            file.display()
        );
        for (at, _) in text.match_indices("ARCHITECTURE §") {
            let number: String = text[at + "ARCHITECTURE §".len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if number.is_empty() {
                // "§N" in prose about references, not a reference.
                continue;
            }
            assert!(
                sections.contains(&number),
                "{} cites ARCHITECTURE §{number}, which docs/ARCHITECTURE.md does not have",
                file.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 5, "only {checked} references found");
}

fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e == "rs" || e == "sql" || e == "md")
        {
            out.push(path);
        }
    }
}
