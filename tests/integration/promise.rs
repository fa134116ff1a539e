//! The promise, tried as an attacker would: every way local output could reach a protected ref
//! without a review, or be approved without Claude having seen it. One test per class, and the
//! class's variants (other ref commands, other encodings, other orders) checked separately.

use crate::support::anthropic::{FakeAnthropic, Reply};
use crate::support::{GENERATED, TestRepo};

#[track_caller]
fn unmoved(repo: &TestRepo, refname: &str, before: &str) {
    assert_eq!(
        repo.rev(refname),
        before,
        "{refname} must stay where it was"
    );
}

#[track_caller]
fn absent(repo: &TestRepo, refname: &str) {
    assert_ne!(
        repo.try_git(&["rev-parse", "--verify", "-q", refname])
            .code(),
        Some(0),
        "{refname} must not exist"
    );
}

// ---- 1. ref rename / copy onto a protected name ---------------------------------------------

#[test]
fn renaming_quarantine_onto_a_protected_name_is_checked() {
    let repo = TestRepo::with_generation();
    let main = repo.rev("main");
    let port = repo.rev("hybrid/port");
    repo.git(&["switch", "-q", "--detach"]);
    // -M over the default branch.
    repo.try_git(&["branch", "-M", "hybrid/port", "main"])
        .blocked_by("hybrid/port")
        .stderr_has("refs/heads/main");
    unmoved(&repo, "main", &main);
    unmoved(&repo, "hybrid/port", &port);
    // -m out of quarantine, to a new protected name.
    repo.try_git(&["branch", "-m", "hybrid/port", "feature/port"])
        .blocked_by("hybrid/port");
    absent(&repo, "refs/heads/feature/port");
    unmoved(&repo, "hybrid/port", &port);
    // Renaming within quarantine, and renaming human work, stay free.
    repo.git(&["branch", "-m", "hybrid/port", "hybrid/port2"]);
    repo.git(&["branch", "-m", "hybrid/port2", "hybrid/port"]);
    repo.git(&["branch", "human", "main"]);
    repo.git(&["branch", "-m", "human", "feature/human"]);
    // Once reviewed, the rename goes through.
    let api = FakeAnthropic::start(vec![Reply::Approve]);
    repo.review(&api, &["hybrid/port"]).success();
    repo.git(&["branch", "-m", "hybrid/port", "feature/port"]);
    assert_eq!(repo.rev("feature/port"), port);
}

#[test]
fn renaming_the_current_quarantine_branch_is_checked() {
    let repo = TestRepo::with_generation();
    repo.git(&["checkout", "-q", "hybrid/port"]);
    repo.try_git(&["branch", "-m", "release"])
        .blocked_by("hybrid/port");
    absent(&repo, "refs/heads/release");
    assert_eq!(
        repo.git(&["symbolic-ref", "HEAD"]).trim(),
        "refs/heads/hybrid/port"
    );
}

#[test]
fn a_rename_through_an_alias_or_global_options_is_checked() {
    let repo = TestRepo::with_generation();
    let port = repo.rev("hybrid/port");
    repo.git(&["switch", "-q", "--detach"]);
    repo.git(&["config", "alias.rn", "branch -m"]);
    repo.try_git(&["rn", "hybrid/port", "feature/port"])
        .blocked();
    let dir = repo.dir.to_str().unwrap().to_string();
    repo.try_git(&[
        "-C",
        &dir,
        "-c",
        "color.ui=never",
        "branch",
        "--move",
        "hybrid/port",
        "feature/port",
    ])
    .blocked();
    absent(&repo, "refs/heads/feature/port");
    unmoved(&repo, "hybrid/port", &port);
}

#[test]
fn a_copied_branch_cannot_go_further() {
    // git runs no hook at all for `git branch -c/-C` (files backend): the copy itself cannot be
    // stopped locally, but it cannot be pushed, merged or verified either.
    let repo = TestRepo::with_generation();
    repo.git(&["switch", "-q", "--detach"]);
    repo.git(&["branch", "-c", "hybrid/port", "feature/copy"]);
    repo.git(&["switch", "-q", "main"]);
    let main = repo.rev("main");
    repo.try_git(&["merge", "--ff-only", "feature/copy"])
        .blocked();
    unmoved(&repo, "main", &main);
    repo.git(&["reset", "-q", "--hard"]);
    repo.hybrid(&["verify", "main..feature/copy"])
        .failure()
        .stdout_has("src/port.rs");
    let remote = repo.dir.parent().unwrap().join("remote.git");
    repo.git(&["init", "-q", "--bare", remote.to_str().unwrap()]);
    repo.try_git(&["push", remote.to_str().unwrap(), "feature/copy"])
        .blocked();
    // And doctor names it.
    repo.hybrid(&["doctor"])
        .failure()
        .stdout_has("refs/heads/feature/copy holds 7 line(s) of unreviewed local output");
}

// ---- 2. symbolic refs -------------------------------------------------------------------------

#[test]
fn a_protected_name_never_becomes_a_symref_to_quarantine() {
    let repo = TestRepo::with_generation();
    let main = repo.rev("main");
    repo.try_git(&["symbolic-ref", "refs/heads/main", "refs/heads/hybrid/port"])
        .failure()
        .stderr_has("symbolic ref to refs/heads/hybrid/port");
    unmoved(&repo, "main", &main);
    assert!(
        repo.try_git(&["symbolic-ref", "-q", "refs/heads/main"])
            .code()
            != Some(0),
        "main stays a plain ref"
    );
    // A new protected name, and a tag, the same.
    repo.try_git(&[
        "symbolic-ref",
        "refs/heads/release",
        "refs/heads/hybrid/port",
    ])
    .failure();
    absent(&repo, "refs/heads/release");
    repo.try_git(&["symbolic-ref", "refs/tags/v1", "refs/heads/hybrid/port"])
        .failure();
    absent(&repo, "refs/tags/v1");
    // Through update-ref --stdin's symref commands: a new name, and main itself.
    let update_ref = |line: &str| {
        use std::io::Write;
        let mut cmd = repo.command("git");
        cmd.args(["update-ref", "--stdin"])
            .stdin(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(line.as_bytes())
            .unwrap();
        child.wait().unwrap().success()
    };
    assert!(!update_ref(
        "symref-create refs/heads/other refs/heads/hybrid/port\n"
    ));
    absent(&repo, "refs/heads/other");
    assert!(!update_ref(
        "symref-update refs/heads/main refs/heads/hybrid/port\n"
    ));
    unmoved(&repo, "main", &main);
    // A symref between protected refs is fine.
    repo.git(&["symbolic-ref", "refs/heads/stable", "refs/heads/main"]);
}

// ---- 3. content git calls binary, and type changes --------------------------------------------

fn commit_on_main(repo: &TestRepo, path: &str, content: &[u8]) -> crate::support::Run {
    repo.write(path, content);
    repo.git(&["add", path]);
    repo.try_git(&["commit", "-q", "-m", "human?"])
}

fn utf16le(text: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        out.extend(u.to_le_bytes());
    }
    out
}

#[test]
fn output_with_a_nul_byte_is_still_text() {
    let repo = TestRepo::with_generation();
    let main = repo.rev("main");
    let mut bytes = GENERATED.as_bytes().to_vec();
    bytes.insert(10, 0);
    commit_on_main(&repo, "src/nul.rs", &bytes).blocked();
    unmoved(&repo, "main", &main);
}

#[test]
fn output_saved_as_utf16_or_utf32_is_still_text() {
    let repo = TestRepo::with_generation();
    let main = repo.rev("main");
    commit_on_main(&repo, "src/wide.rs", &utf16le(GENERATED)).blocked();
    repo.git(&["reset", "-q", "--hard"]);
    let mut be32 = vec![0, 0, 0xFE, 0xFF];
    for c in GENERATED.chars() {
        be32.extend((c as u32).to_be_bytes());
    }
    commit_on_main(&repo, "src/wider.rs", &be32).blocked();
    repo.git(&["reset", "-q", "--hard"]);
    // BOM-less UTF-16, mostly ASCII.
    let bomless: Vec<u8> = utf16le(GENERATED)[2..].to_vec();
    commit_on_main(&repo, "src/bare16.rs", &bomless).blocked();
    repo.git(&["reset", "-q", "--hard"]);
    // BOM-less, with text in another script around it: UTF-16BE and UTF-32LE.
    let around =
        format!("// Разбор порта: проверено вручную, см. журнал изменений\n{GENERATED}// конец\n");
    let be16: Vec<u8> = around.encode_utf16().flat_map(u16::to_be_bytes).collect();
    commit_on_main(&repo, "src/bare16be.rs", &be16).blocked();
    repo.git(&["reset", "-q", "--hard"]);
    let le32: Vec<u8> = around
        .chars()
        .flat_map(|c| (c as u32).to_le_bytes())
        .collect();
    commit_on_main(&repo, "src/bare32.rs", &le32).blocked();
    unmoved(&repo, "main", &main);
}

/// Output pasted into a Jupyter notebook cell is read as the cell's code, not as the JSON
/// strings it is stored in; a person's own notebook passes.
#[test]
fn output_pasted_into_a_notebook_cell_is_found() {
    let repo = TestRepo::with_generation();
    let main = repo.rev("main");
    let notebook = |cells: &[&str]| {
        let cells: Vec<serde_json::Value> = cells
            .iter()
            .map(|source| {
                let lines: Vec<String> = source.split_inclusive('\n').map(String::from).collect();
                serde_json::json!({"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": lines})
            })
            .collect();
        serde_json::to_string_pretty(&serde_json::json!({
            "cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5
        }))
        .unwrap()
    };
    commit_on_main(
        &repo,
        "notebooks/explore.ipynb",
        notebook(&["import json\nprint(json.dumps({\"ok\": True}))\n"]).as_bytes(),
    )
    .success();
    let before = repo.rev("main");
    commit_on_main(
        &repo,
        "notebooks/explore.ipynb",
        notebook(&[
            "import json\nprint(json.dumps({\"ok\": True}))\n",
            GENERATED,
        ])
        .as_bytes(),
    )
    .blocked()
    .stderr_has("notebooks/explore.ipynb");
    unmoved(&repo, "main", &before);
    assert_ne!(before, main);
}

/// Output kept in a JSON or YAML string (a test fixture, a workflow step) is read with its line
/// breaks, not as one long escaped line; a person's own fixture with line breaks passes.
#[test]
fn output_in_a_json_or_yaml_string_is_found() {
    let repo = TestRepo::with_generation();
    let main = repo.rev("main");
    let own = serde_json::to_string_pretty(&serde_json::json!({
        "cases": [{"name": "hello", "code": "print('hello')\nprint('goodbye, world')\n"}]
    }))
    .unwrap();
    commit_on_main(&repo, "fixtures/cases.json", own.as_bytes()).success();
    let before = repo.rev("main");
    let pasted = serde_json::to_string_pretty(&serde_json::json!({
        "cases": [
            {"name": "hello", "code": "print('hello')\nprint('goodbye, world')\n"},
            {"name": "ported", "code": GENERATED}
        ]
    }))
    .unwrap();
    commit_on_main(&repo, "fixtures/cases.json", pasted.as_bytes())
        .blocked()
        .stderr_has("fixtures/cases.json");
    repo.git(&["reset", "-q", "--hard"]);
    let yaml = format!(
        "steps:\n  - name: ported\n    script: {}\n",
        serde_json::to_string(GENERATED).unwrap()
    );
    commit_on_main(&repo, ".ci/steps.yml", yaml.as_bytes())
        .blocked()
        .stderr_has(".ci/steps.yml");
    unmoved(&repo, "main", &before);
    assert_ne!(before, main);
}

#[test]
fn a_binary_file_or_symlink_replaced_by_output_is_checked() {
    let repo = TestRepo::with_generation();
    repo.write(
        "assets/logo.bin",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10",
    );
    std::os::unix::fs::symlink("../README.md", repo.dir.join("src/readme-link")).unwrap();
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "human assets"]);
    let main = repo.rev("main");
    commit_on_main(&repo, "assets/logo.bin", GENERATED.as_bytes()).blocked();
    repo.git(&["reset", "-q", "--hard"]);
    std::fs::remove_file(repo.dir.join("src/readme-link")).unwrap();
    commit_on_main(&repo, "src/readme-link", GENERATED.as_bytes()).blocked();
    unmoved(&repo, "main", &main);
}

#[test]
fn unicode_whitespace_is_whitespace() {
    let repo = TestRepo::with_generation();
    let main = repo.rev("main");
    let respaced = GENERATED
        .replace("    ", "\u{00A0}\u{3000}")
        .replace(" = ", "\u{2003}=\u{2003}");
    commit_on_main(&repo, "src/spaced.rs", respaced.as_bytes()).blocked();
    unmoved(&repo, "main", &main);
}

/// A repository whose local output (`hybrid/wide`, adopted) was saved as UTF-16.
fn wide_generation() -> TestRepo {
    let repo = TestRepo::new();
    repo.git(&["checkout", "-q", "-b", "hybrid/wide"]);
    repo.write("src/wide.rs", utf16le(GENERATED));
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "generated, UTF-16"]);
    repo.hybrid(&["adopt", "hybrid/wide"]).success();
    repo.git(&["checkout", "-q", "main"]);
    repo
}

#[test]
fn output_recorded_as_utf16_is_caught_as_utf8() {
    let repo = wide_generation();
    commit_on_main(&repo, "src/port.rs", GENERATED.as_bytes()).blocked_by("hybrid/wide");
}

#[test]
fn the_reviewer_reads_decoded_text() {
    let repo = wide_generation();
    let api = FakeAnthropic::start(vec![Reply::Approve]);
    repo.review(&api, &["hybrid/wide"]).success();
    let body = api.answered()[0].body.clone();
    assert!(body.contains("+pub fn parse_port"), "{body}");
    assert!(body.contains("UTF-16LE"), "{body}");
    repo.git(&["merge", "-q", "--ff-only", "hybrid/wide"]);
}

// ---- 4. submodule pins ------------------------------------------------------------------------

#[test]
fn pinning_a_local_commit_as_a_submodule_is_checked() {
    let repo = TestRepo::with_generation();
    let main = repo.rev("main");
    let port = repo.rev("hybrid/port");
    repo.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{port},vendor/x"),
    ]);
    repo.try_git(&["commit", "-q", "-m", "vendor x"])
        .blocked()
        .stderr_has("submodule pin");
    unmoved(&repo, "main", &main);
    // Through update-ref, the same.
    let tree = repo.git(&["write-tree"]).trim().to_string();
    let commit = repo
        .git(&["commit-tree", &tree, "-p", &main, "-m", "pin"])
        .trim()
        .to_string();
    repo.try_git(&["update-ref", "refs/heads/main", &commit])
        .blocked();
    unmoved(&repo, "main", &main);
    // A pin to human work is fine; so is one to reviewed output.
    repo.git(&["update-index", "--force-remove", "vendor/x"]);
    repo.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{main},vendor/human"),
    ]);
    repo.git(&["commit", "-q", "-m", "vendor human"]);
    let api = FakeAnthropic::start(vec![Reply::Approve]);
    repo.review(&api, &["hybrid/port"]).success();
    repo.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{port},vendor/x"),
    ]);
    repo.git(&["commit", "-q", "-m", "vendor x, reviewed"]);
}

#[test]
fn pinning_a_commit_only_quarantine_reaches_is_blocked_even_unrecorded() {
    // Output nobody adopted: still local output, because only a quarantine ref holds it.
    let repo = TestRepo::with_generation();
    repo.git(&["checkout", "-q", "-b", "hybrid/unrecorded", "main"]);
    repo.write(
        "src/other.rs",
        "pub fn never_adopted_output(level: u8) -> bool { level > 7 }\n",
    );
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "not adopted"]);
    let pinned = repo.rev("HEAD");
    repo.git(&["checkout", "-q", "main"]);
    let main = repo.rev("main");
    repo.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{pinned},vendor/y"),
    ]);
    repo.try_git(&["commit", "-q", "-m", "vendor y"])
        .blocked_by("hybrid/unrecorded")
        .stderr_has("vendor/y (submodule pin");
    unmoved(&repo, "main", &main);
}

/// A pin into this repository to a commit it does not hold (yet) promises content the gate
/// cannot see: it may arrive later on a quarantine branch. It blocks — locally and on the
/// server — as does a pin no `.gitmodules` entry places; a pin to another repository's commit
/// is that repository's business.
#[test]
fn a_pin_into_this_repository_that_does_not_resolve_is_blocked() {
    let repo = TestRepo::with_generation();
    let main = repo.rev("main");
    let missing = "1234567890abcdef1234567890abcdef12345678";
    let pin = |path: &str| {
        repo.git(&[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("160000,{missing},{path}"),
        ]);
    };
    // No .gitmodules entry: nobody can say where it lives.
    pin("vendor/unknown");
    repo.try_git(&["commit", "-q", "-m", "pin"])
        .failure()
        .stderr_has("no .gitmodules entry says which repository");
    unmoved(&repo, "main", &main);
    repo.git(&["reset", "-q", "--hard"]);
    // Into this repository, by a relative URL and by `.`.
    for url in ["./", "../repo.git"] {
        repo.write(
            ".gitmodules",
            format!("[submodule \"self\"]\n\tpath = vendor/self\n\turl = {url}\n"),
        );
        repo.git(&["add", ".gitmodules"]);
        pin("vendor/self");
        repo.try_git(&["commit", "-q", "-m", "pin self"])
            .failure()
            .stderr_has(
                "points at commit 1234567890abcdef1234567890abcdef12345678 in this repository",
            )
            .stderr_has("push or fetch the branch that holds that commit first");
        unmoved(&repo, "main", &main);
        repo.git(&["reset", "-q", "--hard"]);
    }
    // Another repository's commit: not this gate's business.
    repo.write(
        ".gitmodules",
        "[submodule \"lib\"]\n\tpath = vendor/lib\n\turl = https://example.com/other/lib.git\n",
    );
    repo.git(&["add", ".gitmodules"]);
    pin("vendor/lib");
    repo.git(&["commit", "-q", "-m", "vendor lib"]);
    // The server judges the same way: a self-pin pushed with the hooks skipped is refused.
    let _remote = crate::server::server(&repo);
    repo.git(&["push", "-q", "origin", "main"]);
    repo.write(
        ".gitmodules",
        "[submodule \"lib\"]\n\tpath = vendor/lib\n\turl = https://example.com/other/lib.git\n[submodule \"self\"]\n\tpath = vendor/self\n\turl = ./\n",
    );
    repo.git(&["add", ".gitmodules"]);
    pin("vendor/self");
    repo.commit_unhooked("pin self, hooks off");
    repo.try_git(&["push", "--no-verify", "origin", "main"])
        .failure()
        .stderr_has("remote: hybrid:")
        .stderr_has("in this repository");
}

/// The other order of events: main already pins a commit of this repository that the server
/// does not hold (the pin got there before the server's gate), and a later push brings that
/// commit under a quarantine branch. Checking main out would now bring unreviewed output, so the
/// server refuses that push until a review approves it; a push that reaches no pin is untouched.
#[test]
fn a_push_that_makes_a_protected_pin_resolve_to_unreviewed_output_is_refused() {
    let repo = TestRepo::with_generation();
    let port = repo.rev("hybrid/port");
    let remote = crate::records::with_remote(&repo);
    repo.write(
        ".gitmodules",
        "[submodule \"self\"]\n\tpath = vendor/self\n\turl = ./\n",
    );
    repo.git(&["add", ".gitmodules"]);
    repo.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{port},vendor/self"),
    ]);
    repo.commit_unhooked("pin self, before the server's gate");
    repo.git(&["push", "-q", "--no-verify", "origin", "main"]);
    crate::records::in_dir(&repo, &remote, &["hybrid", "install", "--server"]).success();
    // Human work that reaches no pin goes through.
    repo.git(&["checkout", "-q", "-b", "feature", "main~1"]);
    repo.write("notes.txt", "a human note\n");
    repo.git(&["add", "notes.txt"]);
    repo.git(&["commit", "-q", "-m", "note"]);
    repo.git(&["push", "-q", "origin", "feature"]);
    repo.git(&["checkout", "-q", "main"]);
    // The pinned output itself is refused, with the pin named.
    repo.try_git(&["push", "origin", "hybrid/port"])
        .failure()
        .stderr_has("remote: hybrid: this server's gate refused the push")
        .stderr_has("already pins as its submodule vendor/self")
        .stderr_has("src/port.rs");
    // Once a review approved it, the same push is allowed.
    let api = FakeAnthropic::start(vec![Reply::Approve]);
    repo.review(&api, &["hybrid/port"]).success();
    repo.git(&["push", "-q", "origin", "hybrid/port"]);
}

// ---- 5. adopt <branch> records the whole branch -----------------------------------------------

#[test]
fn adopting_a_branch_records_every_commit_on_it() {
    let repo = TestRepo::new();
    repo.git(&["checkout", "-q", "-b", "hybrid/m"]);
    repo.write("src/port.rs", GENERATED);
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "first generated commit"]);
    // The second commit rewrites the file: the first commit's lines are gone from the tip.
    repo.write(
        "src/port.rs",
        "pub fn second_generated_function(input: u32) -> u32 {\n    input.saturating_mul(3)\n}\n",
    );
    repo.git(&["commit", "-q", "-a", "-m", "second generated commit"]);
    repo.hybrid(&["adopt", "hybrid/m"]).success();
    repo.git(&["checkout", "-q", "main"]);
    let main = repo.rev("main");
    repo.try_git(&["cherry-pick", "hybrid/m~1"])
        .blocked_by("hybrid/m");
    unmoved(&repo, "main", &main);
}

// ---- 6. redaction: approval of lines Claude never saw -----------------------------------------

#[test]
fn lines_a_redaction_swallowed_or_changed_stay_unapproved() {
    let repo = TestRepo::new();
    repo.git(&["checkout", "-q", "-b", "hybrid/key"]);
    let hidden: String = (0..12)
        .map(|i| format!("pub fn never_sent_to_the_reviewer_{i}() -> u32 {{ {i} }}\n"))
        .collect();
    repo.write(
        "src/key.py",
        format!(
            "def visible_function_one(x):\n    return x * 2\n# -----BEGIN PRIVATE KEY-----\n{hidden}"
        ),
    );
    repo.write(
        "src/db.py",
        "DATABASE_URL = \"postgres://admin:Sup3rS3cretPassw0rd@db.internal:5432/app\"\nprint_all_the_things = True\n",
    );
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "generated"]);
    repo.hybrid(&["adopt", "hybrid/key"]).success();
    repo.git(&["checkout", "-q", "main"]);
    let api = FakeAnthropic::start(vec![Reply::Approve]);
    // Approved is what was sent: the review says what was not, and exits 1.
    repo.review(&api, &["hybrid/key"])
        .failure()
        .stdout_has("approved what was sent")
        .stdout_has("not sent as written");
    let body = api.answered()[0].body.clone();
    assert!(!body.contains("never_sent_to_the_reviewer"), "{body}");
    assert!(!body.contains("Sup3rS3cretPassw0rd"), "{body}");
    // The change id is not approved (the request did not hold the whole change)…
    assert_eq!(
        repo.count("SELECT COUNT(*) FROM verdicts WHERE decision = 'approve' AND complete = 1"),
        0
    );
    // …and the lines it did not hold block the merge; the lines it held are approved.
    let main = repo.rev("main");
    // Said as what they are: lines Claude never saw, which another review would not show it
    // either — not "git hybrid review hybrid/key".
    repo.try_git(&["merge", "--ff-only", "hybrid/key"])
        .failure()
        .stderr_has("blocked: refs/heads/main would receive 16 lines")
        // The lines beside the secret were shown, but not between the neighbours they have.
        .stderr_has("src/key.py: 14 lines (2-15)")
        .stderr_has("src/db.py: 2 lines")
        .stderr_has("16 of the lines above could not be sent as they stand (a secret in or right beside them")
        .stderr_lacks("to fix: git hybrid review hybrid/key");
    unmoved(&repo, "main", &main);
    repo.git(&["reset", "-q", "--hard"]);
    repo.write(
        "src/other.py",
        "def visible_function_one(x):\n    return x * 2\n",
    );
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "reviewed lines may land"]);
}

// ---- 7. the fix loop approves only what its requests held -------------------------------------

use crate::review::{PORT_ZERO_FIX, fix_port as fix_with};

fn fix(
    repo: &TestRepo,
    api: &FakeAnthropic,
    local: &crate::support::openai::FakeOpenAi,
) -> crate::support::Run {
    fix_with(repo, api, local, &[])
}

#[test]
fn a_commit_after_the_review_is_never_approved_unseen() {
    use crate::support::openai::FakeOpenAi;
    let repo = TestRepo::with_generation();
    let api = FakeAnthropic::start(vec![Reply::RequestChanges, Reply::Approve]);
    repo.review(&api, &["hybrid/port"]).failure();
    // New local output lands on the branch after the review asked for changes.
    repo.git(&["checkout", "-q", "hybrid/port"]);
    repo.write(
        "src/extra.rs",
        "pub fn slipped_in_after_the_review(level: u8) -> bool { level > 3 }\n",
    );
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "more generated"]);
    repo.hybrid(&["adopt", "hybrid/port~1..hybrid/port"])
        .success();
    repo.git(&["checkout", "-q", "main"]);
    let local = FakeOpenAi::start(vec![PORT_ZERO_FIX.into()]);
    // A fix's re-review checks fixes; it would approve the new output under that lighter
    // framing. So the fix refuses, spends nothing, and asks for a full review.
    fix(&repo, &api, &local)
        .failure()
        .stderr_has("gained local output after its last review (1 line(s) in 1 commit(s))")
        .stderr_has("git hybrid review hybrid/port");
    assert_eq!(api.answered().len(), 1);
    assert_eq!(local.requests().len(), 0);
    repo.try_git(&["merge", "--ff-only", "hybrid/port"])
        .blocked();
    repo.git(&["reset", "-q", "--hard"]);
    // The full review sees the new line as new code, with the whole checklist.
    repo.review(&api, &["hybrid/port"]).success();
    let full = api.answered().last().unwrap().body.clone();
    assert!(
        full.contains("+pub fn slipped_in_after_the_review"),
        "{full}"
    );
    assert!(full.contains("meaningful_tests"), "{full}");
    repo.git(&["merge", "-q", "--ff-only", "hybrid/port"]);
}

/// A person's commit after the review is not output: the fix goes on.
#[test]
fn a_human_commit_after_the_review_does_not_stop_the_fix() {
    use crate::support::openai::FakeOpenAi;
    let repo = TestRepo::with_generation();
    let api = FakeAnthropic::start(vec![Reply::RequestChanges, Reply::Approve]);
    repo.review(&api, &["hybrid/port"]).failure();
    repo.git(&["checkout", "-q", "hybrid/port"]);
    repo.write("NOTES.md", "Ports are parsed in src/port.rs.\n");
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "a human note"]);
    repo.git(&["checkout", "-q", "main"]);
    let local = FakeOpenAi::start(vec![PORT_ZERO_FIX.into()]);
    fix(&repo, &api, &local).success();
    repo.git(&["merge", "-q", "--ff-only", "hybrid/port"]);
}

#[test]
fn a_file_the_first_review_withheld_stays_unapproved_after_the_fix() {
    use crate::support::openai::FakeOpenAi;
    let repo = TestRepo::with_generation();
    repo.git(&["checkout", "-q", "hybrid/port"]);
    repo.write(
        "secret/keys.rs",
        "pub fn private_signing_material() -> Vec<u8> { vec![1, 2, 3] }\n",
    );
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "more"]);
    repo.hybrid(&["adopt", "hybrid/port"]).success();
    repo.git(&["checkout", "-q", "main"]);
    repo.write(".hybridignore", "secret/\n");
    let api = FakeAnthropic::start(vec![Reply::RequestChanges, Reply::Approve]);
    repo.review(&api, &["hybrid/port"]).failure();
    let local = FakeOpenAi::start(vec![PORT_ZERO_FIX.into()]);
    fix(&repo, &api, &local).success();
    for logged in api.answered() {
        assert!(!logged.body.contains("private_signing_material"));
    }
    repo.try_git(&["merge", "--ff-only", "hybrid/port"])
        .failure()
        .stderr_has("secret/keys.rs: 1 line");
}

// ---- 8. git replace ---------------------------------------------------------------------------

#[test]
fn replace_refs_that_show_local_output_are_blocked() {
    let repo = TestRepo::with_generation();
    let main = repo.rev("main");
    let port = repo.rev("hybrid/port");
    repo.try_git(&["replace", &main, &port])
        .blocked_by("hybrid/port");
    absent(&repo, &format!("refs/replace/{main}"));
    // A blob swapped for a blob of output.
    let lib = repo.rev("main:src/lib.rs");
    let out = repo.rev("hybrid/port:src/port.rs");
    repo.try_git(&["replace", "-f", &lib, &out])
        .blocked_by("hybrid/port");
    absent(&repo, &format!("refs/replace/{lib}"));
    // Through update-ref, the same.
    repo.try_git(&["update-ref", &format!("refs/replace/{main}"), &port])
        .blocked_by("hybrid/port");
    absent(&repo, &format!("refs/replace/{main}"));
    // Replacing with human work is allowed.
    repo.write("NOTES.md", "a human note\n");
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "notes"]);
    let human = repo.rev("main");
    repo.git(&["replace", &main, &human]);
}

// ---- 9. a lost store does not forget ----------------------------------------------------------

#[test]
fn a_deleted_or_truncated_store_blocks_instead_of_starting_over() {
    let repo = TestRepo::with_generation();
    let main = repo.rev("main");
    std::fs::remove_dir_all(repo.dir.join(".git/hybrid")).unwrap();
    repo.try_git(&["merge", "--ff-only", "hybrid/port"])
        .failure()
        .stderr_has("holds no local output")
        .stderr_has("restore");
    unmoved(&repo, "main", &main);
    repo.git(&["reset", "-q", "--hard"]);
    // verify takes the store back from the records ref first, and still blocks.
    repo.hybrid(&["verify", "main..hybrid/port"])
        .failure()
        .stdout_has("src/port.rs");
    // Truncated to nothing: the same.
    std::fs::write(repo.store_path(), b"").unwrap();
    repo.try_git(&["merge", "--ff-only", "hybrid/port"])
        .failure()
        .stderr_has("holds no local output");
    unmoved(&repo, "main", &main);
    repo.git(&["reset", "-q", "--hard"]);
    // Starting over is a deliberate act, and the hint names it: with the records gone too (the
    // hooks take in what the records ref knows before judging, so it still blocks until then).
    repo.git(&["update-ref", "-d", "refs/hybrid/store"]);
    repo.try_git(&["merge", "-q", "--ff-only", "hybrid/port"])
        .blocked();
    repo.git(&["reset", "-q", "--hard"]);
    repo.git(&["update-ref", "-d", "refs/hybrid/records"]);
    std::fs::remove_dir_all(repo.dir.join(".git/hybrid")).unwrap();
    repo.git(&["merge", "-q", "--ff-only", "hybrid/port"]);
}

// ---- 10. policy weakening and the policy deadlock ---------------------------------------------

#[test]
fn a_policy_that_weakens_the_gate_cannot_be_committed() {
    let repo = TestRepo::with_generation();
    let main = repo.rev("main");
    for (policy, complaint) in [
        ("[gate]\nquarantine = [\"refs/heads/*\"]\n", "too broad"),
        ("[gate]\nprotected = []\n", "protects nothing"),
        (
            "[gate]\nprotected = [\"refs/tags/*\"]\n",
            "would not be protected",
        ),
        (
            "[gate]\nquarantine = [\"refs/heads/main\", \"refs/heads/hybrid/*\"]\n",
            "be a quarantine ref",
        ),
    ] {
        repo.write(".hybrid.toml", policy);
        repo.git(&["add", ".hybrid.toml"]);
        repo.try_git(&["commit", "-q", "-m", "policy"])
            .failure()
            .stderr_has(complaint);
        unmoved(&repo, "main", &main);
    }
}

#[test]
fn local_overrides_that_weaken_the_gate_are_refused() {
    let repo = TestRepo::with_generation();
    let main = repo.rev("main");
    repo.git(&["config", "hybrid.quarantine", "refs/heads/*"]);
    repo.try_git(&["merge", "--ff-only", "hybrid/port"])
        .failure()
        .stderr_has("would weaken the gate");
    unmoved(&repo, "main", &main);
    repo.git(&["reset", "-q", "--hard"]);
    repo.git(&["config", "--unset", "hybrid.quarantine"]);
    let mut cmd = repo.command("git");
    cmd.args(["merge", "--ff-only", "hybrid/port"])
        .env("GIT_HYBRID_PROTECTED", "refs/tags/*");
    repo.run(cmd).failure().stderr_has("would not be protected");
    unmoved(&repo, "main", &main);
    repo.git(&["reset", "-q", "--hard"]);
    // A narrower local setting that still guards main is allowed, and every hook run says so.
    repo.git(&["config", "hybrid.protected", "refs/heads/main"]);
    repo.git(&["branch", "scratch", "hybrid/port"]);
    repo.write("NOTES.md", "a human note\n");
    repo.git(&["add", "."]);
    repo.try_git(&["commit", "-q", "-m", "note"])
        .success()
        .stderr_has("warning: git config hybrid.* sets protected");
    repo.hybrid(&["doctor"])
        .stdout_has("git config hybrid.* sets protected");
}

#[test]
fn a_commit_that_only_repairs_a_broken_policy_passes() {
    let repo = TestRepo::with_generation();
    repo.write(".hybrid.toml", "[gate\n");
    repo.git(&["add", ".hybrid.toml"]);
    repo.commit_unhooked("broken policy");
    // Everything else is blocked…
    repo.write("notes.txt", "a human note\n");
    repo.git(&["add", "notes.txt"]);
    repo.try_git(&["commit", "-q", "-m", "note"])
        .failure()
        .stderr_has("is not valid");
    repo.git(&["reset", "-q", "notes.txt"]);
    // …and a repair mixed with other changes too…
    repo.write(
        ".hybrid.toml",
        "[gate]\nprotected = [\"refs/heads/*\", \"refs/tags/*\"]\n",
    );
    repo.git(&["add", ".hybrid.toml", "notes.txt"]);
    repo.try_git(&["commit", "-q", "-m", "repair and note"])
        .failure();
    // …but the repair alone passes.
    repo.git(&["reset", "-q", "notes.txt"]);
    repo.try_git(&["commit", "-q", "-m", "repair the policy"])
        .success()
        .stderr_has("only repairs .hybrid.toml");
    repo.git(&["add", "notes.txt"]);
    repo.git(&["commit", "-q", "-m", "note"]);
    // And the gate holds again.
    repo.try_git(&["merge", "--no-ff", "-m", "merge", "hybrid/port"])
        .blocked();
}

// ---- also: install creates the store ----------------------------------------------------------

#[test]
fn verify_right_after_install_allows_human_work() {
    let repo = TestRepo::new();
    repo.hybrid(&["verify", "HEAD"]).success();
}

#[test]
fn a_blocked_fast_forward_says_how_to_put_the_files_back() {
    let repo = TestRepo::with_generation();
    repo.write("NOTES.md", "my own uncommitted work\n");
    for args in [
        &["merge", "--ff-only", "hybrid/port"][..],
        &["reset", "--hard", "hybrid/port"][..],
    ] {
        let command = "git restore --source=HEAD --staged --worktree -- src/port.rs";
        repo.try_git(args).blocked().stderr_has(command);
        let status = repo.git(&["status", "--porcelain"]);
        assert!(status.contains("src/port.rs"), "{status}");
        repo.git(&[
            "restore",
            "--source=HEAD",
            "--staged",
            "--worktree",
            "--",
            "src/port.rs",
        ]);
        let status = repo.git(&["status", "--porcelain", "--untracked-files=no"]);
        assert_eq!(status, "", "only the blocked update's files were put back");
        // `reset --hard` also reverts tracked changes: redo the user's untracked note only.
        repo.write("NOTES.md", "my own uncommitted work\n");
    }
    assert_eq!(
        std::fs::read_to_string(repo.dir.join("NOTES.md")).unwrap(),
        "my own uncommitted work\n"
    );
    // A blocked commit changed nothing git wrote: no such advice.
    repo.write("src/port.rs", GENERATED);
    repo.git(&["add", "src/port.rs"]);
    repo.try_git(&["commit", "-q", "--no-verify", "-m", "port"])
        .blocked()
        .stderr_lacks("git restore");
}

/// Siblings of the rename: every other command that points main at the quarantine branch.
#[test]
fn other_commands_that_point_main_at_output_are_blocked() {
    let repo = TestRepo::with_generation();
    let main = repo.rev("main");
    repo.git(&["switch", "-q", "--detach"]);
    for args in [
        &["fetch", "-q", ".", "hybrid/port:main"][..],
        &["push", "-q", ".", "hybrid/port:main"][..],
        &["switch", "-q", "-C", "main", "hybrid/port"][..],
        &["checkout", "-q", "-B", "main", "hybrid/port"][..],
    ] {
        repo.try_git(args).failure().stderr_has("hybrid: blocked:");
        unmoved(&repo, "main", &main);
        repo.git(&["reset", "-q", "--hard", &main]);
        repo.git(&["switch", "-q", "--detach", &main]);
    }
}

// ---- attributes come from the base as committed ----------------------------------------------

/// The recorded change never decides what of itself is recorded: a `.gitattributes` the output
/// brings (checked out while adopting) marking itself `linguist-generated` is not read; the
/// base's committed attributes are.
#[test]
fn adopt_reads_attributes_from_the_base_not_from_the_output() {
    let repo = TestRepo::new();
    repo.git(&["checkout", "-q", "-b", "hybrid/sneaky"]);
    repo.write("src/port.rs", GENERATED);
    repo.write(".gitattributes", "src/port.rs linguist-generated\n");
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "generated, calling itself generated"]);
    // Adopted with the quarantine branch checked out: its .gitattributes is in the worktree.
    repo.hybrid(&["adopt", "hybrid/sneaky"])
        .success()
        .stderr_has("protected refs will refuse this change until a review approves it")
        .stderr_has("6 of its lines are also recognised");
    repo.git(&["checkout", "-q", "main"]);
    repo.try_git(&["merge", "-q", "--ff-only", "hybrid/sneaky"])
        .blocked_by("hybrid/sneaky");
    // git wrote the blocked fast-forward's files already: put main's back.
    repo.git(&["reset", "-q", "--hard"]);
    // A file the base itself marks generated stays out, as before.
    repo.write(".gitattributes", "gen/*.rs linguist-generated\n");
    repo.git(&["add", ".gitattributes"]);
    repo.git(&["commit", "-q", "-m", "generated code lives in gen/"]);
    repo.git(&["checkout", "-q", "-b", "hybrid/gen"]);
    repo.write("gen/table.rs", GENERATED);
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "regenerated table"]);
    repo.hybrid(&["adopt", "hybrid/gen"])
        .success()
        .stderr_has("none of these lines can be told apart");
}
