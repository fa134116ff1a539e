//! The server's check (`git hybrid install --server`, a pre-receive hook): a push of
//! unreviewed local output to a protected branch is refused whatever the pushing client ran or
//! skipped — from a clone with the gate under `--no-verify`, from a clone without it, with the
//! records in the same push (read from git's quarantine) — and an approved one is accepted. The
//! records ref only grows; the policy is the one before the push; with signers required, only a
//! listed signer's approval opens it.

use std::path::{Path, PathBuf};

use crate::records::{add_file, forge_records, in_dir, records_files, teammate, with_remote};
use crate::support::anthropic::{FakeAnthropic, Reply};
use crate::support::{Run, TestRepo};

/// A bare `origin` for `repo` with the server's gate installed.
fn server(repo: &TestRepo) -> PathBuf {
    let remote = with_remote(repo);
    in_dir(repo, &remote, &["hybrid", "install", "--server"])
        .success()
        .stderr_has("the server's gate is installed");
    assert!(remote.join("hooks/pre-receive").is_file());
    remote
}

fn remote_has(repo: &TestRepo, refname: &str) -> bool {
    !repo
        .git(&["ls-remote", "origin", refname])
        .trim()
        .is_empty()
}

/// Asserts the server (not a local hook) refused the push, naming the line's file.
#[track_caller]
fn refused_by_server(run: &Run) {
    run.failure()
        .stderr_has("remote: hybrid: this server's gate refused the push")
        .stderr_has("src/port.rs")
        .stderr_has("git hybrid review");
}

#[test]
fn the_server_refuses_unreviewed_local_output_however_it_is_pushed() {
    let repo = TestRepo::with_generation();
    let remote = server(&repo);
    // The records and the protected update in one push, past the local hooks: the server reads
    // the records from the push itself (its quarantine), and refuses all of it.
    refused_by_server(&repo.try_git(&[
        "push",
        "--no-verify",
        "origin",
        "main",
        "refs/hybrid/records",
        "hybrid/port:refs/heads/release",
    ]));
    assert!(!remote_has(&repo, "refs/hybrid/records"));
    assert!(!remote_has(&repo, "refs/heads/release"));
    // A quarantine branch is no protected ref: it goes, its records first (pre-push).
    repo.git(&["push", "-q", "origin", "main", "hybrid/port"]);
    assert!(remote_has(&repo, "refs/hybrid/records"));
    // From the author's clone, hooks skipped.
    refused_by_server(&repo.try_git(&["push", "--no-verify", "origin", "hybrid/port:main"]));
    // From a teammate's clone that never installed the gate.
    let clone = teammate(&repo, &remote);
    in_dir(
        &repo,
        &clone,
        &["merge", "-q", "--ff-only", "origin/hybrid/port"],
    )
    .success();
    refused_by_server(&in_dir(&repo, &clone, &["push", "origin", "main"]));
    // A new protected branch, a tag: each is a protected ref.
    refused_by_server(&in_dir(
        &repo,
        &clone,
        &["push", "origin", "main:refs/heads/topic"],
    ));
    in_dir(&repo, &clone, &["tag", "v1"]).success();
    refused_by_server(&in_dir(&repo, &clone, &["push", "origin", "v1"]));

    // Reviewed and approved in the author's clone: the approval travels, the push is accepted.
    let api = FakeAnthropic::start(vec![Reply::Approve]);
    repo.review(&api, &["hybrid/port"]).success();
    repo.git(&["merge", "-q", "--ff-only", "hybrid/port"]);
    repo.git(&["push", "-q", "origin", "main"]);
    assert_eq!(
        repo.git(&["ls-remote", "origin", "refs/heads/main"])
            .split_whitespace()
            .next(),
        Some(repo.rev("main").as_str())
    );
    // The teammate's push of the same content now passes too (it is already there).
    in_dir(&repo, &clone, &["push", "origin", "v1"]).success();
}

#[test]
fn the_server_keeps_its_records_whole_and_its_policy_its_own() {
    let repo = TestRepo::with_generation();
    server(&repo);
    repo.git(&["push", "-q", "origin", "main", "hybrid/port"]);
    let generation = records_files(&repo)
        .into_iter()
        .find(|f| f.starts_with("generations/"))
        .unwrap();
    let push_records = |commit: &str| {
        repo.try_git(&[
            "push",
            "--no-verify",
            "origin",
            &format!("{commit}:refs/hybrid/records"),
        ])
    };
    // Taking a record away (which would make its lines nobody's output) is refused...
    let shrunk = forge_records(&repo, |with_index| {
        with_index(&["rm", "--cached", "-q", &generation]);
    });
    push_records(&shrunk)
        .failure()
        .stderr_has("records are append-only: the push removes generations/");
    // ...and so is deleting the ref, or editing a record in place.
    repo.try_git(&["push", "--no-verify", "origin", ":refs/hybrid/records"])
        .failure()
        .stderr_has("cannot be deleted");
    let edited = forge_records(&repo, |with_index| {
        add_file(&repo, with_index, &generation, "{}");
    });
    push_records(&edited)
        .failure()
        .stderr_has("the push changes generations/");
    // Hostile additions: not JSON, not a record, an approval of lines it never saw.
    for (path, text, why) in [
        ("generations/g-bad.json", "{", "generations/g-bad.json:"),
        ("notes/evil.txt", "hello", "is not a record"),
        ("verdicts/00.json.sig", "x", "is not an SSH signature"),
    ] {
        let forged = forge_records(&repo, |with_index| add_file(&repo, with_index, path, text));
        push_records(&forged).failure().stderr_has(why);
    }
    let fp = "00000000000000aa";
    let verdict = serde_json::json!({
        "version": 1, "change_id": format!("hc1-{}", "b".repeat(64)), "decision": "approve",
        "model": "m", "request_id": null, "summary": "", "complete": true,
        "base_commit": null, "tip_commit": null, "target": "t", "parts": 1, "findings": [],
        "seen": [], "approved": [fp], "recorded_by": "mallory@example.com", "recorded_at": 0
    })
    .to_string();
    let key = {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(verdict.as_bytes());
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let forged = forge_records(&repo, |with_index| {
        add_file(&repo, with_index, &format!("verdicts/{key}.json"), &verdict)
    });
    push_records(&forged)
        .failure()
        .stderr_has("it approves lines its review did not see");

    // The policy is the one on main before the push: a push that narrows it and uses the
    // narrower policy at once is judged by the old one.
    repo.write(
        ".hybrid.toml",
        "[gate]\nprotected = [\"refs/heads/main\"]\n",
    );
    repo.git(&["add", ".hybrid.toml"]);
    repo.git(&["commit", "-q", "-m", "narrow the policy"]);
    refused_by_server(&repo.try_git(&[
        "push",
        "--no-verify",
        "origin",
        "main",
        "hybrid/port:refs/heads/release",
    ]));
    // Once the narrower policy is on main, release is no longer protected.
    repo.git(&["push", "-q", "--no-verify", "origin", "main"]);
    repo.git(&[
        "push",
        "-q",
        "--no-verify",
        "origin",
        "hybrid/port:refs/heads/release",
    ]);
}

fn keygen(repo: &TestRepo, name: &str) -> (PathBuf, String) {
    let key = repo.home().join(name);
    std::fs::create_dir_all(repo.home()).unwrap();
    let mut cmd = repo.command("ssh-keygen");
    cmd.args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&key);
    repo.run(cmd).success();
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    (key, public.trim().to_string())
}

/// Local output on a new quarantine branch `hybrid/<name>`, adopted, from main.
fn generation(repo: &TestRepo, name: &str) {
    repo.git(&["checkout", "-q", "-b", &format!("hybrid/{name}"), "main"]);
    repo.write(
        &format!("src/{name}.rs"),
        format!("pub fn {name}_value(input: u32) -> u32 {{\n    input.wrapping_mul(31).rotate_left(7)\n}}\n"),
    );
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", name]);
    repo.hybrid(&["adopt", &format!("hybrid/{name}")]).success();
    repo.git(&["checkout", "-q", "main"]);
}

fn sign_with(repo: &TestRepo, key: &Path, email: &str) {
    repo.git(&["config", "gpg.format", "ssh"]);
    repo.git(&["config", "user.signingkey", key.to_str().unwrap()]);
    repo.git(&["config", "user.email", email]);
}

#[test]
fn with_signers_required_only_a_listed_signers_approval_opens_the_server() {
    let repo = TestRepo::with_generation();
    server(&repo);
    let (alice, alice_pub) = keygen(&repo, "alice");
    let (mallory, _) = keygen(&repo, "mallory");
    repo.write(
        ".hybrid/allowed_signers",
        format!("alice@example.com {alice_pub}\n"),
    );
    repo.write(
        ".hybrid.toml",
        "[trust]\nallowed_signers = \".hybrid/allowed_signers\"\n",
    );
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "require signed approvals"]);
    repo.git(&["push", "-q", "origin", "main"]);

    // An unsigned approval: the local gate takes it, the server does not.
    repo.git(&["config", "user.email", "alice@example.com"]);
    generation(&repo, "unsigned");
    let api = FakeAnthropic::start(vec![Reply::Approve, Reply::Approve, Reply::Approve]);
    repo.review(&api, &["hybrid/unsigned"]).success();
    repo.try_git(&["push", "origin", "hybrid/unsigned:refs/heads/unsigned"])
        .failure()
        .stderr_has("remote: hybrid: this server's gate refused the push")
        .stderr_has("src/unsigned.rs")
        .stderr_has(
            "approvals count here only when signed by a signer main:.hybrid/allowed_signers lists",
        );

    // Signed, by a key the list does not hold for that author: still refused.
    sign_with(&repo, &mallory, "alice@example.com");
    generation(&repo, "forged");
    repo.review(&api, &["hybrid/forged"]).success();
    let sig = records_files(&repo)
        .into_iter()
        .find(|f| f.starts_with("verdicts/") && f.ends_with(".sig"));
    assert!(sig.is_some(), "records are signed when git signs with SSH");
    repo.try_git(&["push", "origin", "hybrid/forged:refs/heads/forged"])
        .failure()
        .stderr_has("src/forged.rs");

    // Signed by the listed signer: accepted.
    sign_with(&repo, &alice, "alice@example.com");
    generation(&repo, "signed");
    repo.review(&api, &["hybrid/signed"]).success();
    repo.git(&["push", "-q", "origin", "hybrid/signed:refs/heads/signed"]);
}
