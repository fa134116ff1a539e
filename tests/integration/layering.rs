//! The import graph of `src/`, read from the source: top-level modules import each other without
//! a circle, and each rests only on the floors below it. (Tests and `#[cfg(test)]` code are left
//! out: they may reach anywhere.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Bottom to top. A module may import only modules on a lower floor (or its own).
const FLOORS: &[&[&str]] = &[
    &["git", "route", "ui", "digest", "runtime", "sse", "sys"],
    &["change", "config"],
    &["store"],
    &["provenance", "spec", "backend", "shim", "trust"],
    &["gate", "local", "cloud", "records", "attribution"],
    &["daemon"],
    &["workflow"],
    &["error"],
    &["mcp"],
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
fn the_gate_rests_on_config_store_change_git_and_sys_and_never_prints() {
    let graph = graph();
    // The reader sees imports at all (both `crate::x::…` and `crate::{x, y}` forms).
    assert!(graph["cloud"].contains("spec") && graph["cli"].contains("gate"));
    let gate: Vec<&str> = graph["gate"].iter().map(String::as_str).collect();
    assert_eq!(gate, ["change", "config", "git", "store", "sys", "ui"]);
    // `ui` only for its words (`plural`, `abbrev`): the gate never prints, its caller does.
    let mut files = Vec::new();
    collect(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/gate"),
        &mut files,
    );
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for call in ["ui::say", "ui::out", "ui::warn", "ui::tell", "ui::spinner"] {
            assert!(
                !text.contains(call),
                "{} prints ({call}): the gate returns what to say",
                file.display()
            );
        }
    }
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

/// The names a file imports from its parent folder's other modules: `super::x`, `super::{x, y}`
/// (and `crate::<folder>::x` spelled out).
fn sibling_imports(text: &str, folder: &str) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    let mut out = BTreeSet::new();
    let spelled = format!("crate::{}::", folder.replace('/', "::"));
    for prefix in ["super::", spelled.as_str()] {
        for (at, _) in code.match_indices(prefix) {
            let rest = &code[at + prefix.len()..];
            if rest.starts_with("super::") {
                continue;
            }
            let names: Vec<&str> = match rest.strip_prefix('{') {
                Some(list) => list[..list.find('}').unwrap_or(list.len())]
                    .split(',')
                    .collect(),
                None => vec![rest],
            };
            for name in names {
                let name: String = name
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                out.insert(name);
            }
        }
    }
    out
}

/// Inside every folder, the files import each other without a circle (two siblings that each
/// reach into the other belong in one file, or share a third).
#[test]
fn files_inside_a_folder_import_each_other_without_a_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut folders = vec![src.clone()];
    let mut checked = 0;
    while let Some(dir) = folders.pop() {
        let folder = dir
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        // Each child module of this folder: a file, or a folder's mod.rs.
        let mut children: BTreeMap<String, std::path::PathBuf> = BTreeMap::new();
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                folders.push(path.clone());
                if path.join("mod.rs").exists() {
                    children.insert(name, path.join("mod.rs"));
                }
            } else if path.extension().is_some_and(|e| e == "rs") && name != "mod" {
                children.insert(name, path);
            }
        }
        if folder.is_empty() {
            // The crate root's modules are the floors' business (above).
            continue;
        }
        let edges: BTreeMap<&str, BTreeSet<String>> = children
            .iter()
            .map(|(name, path)| {
                let text = std::fs::read_to_string(path).unwrap();
                let targets = sibling_imports(&text, &folder)
                    .into_iter()
                    .filter(|t| t != name && children.contains_key(t))
                    .collect();
                (name.as_str(), targets)
            })
            .collect();
        // A circle shows as a module that reaches itself.
        for start in edges.keys() {
            let mut seen = BTreeSet::new();
            let mut stack: Vec<&str> = edges[start].iter().map(String::as_str).collect();
            while let Some(m) = stack.pop() {
                assert_ne!(
                    m, *start,
                    "src/{folder}: {start} imports itself through its siblings: {edges:#?}"
                );
                if seen.insert(m) {
                    stack.extend(edges[m].iter().map(String::as_str));
                }
            }
            checked += 1;
        }
    }
    assert!(
        checked > 50,
        "only {checked} modules inside folders checked"
    );
}

/// Every file in tests/integration (and its folders) is declared as a module of the test binary:
/// a file that is not is never compiled, and its tests never run.
#[test]
fn every_test_file_is_declared() {
    fn undeclared_in(dir: &Path, root: &str, out: &mut Vec<String>) {
        let text = std::fs::read_to_string(dir.join(root)).unwrap();
        let declared: BTreeSet<&str> = text
            .lines()
            .map(|l| {
                l.trim()
                    .trim_start_matches("pub(crate) ")
                    .trim_start_matches("pub ")
            })
            .filter_map(|l| l.strip_prefix("mod "))
            .filter_map(|l| l.strip_suffix(';'))
            .collect();
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let folder = path.join("mod.rs").exists();
            let file = path.extension().is_some_and(|e| e == "rs") && path.is_file();
            if (file || folder) && name != root.trim_end_matches(".rs") {
                if !declared.contains(name.as_str()) {
                    out.push(path.display().to_string());
                }
                if folder {
                    undeclared_in(&path, "mod.rs", out);
                }
            }
        }
    }
    let mut undeclared = Vec::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration");
    undeclared_in(&dir, "main.rs", &mut undeclared);
    assert!(
        undeclared.is_empty(),
        "test files no `mod` declares (never compiled, never run): {undeclared:#?}"
    );
}
