//! The change id contract (ARCHITECTURE §3): fixed test vectors, which must never change silently, and
//! properties — a trivial rebase keeps the id, any changed byte changes it, and the user's git
//! configuration changes nothing.

use git_hybrid::change::Change;
use git_hybrid::git::index_entry;
use git2::{Index, Oid, Repository};
use proptest::prelude::*;

use crate::support::TestRepo;

const FILE: u32 = 0o100644;
const EXEC: u32 = 0o100755;

type Files<'a> = &'a [(&'a [u8], &'a [u8], u32)];

fn tree(repo: &Repository, files: Files<'_>) -> Oid {
    let mut index = Index::new().unwrap();
    for (path, content, mode) in files {
        let id = repo.blob(content).unwrap();
        index
            .add(&index_entry(path, *mode, id, content.len()))
            .unwrap();
    }
    index.write_tree_to(repo).unwrap()
}

fn change_id(repo: &Repository, old: Files<'_>, new: Files<'_>) -> String {
    let old = repo.find_tree(tree(repo, old)).unwrap();
    let new = repo.find_tree(tree(repo, new)).unwrap();
    Change::between_trees(repo, Some(&old), Some(&new))
        .unwrap()
        .id()
        .to_string()
}

fn scratch() -> (tempfile::TempDir, Repository) {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init_bare(dir.path()).unwrap();
    (dir, repo)
}

/// Each vector: a name, the old files, the new files, and the id they must produce forever.
#[test]
fn vectors() {
    let (_dir, repo) = scratch();
    let cases: &[(&str, Files<'_>, Files<'_>, &str)] = &[
        (
            "add",
            &[],
            &[(b"a.txt", b"hello world\n", FILE)],
            "hc1-b7ab21da068ee4d5dcd3a9f8e5aa6d17401f54c246f643c11e334c271524a54f",
        ),
        (
            "modify",
            &[(b"a.txt", b"one\ntwo\nthree\n", FILE)],
            &[(b"a.txt", b"one\n2\nthree\n", FILE)],
            "hc1-f0935ef7a690635093934801701e8bbab25ef2b3d5a40f12ef0518ce1f8023b0",
        ),
        (
            "delete",
            &[(b"a.txt", b"gone\n", FILE)],
            &[],
            "hc1-0d15e88d3925edd8afdf9cd168b5ed534c9bfc66c2df8bd516ea0c3ba292c493",
        ),
        (
            "exact rename",
            &[(b"a.txt", b"same content\n", FILE)],
            &[(b"b.txt", b"same content\n", FILE)],
            "hc1-68a0fca6e21a456638bdb8f9f94e8c133ee7f052806a42d64b0ac5cd21852bec",
        ),
        (
            "mode change",
            &[(b"run.sh", b"echo hi\n", FILE)],
            &[(b"run.sh", b"echo hi\n", EXEC)],
            "hc1-a9b387924c9edd58572f45373da03b9f3d1462bba3fcb982fba0845ff75edf6a",
        ),
        (
            "binary",
            &[(b"img.bin", b"\x00\x01\x02", FILE)],
            &[(b"img.bin", b"\x00\x01\x03", FILE)],
            "hc1-8e0fc616890182057f1cc2f66dd36c65a76235bce72cc31c570588bff161ce61",
        ),
        (
            "no final newline",
            &[(b"a.txt", b"a\nb\n", FILE)],
            &[(b"a.txt", b"a\nb", FILE)],
            "hc1-074c2feaf5bc614ff38db425c730bf861318276a318bbbb03fdf85c1d85fa2df",
        ),
        (
            "crlf",
            &[(b"a.txt", b"a\r\nb\r\n", FILE)],
            &[(b"a.txt", b"a\r\nc\r\n", FILE)],
            "hc1-8be6307542f0c2df3f527d412bfa816b4095ff26e01f44b1b2f7502c0611068b",
        ),
        (
            "whitespace-only edit",
            &[(b"a.rs", b"fn x() {\n  y();\n}\n", FILE)],
            &[(b"a.rs", b"fn x() {\n    y();\n}\n", FILE)],
            "hc1-03cd1aa16a14743a4256553312e63011f15eba3f976a3d847decd8419a6b8fd7",
        ),
        (
            "non-utf-8 path",
            &[],
            &[(b"caf\xe9.txt", b"bonjour\n", FILE)],
            "hc1-332c66afd8fcb63ccc16e16ae2a7664a8945efe6e8db0f8f41d5afff52a0bca8",
        ),
    ];
    let mut seen = std::collections::HashSet::new();
    for (name, old, new, expected) in cases {
        let id = change_id(&repo, old, new);
        assert_eq!(id.len(), 4 + 64);
        assert_eq!(&id, expected, "{name}: the change id format changed");
        assert!(seen.insert(id), "{name} collides with another vector");
    }
}

#[test]
fn an_empty_change_has_a_fixed_id_and_a_rename_is_not_a_delete_plus_add() {
    let (_dir, repo) = scratch();
    let same: Files<'_> = &[(b"a.txt", b"x\n", FILE)];
    assert_eq!(
        change_id(&repo, same, same),
        change_id(&repo, &[], &[]),
        "no change is no change, whatever the base"
    );
    let renamed = change_id(&repo, same, &[(b"b.txt", b"x\n", FILE)]);
    let rewritten = change_id(&repo, same, &[(b"b.txt", b"y\n", FILE)]);
    assert_ne!(renamed, rewritten);
}

fn lines(prefix: &str, n: std::ops::Range<usize>) -> impl Strategy<Value = Vec<String>> {
    let prefix = prefix.to_string();
    proptest::collection::vec(0u32..1000, n)
        .prop_map(move |v| v.into_iter().map(|x| format!("{prefix} {x}\n")).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The same edit on a base shifted by unrelated lines (a trivial rebase) keeps its id.
    #[test]
    fn shifted_base_keeps_the_id(
        shift_a in lines("shift-a", 0..30),
        shift_b in lines("shift-b", 0..30),
        body in lines("body", 1..20),
        added in lines("added", 1..5),
        at in 0usize..20,
    ) {
        let (_dir, repo) = scratch();
        let separator = "----\n----\n----\n----\n";
        let at = at.min(body.len());
        let old_body: String = body.concat();
        let new_body: String = [&body[..at], &added[..], &body[at..]].concat().concat();
        let id = |shift: &[String]| {
            let old = format!("{}{separator}{old_body}", shift.concat());
            let new = format!("{}{separator}{new_body}", shift.concat());
            change_id(&repo, &[(b"f.txt", old.as_bytes(), FILE)], &[(b"f.txt", new.as_bytes(), FILE)])
        };
        prop_assert_eq!(id(&shift_a), id(&shift_b));
    }

    /// Changing any byte of an added or removed line changes the id.
    #[test]
    fn any_changed_byte_changes_the_id(
        body in lines("body", 1..15),
        added in lines("added", 1..5),
        pick in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        on_removed_side in any::<bool>(),
    ) {
        let (_dir, repo) = scratch();
        // Old: body; new: body with its first line replaced by the added lines.
        let old: Vec<String> = body.clone();
        let new: Vec<String> = [&added[..], &body[1..]].concat();
        let base = change_id(&repo, &[(b"f", old.concat().as_bytes(), FILE)], &[(b"f", new.concat().as_bytes(), FILE)]);
        // Flip one byte inside the removed line (old side) or an added line (new side).
        let (mut old_bytes, mut new_bytes) = (old.concat().into_bytes(), new.concat().into_bytes());
        let (target, len) = if on_removed_side {
            (&mut old_bytes, body[0].len())
        } else {
            (&mut new_bytes, added.concat().len())
        };
        let i = pick.index(len);
        prop_assume!(target[i] != byte && byte != b'\n' && target[i] != b'\n' && byte != 0);
        target[i] = byte;
        let changed = change_id(&repo, &[(b"f", &old_bytes, FILE)], &[(b"f", &new_bytes, FILE)]);
        prop_assert_ne!(base, changed);
    }
}

#[test]
fn git_configuration_changes_nothing() {
    let repo = TestRepo::with_generation();
    repo.write(
        "src/lib.rs",
        "pub fn add(a: i32, b: i32) -> i32 {\r\n    a + b // crlf now\r\n}\r\n",
    );
    repo.git(&["checkout", "-q", "-b", "work"]);
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "crlf"]);
    let id = |repo: &TestRepo| {
        let run = repo.hybrid(&["verify", "--json", "main..hybrid/port"]);
        let a: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
        let run = repo.hybrid(&["verify", "--json", "main..work"]);
        let b: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
        (a["change_id"].clone(), b["change_id"].clone())
    };
    let plain = id(&repo);
    for (key, value) in [
        ("diff.algorithm", "patience"),
        ("core.autocrlf", "true"),
        ("diff.renames", "copies"),
        ("color.ui", "always"),
        ("diff.context", "10"),
        ("core.eol", "crlf"),
    ] {
        repo.git(&["config", key, value]);
    }
    assert_eq!(id(&repo), plain);
}

/// pre-commit computes the candidate from the index, reference-transaction from two trees: the
/// same change must get the same id both ways, typechanges and renames included.
#[test]
fn index_and_tree_paths_agree() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    let write = |p: &str, c: &str| {
        let p = dir.path().join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, c).unwrap();
    };
    write("keep/a.txt", "unchanged\n");
    write("edit.txt", "one\ntwo\nthree\n");
    write("gone.txt", "to be deleted\n");
    write("moved.txt", "moves intact\n");
    write("becomes-dir", "a file first\n");
    write("becomes-link", "target text\n");
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .unwrap();
    let old = repo.find_tree(index.write_tree().unwrap()).unwrap();

    write("edit.txt", "one\n2\nthree\n");
    std::fs::remove_file(dir.path().join("gone.txt")).unwrap();
    std::fs::rename(
        dir.path().join("moved.txt"),
        dir.path().join("sub/moved.txt"),
    )
    .unwrap_or_else(|_| {
        std::fs::create_dir_all(dir.path().join("sub")).unwrap();
        std::fs::rename(
            dir.path().join("moved.txt"),
            dir.path().join("sub/moved.txt"),
        )
        .unwrap();
    });
    std::fs::remove_file(dir.path().join("becomes-dir")).unwrap();
    write("becomes-dir/inside.txt", "now a folder\n");
    std::fs::remove_file(dir.path().join("becomes-link")).unwrap();
    symlink("edit.txt", dir.path().join("becomes-link")).unwrap();
    write("new/deep/file.txt", "brand new\n");
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .unwrap();
    index.update_all(["*"], None).unwrap();
    let from_index = Change::tree_to_index(&repo, Some(&old), &index).unwrap();
    let new = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let from_trees = Change::between_trees(&repo, Some(&old), Some(&new)).unwrap();
    assert_eq!(from_index, from_trees);
    assert_eq!(from_index.id(), from_trees.id());
    assert_eq!(from_trees.files.len(), 7, "{:#?}", from_trees.files);
}
