//! What a new protected ref is judged against: the tree its destination's default branch
//! already shows, never the history it shares with it. After `git merge -s ours hybrid/x`,
//! main's tree is human while its history holds the output; a tag or branch made from that
//! history brings the output to a protected name as new — refused locally, on the server and
//! named by `doctor`. A branch copy (`git branch -C`, which runs no hook) cannot be pushed,
//! to a remote that has the branch or to a new one.

use crate::records::{bare_repository, in_dir, with_remote};
use crate::server::{refused_by_server, server};
use crate::support::TestRepo;

#[test]
fn refs_made_from_history_main_kept_but_does_not_show_are_judged_as_new() {
    let repo = TestRepo::with_generation();
    // main's tree stays human; its history now holds the output.
    repo.git(&["merge", "-q", "-s", "ours", "--no-edit", "hybrid/port"]);
    assert!(!repo.dir.join("src/port.rs").exists());
    repo.try_git(&["tag", "v2", "hybrid/port"])
        .blocked()
        .stderr_has("src/port.rs");
    repo.try_git(&["branch", "release/2", "hybrid/port"])
        .blocked()
        .stderr_has("src/port.rs");
    repo.try_git(&["update-ref", "refs/tags/v2", "hybrid/port"])
        .blocked();
    // Human refs are as free as before: a tag of main, a branch of a human commit.
    repo.git(&["tag", "v1"]);
    repo.git(&["branch", "release/1", "main~1"]);

    // A ref written by hand (no hook runs): doctor names it, with how to undo it.
    std::fs::write(
        repo.dir.join(".git/refs/tags/v2"),
        format!("{}\n", repo.rev("hybrid/port")),
    )
    .unwrap();
    repo.hybrid(&["doctor"])
        .failure()
        .stdout_has("refs/tags/v2 holds")
        .stdout_has("git tag -d v2");

    // The server judges the same way: its own main shows no output.
    let remote = server(&repo);
    repo.git(&["push", "-q", "origin", "main", "hybrid/port"]);
    refused_by_server(&repo.try_git(&["push", "--no-verify", "origin", "v2"]));
    refused_by_server(&repo.try_git(&[
        "push",
        "--no-verify",
        "origin",
        "hybrid/port:refs/heads/release/2",
    ]));
    // ...and takes human work as before.
    repo.git(&["push", "-q", "origin", "v1", "release/1"]);
    let _ = remote;
}

#[test]
fn a_tag_at_a_model_commit_main_shows_only_rewritten_is_judged_as_new() {
    let repo = TestRepo::with_generation();
    let model_commit = repo.rev("hybrid/port");
    // A human rewrites every line of the output, and that is what main takes.
    repo.git(&["checkout", "-q", "-b", "hybrid/rewritten", "hybrid/port"]);
    repo.write(
        "src/port.rs",
        "// rewritten by hand\npub fn parse_port(text: &str) -> Option<u16> { text.trim().parse().ok() }\n",
    );
    repo.git(&["commit", "-q", "-am", "a human rewrote every line"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["merge", "-q", "--ff-only", "hybrid/rewritten"]);
    // main's history holds the model's commit; a tag there shows the output.
    repo.try_git(&["tag", "v3", &model_commit])
        .blocked()
        .stderr_has("src/port.rs");
    repo.git(&["tag", "v3"]);
}

#[test]
fn a_branch_copy_onto_main_cannot_be_pushed_anywhere() {
    let repo = TestRepo::with_generation();
    let origin = with_remote(&repo);
    repo.git(&["push", "-q", "origin", "main"]);
    // git runs no hook for a copy.
    repo.git(&["switch", "-q", "--detach"]);
    repo.git(&["branch", "-C", "hybrid/port", "main"]);
    repo.try_git(&["push", "origin", "main"])
        .blocked()
        .stderr_has("src/port.rs");
    // A remote that has no main yet: judged as the whole tree, not against this clone's main.
    let other = bare_repository(&repo, "other.git");
    repo.git(&["remote", "add", "other", other.to_str().unwrap()]);
    repo.try_git(&["push", "other", "main"])
        .blocked()
        .stderr_has("src/port.rs");
    repo.try_git(&["push", other.to_str().unwrap(), "main"])
        .blocked()
        .stderr_has("src/port.rs");
    // Human work goes to a new remote as ever.
    let human = bare_repository(&repo, "human.git");
    in_dir(
        &repo,
        &repo.dir,
        &[
            "push",
            "-q",
            human.to_str().unwrap(),
            "main~1:refs/heads/main",
        ],
    )
    .success();
    let _ = origin;
}
