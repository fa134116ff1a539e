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
pub(crate) fn server(repo: &TestRepo) -> PathBuf {
    let remote = with_remote(repo);
    in_dir(repo, &remote, &["hybrid", "install"])
        .failure()
        .stderr_has("git hybrid install --server");
    in_dir(repo, &remote, &["hybrid", "install", "--server"])
        .success()
        .stderr_has("the server's gate is installed");
    assert!(remote.join("hooks/pre-receive").is_file());
    remote
}

/// `hybrid/port` reviewed and approved, merged into main and pushed to origin: the approval
/// travels with the push and the server takes it.
pub(crate) fn approve_and_push(repo: &TestRepo) {
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
}

pub(crate) fn remote_has(repo: &TestRepo, refname: &str) -> bool {
    !repo
        .git(&["ls-remote", "origin", refname])
        .trim()
        .is_empty()
}

/// Asserts the server (not a local hook) refused the push, naming the line's file.
#[track_caller]
pub(crate) fn refused_by_server(run: &Run) {
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
    // An annotated tag (a tag object, not a commit) and a replace ref that swaps the server's
    // main for the output: the same.
    in_dir(&repo, &clone, &["tag", "-a", "-m", "release", "v1a"]).success();
    refused_by_server(&in_dir(&repo, &clone, &["push", "origin", "v1a"]));
    let human = repo.rev("main");
    in_dir(&repo, &clone, &["replace", &human, "origin/hybrid/port"]).success();
    in_dir(
        &repo,
        &clone,
        &["push", "origin", "refs/replace/*:refs/replace/*"],
    )
    .failure()
    .stderr_has("remote: hybrid: this server's gate refused the push")
    .stderr_has("src/port.rs");
    // The server's view of its records is a cache: lost, it is read again from the ref.
    std::fs::remove_dir_all(remote.join("hybrid")).unwrap();
    refused_by_server(&in_dir(&repo, &clone, &["push", "origin", "main"]));

    // Reviewed and approved in the author's clone: the approval travels, the push is accepted.
    approve_and_push(&repo);
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
    let huge = " ".repeat(9 << 20);
    for (path, text, why) in [
        ("generations/g-bad.json", "{", "generations/g-bad.json:"),
        ("notes/evil.txt", "hello", "is not a record"),
        ("verdicts/00.json.sig", "x", "is not an SSH signature"),
        (
            "generations/g-huge.json",
            huge.as_str(),
            "is more than a record can hold",
        ),
    ] {
        let forged = forge_records(&repo, |with_index| add_file(&repo, with_index, path, text));
        push_records(&forged).failure().stderr_has(why);
    }
    // Not a records commit at all: the code's own history forced over the records.
    push_records("+main")
        .failure()
        .stderr_has("refs/hybrid/records was refused: records are append-only: the push removes");
    // More new records in one push than the server takes (hybrid.receiveMaxRecords).
    let two = forge_records(&repo, |with_index| {
        add_file(&repo, with_index, "generations/g-x1.json", "{}");
        add_file(&repo, with_index, "generations/g-x2.json", "{}");
    });
    let mut cmd = repo.command("git");
    cmd.args(["config", "hybrid.receiveMaxRecords", "1"])
        .current_dir(repo.home().join("remote.git"));
    repo.run(cmd).success();
    push_records(&two)
        .failure()
        .stderr_has("the push adds 2 record files, more than this server takes at once (1;");
    let mut cmd = repo.command("git");
    cmd.args(["config", "--unset", "hybrid.receiveMaxRecords"])
        .current_dir(repo.home().join("remote.git"));
    repo.run(cmd).success();
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

    // The policy lives on main: deleting main (to be judged by the defaults next) is refused.
    repo.try_git(&["push", "--no-verify", "origin", ":main"])
        .failure()
        .stderr_has(
            "holds this repository's policy (.hybrid.toml), so this server does not delete it",
        );
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

/// Commits a policy that counts only approvals alice@example.com signed; her key's path.
pub(crate) fn require_alice(repo: &TestRepo) -> PathBuf {
    let (alice, alice_pub) = keygen(repo, "alice");
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
    alice
}

pub(crate) fn keygen(repo: &TestRepo, name: &str) -> (PathBuf, String) {
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
pub(crate) fn generation(repo: &TestRepo, name: &str) {
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

pub(crate) fn sign_with(repo: &TestRepo, key: &Path, email: &str) {
    repo.git(&["config", "gpg.format", "ssh"]);
    repo.git(&["config", "user.signingkey", key.to_str().unwrap()]);
    repo.git(&["config", "user.email", email]);
}

#[test]
fn with_signers_required_only_a_listed_signers_approval_opens_the_server() {
    let repo = TestRepo::with_generation();
    let remote = server(&repo);
    let alice = require_alice(&repo);
    let (mallory, _) = keygen(&repo, "mallory");
    repo.git(&["push", "-q", "origin", "main"]);

    // An unsigned approval: the local gate takes it, the server does not.
    repo.git(&["config", "user.email", "alice@example.com"]);
    generation(&repo, "unsigned");
    let api = FakeAnthropic::start(vec![Reply::Approve, Reply::Approve, Reply::Approve]);
    repo.review(&api, &["hybrid/unsigned"]).success();
    repo.try_git(&["push", "origin", "hybrid/unsigned:refs/heads/unsigned"])
        .failure()
        .stderr_has("warning: the policy counts only approvals signed by a signer .hybrid/allowed_signers lists")
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

    // CI judges the same way: in a fresh clone, the unsigned approval is absent, the signed one
    // counts.
    repo.git(&[
        "push",
        "-q",
        "origin",
        "hybrid/unsigned",
        "hybrid/forged",
        "hybrid/signed",
    ]);
    let ci = teammate(&repo, &remote);
    in_dir(
        &repo,
        &ci,
        &[
            "fetch",
            "-q",
            "origin",
            "+refs/hybrid/records*:refs/hybrid/remotes/origin/records*",
        ],
    )
    .success();
    for (branch, passes) in [("unsigned", false), ("forged", false), ("signed", true)] {
        let run = in_dir(
            &repo,
            &ci,
            &[
                "hybrid",
                "verify",
                &format!("origin/main..origin/hybrid/{branch}"),
            ],
        );
        if passes {
            run.success();
        } else {
            // CI reads the policy from the range's base, as the range names it.
            run.failure()
                .stdout_has(&format!("src/{branch}.rs"))
                .stderr_has(
                    "approvals count here only when signed by a signer origin/main:.hybrid/allowed_signers lists",
                );
        }
    }
}

/// Two clones record at once and push at once, in either order, to a server with the gate:
/// whichever loses the race takes the other's records in and pushes again, and both end with
/// the union — nothing lost, no conflict.
#[test]
fn two_clones_recording_and_pushing_at_once_converge() {
    let repo = TestRepo::with_generation();
    let remote = server(&repo);
    // Installed again now that origin exists: its fetch brings the records, as a teammate's does
    // (which clone wins each race is chance, so both must be able to catch up by fetching).
    repo.hybrid(&["install"]).success();
    repo.git(&["config", "hybrid.sendRecords", "false"]);
    repo.git(&["push", "-q", "origin", "main", "hybrid/port"]);
    let other = teammate(&repo, &remote);
    in_dir(&repo, &other, &["hybrid", "install"]).success();
    in_dir(&repo, &other, &["config", "hybrid.sendRecords", "false"]).success();
    let adopt = |dir: &Path, name: &str| adopt_in(&repo, dir, name);
    for round in 0..2 {
        let (a, b) = (format!("a{round}"), format!("b{round}"));
        // Both record at once, then both push at once.
        std::thread::scope(|s| {
            s.spawn(|| adopt(&repo.dir, &a));
            s.spawn(|| adopt(&other, &b));
        });
        let pushes: Vec<Run> = std::thread::scope(|s| {
            let first = s.spawn(|| {
                in_dir(
                    &repo,
                    &repo.dir,
                    &["push", "-q", "origin", &format!("hybrid/{a}")],
                )
            });
            let second = s.spawn(|| {
                in_dir(
                    &repo,
                    &other,
                    &["push", "-q", "origin", &format!("hybrid/{b}")],
                )
            });
            vec![first.join().unwrap(), second.join().unwrap()]
        });
        for push in &pushes {
            push.success().stderr_lacks("could not be pushed");
        }
    }
    // Every generation of both clones is on the server's records, and each clone, once it
    // fetched, holds the same set.
    let listing = |dir: &Path, rev: &str| -> Vec<String> {
        let mut files: Vec<String> = in_dir(&repo, dir, &["ls-tree", "-r", "--name-only", rev])
            .stdout()
            .lines()
            .map(str::to_string)
            .collect();
        files.sort();
        files
    };
    let on_server = listing(&remote, "refs/hybrid/records");
    assert_eq!(
        on_server
            .iter()
            .filter(|f| f.starts_with("generations/"))
            .count(),
        5,
        "{on_server:?}"
    );
    for dir in [&repo.dir, &other] {
        in_dir(&repo, dir, &["fetch", "-q", "origin"]).success();
        in_dir(&repo, dir, &["hybrid", "sync", "-q"]).success();
        in_dir(&repo, dir, &["push", "-q", "origin", "refs/hybrid/records"]).success();
    }
    let merged = listing(&remote, "refs/hybrid/records");
    assert_eq!(listing(&repo.dir, "refs/hybrid/records"), merged);
    assert_eq!(listing(&other, "refs/hybrid/records"), merged);
    assert_eq!(merged, on_server);
}

/// A hostile record on a remote without the server's gate reaches a clone by fetch: the fetch
/// goes through, the record is refused by name with what to do, and nothing it claims is
/// believed — the gate still blocks.
#[test]
fn a_hostile_record_fetched_from_an_ungated_remote_approves_nothing() {
    let repo = TestRepo::with_generation();
    let remote = with_remote(&repo);
    repo.git(&["push", "-q", "origin", "main", "hybrid/port"]);
    let clone = teammate(&repo, &remote);
    in_dir(&repo, &clone, &["hybrid", "install"]).success();
    in_dir(&repo, &clone, &["fetch", "-q"]).success();
    // Somebody with write access forges records on the remote.
    let forged = forge_records(&repo, |with_index| {
        add_file(
            &repo,
            with_index,
            "generations/g-evil.json",
            "{\"version\": 1",
        );
    });
    repo.git(&[
        "push",
        "-q",
        "--no-verify",
        "origin",
        &format!("{forged}:refs/hybrid/records"),
    ]);
    in_dir(&repo, &clone, &["fetch", "-q"])
        .success()
        .stderr_has("generations/g-evil.json");
    in_dir(
        &repo,
        &clone,
        &["hybrid", "verify", "origin/main..origin/hybrid/port"],
    )
    .failure()
    .stderr_has(
        "the record generations/g-evil.json on refs/hybrid/remotes/origin/records is unreadable",
    );
    in_dir(&repo, &clone, &["merge", "--ff-only", "origin/hybrid/port"])
        .failure()
        .stderr_has("hybrid: blocked:");
}

/// Local output on a new quarantine branch `hybrid/<name>` from origin/main in the clone `dir`,
/// adopted there.
fn adopt_in(repo: &TestRepo, dir: &Path, name: &str) {
    let git = |args: &[&str]| in_dir(repo, dir, args);
    git(&[
        "checkout",
        "-q",
        "-b",
        &format!("hybrid/{name}"),
        "origin/main",
    ])
    .success();
    std::fs::write(
        dir.join(format!("{name}.rs")),
        format!("pub fn {name}_mix(v: u64) -> u64 {{\n    v.rotate_right(11) ^ 0xabcdef\n}}\n"),
    )
    .unwrap();
    git(&["add", "."]).success();
    git(&["commit", "-q", "-m", name]).success();
    git(&["hybrid", "adopt", &format!("hybrid/{name}")]).success();
}

/// Eight clones with reviewed local output push to protected branches of a gated server at the
/// same moment, round after round: the server's view takes the concurrent imports (no UNIQUE
/// failure) and every client's records push converges (jittered retries), so no reviewed push
/// is refused.
#[test]
fn eight_clones_pushing_reviewed_work_at_once_are_all_accepted() {
    const CLONES: usize = 8;
    // More rounds for a measurement: GIT_HYBRID_TEST_ROUNDS=5.
    let rounds: usize = std::env::var("GIT_HYBRID_TEST_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2);
    let repo = TestRepo::with_generation();
    let remote = server(&repo);
    repo.git(&["push", "-q", "origin", "main"]);
    let api = FakeAnthropic::start(vec![Reply::Approve; CLONES * rounds]);
    let clones: Vec<PathBuf> = (0..CLONES)
        .map(|i| {
            let dir = repo.home().join(format!("clone-{i}"));
            repo.git(&[
                "clone",
                "-q",
                remote.to_str().unwrap(),
                dir.to_str().unwrap(),
            ]);
            in_dir(&repo, &dir, &["hybrid", "install"]).success();
            in_dir(&repo, &dir, &["config", "hybrid.sendRecords", "false"]).success();
            dir
        })
        .collect();
    for round in 0..rounds {
        for (i, dir) in clones.iter().enumerate() {
            let name = format!("c{i}r{round}");
            adopt_in(&repo, dir, &name);
            let mut review = repo.command_in("git", dir);
            review
                .args(["hybrid", "review", &format!("hybrid/{name}")])
                .env("ANTHROPIC_API_KEY", crate::support::anthropic::KEY)
                .env("ANTHROPIC_BASE_URL", &api.url);
            repo.run(review).success();
        }
        let pushes: Vec<Run> = std::thread::scope(|s| {
            let handles: Vec<_> = clones
                .iter()
                .enumerate()
                .map(|(i, dir)| {
                    let repo = &repo;
                    s.spawn(move || {
                        let name = format!("c{i}r{round}");
                        in_dir(
                            repo,
                            dir,
                            &[
                                "push",
                                "-q",
                                "origin",
                                &format!("hybrid/{name}:refs/heads/feature/{name}"),
                            ],
                        )
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let refused: Vec<String> = pushes
            .iter()
            .filter(|p| p.code() != Some(0))
            .map(|p| p.stderr())
            .collect();
        assert!(refused.is_empty(), "round {round}: {refused:#?}");
    }
}

/// Generation ids of adopted ranges are predictable: a record pushed first under the author's
/// id (with no lines) must not take the author's place. Generation files are named by their
/// content too, so both stand; the author's records still go out, and the generation is the
/// union of their lines — the server still refuses the output.
#[test]
fn a_record_squatting_a_generation_id_takes_nobodys_place() {
    let repo = TestRepo::new();
    let remote = server(&repo);
    repo.git(&["push", "-q", "origin", "main"]);
    repo.git(&["config", "hybrid.sendRecords", "false"]);
    repo.git(&["checkout", "-q", "-b", "hybrid/port"]);
    repo.write("src/port.rs", crate::support::GENERATED);
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "generated"]);
    repo.hybrid(&["adopt", "hybrid/port"]).success();
    repo.git(&["checkout", "-q", "main"]);
    let own = records_files(&repo)
        .into_iter()
        .find(|f| f.starts_with("generations/"))
        .unwrap();
    let id = own
        .trim_start_matches("generations/")
        .split('@')
        .next()
        .unwrap()
        .to_string();
    assert!(own.contains('@'), "named by content: {own}");
    // The squatter's record: the same generation, without its lines, under the older name.
    let text = repo.git(&["show", &format!("refs/hybrid/records:{own}")]);
    let mut record: serde_json::Value = serde_json::from_str(&text).unwrap();
    record["lines"] = serde_json::json!([]);
    let index = repo.dir.join(".git/squat-index");
    let with_index = |args: &[&str]| {
        let mut cmd = repo.command("git");
        cmd.args(args).env("GIT_INDEX_FILE", &index);
        repo.run(cmd).success().stdout()
    };
    add_file(
        &repo,
        &with_index,
        &format!("generations/{id}.json"),
        &record.to_string(),
    );
    let tree = with_index(&["write-tree"]);
    let squat = repo.git(&["commit-tree", tree.trim(), "-m", "first!"]);
    repo.git(&[
        "push",
        "-q",
        "--no-verify",
        "origin",
        &format!("{}:refs/hybrid/records", squat.trim()),
    ]);
    // The author's records still go: merged with the squatter's, both files stand.
    repo.git(&["push", "-q", "origin", "hybrid/port"]);
    let on_server = in_dir(
        &repo,
        &remote,
        &["ls-tree", "-r", "--name-only", "refs/hybrid/records"],
    )
    .stdout();
    assert!(on_server.contains(&own), "{on_server}");
    assert!(
        on_server.contains(&format!("generations/{id}.json")),
        "{on_server}"
    );
    // And the server knows the lines: the output is refused.
    refused_by_server(&repo.try_git(&["push", "--no-verify", "origin", "hybrid/port:main"]));
}

/// `doctor` on a server checks what a server needs — its view's owner, where the policy is read
/// from, a pinned signers file — not a store or an API key.
#[test]
fn doctor_on_a_server_checks_what_a_server_needs() {
    use std::os::unix::fs::MetadataExt;
    let repo = TestRepo::new();
    let remote = server(&repo);
    let doctor = || in_dir(&repo, &remote, &["hybrid", "doctor"]);
    let first = doctor();
    first.stdout_has("HEAD names no branch that exists yet");
    assert!(!first.stdout().contains("ANTHROPIC_API_KEY"));
    repo.git(&["push", "-q", "origin", "main"]);
    doctor()
        .success()
        .stdout_has("server: the view of the records")
        .stdout_has("server: the policy is read from refs/heads/main");
    // A view left behind by another user (an install run as root, say): named, with the fix.
    let view = remote.join("hybrid");
    let owner = std::fs::metadata(&remote).unwrap().uid();
    std::os::unix::fs::chown(&view, Some(owner + 4242), None).unwrap();
    doctor()
        .failure()
        .stdout_has(&format!("belongs to uid {}", owner + 4242))
        .stdout_has(&format!("chown -R {owner}"));
    std::os::unix::fs::chown(&view, Some(owner), None).unwrap();
    in_dir(
        &repo,
        &remote,
        &["config", "hybrid.allowedSigners", "/nonexistent"],
    )
    .success();
    doctor()
        .failure()
        .stdout_has("hybrid.allowedSigners names /nonexistent, which cannot be read");
}

/// A server whose hooks cannot find git-hybrid refuses (fail closed) and says it is the server's
/// set-up, addressed to whoever can fix it — not to the pusher as if their push were at fault.
#[test]
fn a_server_without_git_hybrid_on_its_path_says_whose_problem_it_is() {
    let repo = TestRepo::new();
    let remote = server(&repo);
    // The binary install recorded has moved away since.
    std::fs::write(remote.join("hybrid/binary"), "/nonexistent/git-hybrid\n").unwrap();
    if !Path::new("/usr/local/bin/git-hybrid").exists()
        && !Path::new("/usr/bin/git-hybrid").exists()
    {
        // doctor on the server says so, to the admin.
        in_dir(&repo, &remote, &["hybrid", "doctor"])
            .failure()
            .stdout_has("the hook cannot run git-hybrid")
            .stdout_has("/nonexistent/git-hybrid, which is not there");
    }
    // A PATH with git and without git-hybrid.
    let bin = repo.home().join("git-only");
    std::fs::create_dir_all(&bin).unwrap();
    let git = std::process::Command::new("sh")
        .args(["-c", "command -v git"])
        .output()
        .unwrap()
        .stdout;
    let git = String::from_utf8(git).unwrap();
    std::os::unix::fs::symlink(git.trim(), bin.join("git")).unwrap();
    let mut push = repo.command("git");
    push.env("PATH", &bin)
        .args(["push", "--no-verify", "origin", "main"]);
    repo.run(push)
        .failure()
        .stderr_has("remote: hybrid: blocked: this server cannot run git-hybrid")
        .stderr_has("this is the server's set-up, not your push");
}

/// `install --server` sets a server up so every push can be checked: it refuses to run as
/// another user than the repository's owner (saying who should run it), honours
/// `core.sharedRepository`, and records its own path so a hook whose `PATH` lacks git-hybrid
/// still runs the check.
#[test]
fn a_server_sets_itself_up_for_the_user_and_group_its_hooks_run_as() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let repo = TestRepo::with_generation();
    // Shared with a group: the view's folder and files are group-writable, the folder setgid.
    let shared = repo.home().join("shared.git");
    std::fs::create_dir_all(repo.home()).unwrap();
    repo.git(&[
        "init",
        "-q",
        "--bare",
        "--shared=group",
        "-b",
        "main",
        shared.to_str().unwrap(),
    ]);
    in_dir(&repo, &shared, &["hybrid", "install", "--server"])
        .success()
        .stderr_has("the server's gate is installed");
    let folder = std::fs::metadata(shared.join("hybrid")).unwrap();
    assert_eq!(
        folder.permissions().mode() & 0o2070,
        0o2070,
        "{:o}",
        folder.mode()
    );
    let view = std::fs::metadata(shared.join("hybrid/view.db")).unwrap();
    assert_eq!(
        view.permissions().mode() & 0o060,
        0o060,
        "{:o}",
        view.mode()
    );
    // The hook finds the recorded binary when its PATH has none: the check still runs.
    let recorded = std::fs::read_to_string(shared.join("hybrid/binary")).unwrap();
    assert!(Path::new(recorded.trim()).is_absolute(), "{recorded}");
    in_dir(&repo, &shared, &["hybrid", "doctor"]).stdout_has("server: the hook runs /");
    repo.git(&["remote", "add", "shared", shared.to_str().unwrap()]);
    repo.git(&["push", "-q", "shared", "main", "hybrid/port"]);
    let mut push = repo.command("git");
    push.args(["push", "--no-verify", "shared", "hybrid/port:main"])
        .env("PATH", "/usr/bin:/bin");
    repo.run(push)
        .failure()
        .stderr_has("remote: hybrid: this server's gate refused the push")
        .stderr_lacks("cannot run git-hybrid");
    // Another user's repository (only root can make one here): refused, with who should run it.
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        let theirs = repo.home().join("theirs.git");
        repo.git(&[
            "init",
            "-q",
            "--bare",
            "-b",
            "main",
            theirs.to_str().unwrap(),
        ]);
        let chown = std::process::Command::new("chown")
            .args(["-R", "nobody"])
            .arg(&theirs)
            .status()
            .unwrap();
        assert!(chown.success());
        in_dir(
            &repo,
            &theirs,
            // git's own ownership check speaks first; the hint names who should run it.
            &["hybrid", "install", "--server"],
        )
        .failure()
        .stderr_has("belongs to nobody")
        .stderr_has("sudo -u nobody git -C");
        assert!(!theirs.join("hybrid").exists());
    }
}

/// A server that mirrors to another gated server whose records also take pushes straight from
/// clones: once the two records refs diverge, a plain `git push --mirror` would drop the
/// mirror's own records, so its gate refuses it whole and main stops mirroring. README's recipe
/// (fetch the mirror's records, `git hybrid sync`, drop the fetched ref, push --mirror) merges
/// them first: main mirrors again and no record is lost on either side.
#[test]
fn a_mirror_whose_records_diverged_mirrors_again_with_the_readme_recipe() {
    let repo = TestRepo::with_generation();
    let primary = server(&repo);
    repo.git(&["push", "-q", "origin", "main", "hybrid/port"]);
    let mirror = crate::records::bare_repository(&repo, "mirror.git");
    in_dir(&repo, &mirror, &["hybrid", "install", "--server"]).success();
    let mirror_url = mirror.to_str().unwrap();
    in_dir(&repo, &primary, &["push", "-q", "--mirror", mirror_url]).success();
    // A teammate works against the mirror directly; the author goes on against the primary.
    let clone = teammate(&repo, &mirror);
    in_dir(&repo, &clone, &["hybrid", "install"]).success();
    adopt_in(&repo, &clone, "teammate");
    generation(&repo, "author");
    repo.git(&["push", "-q", "origin", "hybrid/author"]);
    repo.write("human.txt", "human work\n");
    repo.git(&["add", "human.txt"]);
    repo.git(&["commit", "-q", "-m", "human"]);
    repo.git(&["push", "-q", "origin", "main"]);
    let main = repo.rev("main");
    let mirror_main = || {
        in_dir(&repo, &mirror, &["rev-parse", "main"])
            .stdout()
            .trim()
            .to_string()
    };
    // The plain mirror push is refused whole.
    in_dir(&repo, &primary, &["push", "--mirror", mirror_url])
        .failure()
        .stderr_has("remote: hybrid:");
    assert_ne!(mirror_main(), main);
    // The recipe.
    in_dir(
        &repo,
        &primary,
        &[
            "fetch",
            "-q",
            mirror_url,
            "+refs/hybrid/records:refs/hybrid/remotes/mirror/records",
        ],
    )
    .success();
    in_dir(&repo, &primary, &["hybrid", "sync", "--quiet"]).success();
    in_dir(
        &repo,
        &primary,
        &["update-ref", "-d", "refs/hybrid/remotes/mirror/records"],
    )
    .success();
    in_dir(&repo, &primary, &["push", "-q", "--mirror", mirror_url]).success();
    assert_eq!(mirror_main(), main);
    let files = in_dir(
        &repo,
        &mirror,
        &["ls-tree", "-r", "--name-only", "refs/hybrid/records"],
    )
    .stdout();
    let generations = files
        .lines()
        .filter(|l| l.starts_with("generations/"))
        .count();
    assert_eq!(
        generations, 3,
        "port, the teammate's and the author's: {files}"
    );
}
