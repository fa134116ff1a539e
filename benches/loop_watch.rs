//! False alarms of the loop watch (`backend::Repeats`), not speed: every source file under the
//! folders given (real code nobody wrote for this) is fed to it as if a model were writing it,
//! in pieces of a few bytes as tokens arrive. A file it would stop is a file a model could not
//! have written: its answer would be refused as a loop (code) or ended early (prose). Prints the
//! files stopped, with the lines that repeated, and the count per extension.
//!
//! `cargo bench --bench loop_watch -- DIR...` (e.g. checkouts of real repositories).

use std::collections::BTreeMap;
use std::path::Path;

use git_hybrid::backend::Repeats;

const EXTENSIONS: &[&str] = &[
    "py", "rs", "js", "ts", "go", "md", "json", "toml", "yml", "yaml",
];

fn walk(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.file_name().is_some_and(|n| n == ".git") {
            continue;
        }
        if path.is_dir() {
            walk(&path, found);
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e))
        {
            found.push(path);
        }
    }
}

fn main() {
    let dirs: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let mut files = Vec::new();
    for dir in &dirs {
        walk(Path::new(dir), &mut files);
    }
    // extension -> (files, stopped)
    let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for path in &files {
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default()
            .to_string();
        let mut repeats = Repeats::default();
        let stopped = bytes.chunks(4).find_map(|piece| repeats.push(piece));
        let entry = counts.entry(ext).or_default();
        entry.0 += 1;
        if let Some(looped) = stopped {
            entry.1 += 1;
            println!(
                "stopped: {} ({} lines from `{}`)",
                path.display(),
                looped.lines,
                looped.first
            );
        }
    }
    let (all, stopped) = counts
        .values()
        .fold((0, 0), |(a, s), (f, st)| (a + f, s + st));
    for (ext, (f, s)) in &counts {
        println!("{ext:>5}: {s} of {f} files stopped");
    }
    println!("total: {stopped} of {all} files stopped");
}
