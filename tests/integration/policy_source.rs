//! Where the policy is read from is never chosen by state the policy does not control: on a
//! server, from the branch `HEAD` names (a pushed `main` does not become the source); in CI, from
//! the range's base (`verify --policy-ref` to name another), failing when there is none; in a
//! clone, a source other than origin's default branch is announced.

use crate::records::{bare_repository, in_dir};
use crate::server::{generation, require_alice, server};
use crate::support::TestRepo;
use crate::support::anthropic::{FakeAnthropic, Reply};

#[test]
fn a_server_reads_its_policy_from_the_branch_head_names() {
    let repo = TestRepo::with_generation();
    let human = repo.rev("main");
    let remote = server(&repo);
    in_dir(
        &repo,
        &remote,
        &["symbolic-ref", "HEAD", "refs/heads/trunk"],
    )
    .success();
    let _ = require_alice(&repo);
    repo.git(&["push", "-q", "origin", "main:refs/heads/trunk"]);
    repo.git(&["config", "user.email", "alice@example.com"]);
    generation(&repo, "unsigned");
    let api = FakeAnthropic::start(vec![Reply::Approve]);
    repo.review(&api, &["hybrid/unsigned"]).success();
    // Approved here, unsigned: trunk's [trust] counts it as absent.
    repo.try_git(&["push", "origin", "hybrid/unsigned:refs/heads/unsigned"])
        .failure()
        .stderr_has("remote: hybrid: this server's gate refused the push")
        .stderr_has("src/unsigned.rs");
    // A pushed main without [trust] does not become the policy's source.
    repo.git(&[
        "push",
        "-q",
        "--no-verify",
        "origin",
        &format!("{human}:refs/heads/main"),
    ]);
    repo.try_git(&["push", "origin", "hybrid/unsigned:refs/heads/unsigned"])
        .failure()
        .stderr_has("src/unsigned.rs");
}

#[test]
fn ci_reads_the_policy_from_the_ranges_base_in_a_pull_request_checkout() {
    let repo = TestRepo::with_generation();
    let remote = bare_repository(&repo, "remote.git");
    repo.git(&["remote", "add", "origin", remote.to_str().unwrap()]);
    let _ = require_alice(&repo);
    repo.git(&["config", "user.email", "alice@example.com"]);
    generation(&repo, "unsigned");
    let api = FakeAnthropic::start(vec![Reply::Approve]);
    repo.review(&api, &["hybrid/unsigned"]).success();
    repo.git(&["push", "-q", "origin", "main", "hybrid/unsigned"]);
    let (base, head) = (repo.rev("main"), repo.rev("hybrid/unsigned"));
    // As a pull-request job checks out: no local branches, no origin/HEAD, a detached head.
    let ci = repo.home().join("ci");
    repo.git(&["init", "-q", ci.to_str().unwrap()]);
    let url = remote.to_str().unwrap();
    in_dir(&repo, &ci, &["remote", "add", "origin", url]).success();
    in_dir(
        &repo,
        &ci,
        &[
            "fetch",
            "-q",
            "origin",
            "+refs/heads/*:refs/remotes/origin/*",
            "+refs/hybrid/records*:refs/hybrid/remotes/origin/records*",
        ],
    )
    .success();
    in_dir(&repo, &ci, &["checkout", "-q", "--detach", &head]).success();
    let verify = |args: &[&str]| {
        let mut all = vec!["hybrid", "verify"];
        all.extend_from_slice(args);
        in_dir(&repo, &ci, &all)
    };
    let range = format!("{base}..{head}");
    verify(&[&range])
        .failure()
        .stdout_has("src/unsigned.rs")
        .stderr_has(&format!("{base}:.hybrid/allowed_signers"));
    // Another source, named: a commit without the requirement judges by the defaults knowingly.
    verify(&["--policy-ref", &repo.rev("main~1"), &range]).success();
    verify(&["--policy-ref", "no-such-ref", &range]).failure();
    // A root commit has no base: the default branch is read, when the clone has one; without
    // one it is said, never the defaults.
    let root = repo.rev("main~1");
    verify(&[&root])
        .failure()
        .stderr_has("has no base to read the policy from")
        .stderr_has("--policy-ref");
}

#[test]
fn a_clone_announces_a_policy_source_other_than_origins_default_branch() {
    let repo = TestRepo::new();
    let remote = bare_repository(&repo, "remote.git");
    repo.git(&["remote", "add", "origin", remote.to_str().unwrap()]);
    repo.git(&["push", "-q", "origin", "main"]);
    repo.git(&["remote", "set-head", "origin", "main"]);
    repo.git(&["branch", "other"]);
    repo.write("NOTES.md", "human\n");
    repo.git(&["add", "NOTES.md"]);
    repo.try_git(&["commit", "-q", "-m", "notes"])
        .success()
        .stderr_lacks("the policy is read from");
    repo.git(&["config", "hybrid.defaultBranch", "other"]);
    repo.write("NOTES.md", "human, again\n");
    repo.git(&["add", "NOTES.md"]);
    repo.try_git(&["commit", "-q", "-m", "notes again"])
        .success()
        .stderr_has("the policy is read from refs/heads/other")
        .stderr_has("not from origin's default branch refs/heads/main");
    repo.hybrid(&["doctor"])
        .stdout_has("the policy is read from refs/heads/other");
}
