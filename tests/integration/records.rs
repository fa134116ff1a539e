//! Records that travel with the repository: every generation and verdict is also a file on
//! `refs/hybrid/records`, carrying fingerprints and never code; a lost store comes back whole
//! from it (`git hybrid sync`), a clone that fetches it knows what the gate knows, records from
//! two clones merge as a union, and a record edited after the fact is refused.

use crate::support::anthropic::{FakeAnthropic, Reply};
use crate::support::{Run, TestRepo};

pub(crate) fn records_files(repo: &TestRepo) -> Vec<String> {
    repo.git(&["ls-tree", "-r", "--name-only", "refs/hybrid/records"])
        .lines()
        .map(str::to_string)
        .collect()
}

fn verify(repo: &TestRepo, dir: &std::path::Path, range: &str) -> Run {
    let mut cmd = repo.command_in("git", dir);
    cmd.args(["hybrid", "verify", range]);
    repo.run(cmd)
}

/// A bare remote `origin` for `repo` (main as its default branch).
pub(crate) fn with_remote(repo: &TestRepo) -> std::path::PathBuf {
    let remote = bare_repository(repo, "remote.git");
    repo.git(&["remote", "add", "origin", remote.to_str().unwrap()]);
    remote
}

/// An empty bare repository `name` in the test's home (main as its default branch).
pub(crate) fn bare_repository(repo: &TestRepo, name: &str) -> std::path::PathBuf {
    let path = repo.home().join(name);
    std::fs::create_dir_all(repo.home()).unwrap();
    repo.git(&["init", "-q", "--bare", "-b", "main", path.to_str().unwrap()]);
    path
}

/// A teammate's clone of `remote`.
pub(crate) fn teammate(repo: &TestRepo, remote: &std::path::Path) -> std::path::PathBuf {
    let clone = repo.home().join("clone");
    repo.git(&[
        "clone",
        "-q",
        remote.to_str().unwrap(),
        clone.to_str().unwrap(),
    ]);
    clone
}

/// The author pushes main and `hybrid/port` (with its records) to a bare `origin`; a teammate
/// clones it, installs the gate and fetches.
fn teammate_with_the_gate(repo: &TestRepo) -> std::path::PathBuf {
    let remote = with_remote(repo);
    repo.git(&["push", "-q", "origin", "main", "hybrid/port"]);
    let clone = teammate(repo, &remote);
    in_dir(repo, &clone, &["hybrid", "install"]).success();
    in_dir(repo, &clone, &["fetch", "-q"]).success();
    clone
}

pub(crate) fn in_dir(repo: &TestRepo, dir: &std::path::Path, args: &[&str]) -> Run {
    let mut cmd = repo.command_in("git", dir);
    cmd.args(args);
    repo.run(cmd)
}

/// The teammate's own local output, adopted on `hybrid/other`.
fn adopt_other(repo: &TestRepo, clone: &std::path::Path) {
    in_dir(repo, clone, &["checkout", "-q", "-b", "hybrid/other"]).success();
    std::fs::write(clone.join("other.rs"), "pub fn other() -> u8 {\n    7\n}\n").unwrap();
    in_dir(repo, clone, &["add", "other.rs"]).success();
    in_dir(repo, clone, &["commit", "-q", "-m", "other"]).success();
    in_dir(repo, clone, &["hybrid", "adopt", "hybrid/other"]).success();
}

/// Asserts how many generation and verdict files a records tree listing holds.
fn assert_counts(files: &str, generations: usize, verdicts: usize) {
    let count = |prefix: &str| files.lines().filter(|l| l.starts_with(prefix)).count();
    assert_eq!(
        (count("generations/"), count("verdicts/")),
        (generations, verdicts),
        "{files}"
    );
}

#[test]
fn a_lost_store_comes_back_from_the_records_ref() {
    let repo = TestRepo::with_generation();
    let files = records_files(&repo);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].starts_with("generations/g-"), "{files:?}");
    let text = repo.git(&["show", &format!("refs/hybrid/records:{}", files[0])]);
    // Fingerprints, paths and lines; never the code.
    assert!(
        text.contains("\"src/port.rs\"") && !text.contains("trimmed"),
        "{text}"
    );
    let api = FakeAnthropic::start(vec![Reply::Approve]);
    repo.review(&api, &["hybrid/port"]).success();
    let files = records_files(&repo);
    assert_eq!(files.len(), 2, "{files:?}");
    let verdict = files.iter().find(|f| f.starts_with("verdicts/")).unwrap();
    let verdict: serde_json::Value =
        serde_json::from_str(&repo.git(&["show", &format!("refs/hybrid/records:{verdict}")]))
            .unwrap();
    assert_eq!(verdict["decision"], "approve");
    assert_eq!(verdict["approved"], verdict["seen"]);
    // The reviewer's prose may quote output never pushed: it stays in this clone.
    assert_eq!(verdict["summary"], "");
    assert!(
        verdict["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["message"] == "" && f["suggestion"] == ""),
        "{verdict}"
    );
    assert!(!verdict["approved"].as_array().unwrap().is_empty());

    // The store is lost: everything is refused until it is back.
    std::fs::remove_dir_all(repo.dir.join(".git/hybrid")).unwrap();
    repo.try_git(&["merge", "--ff-only", "hybrid/port"])
        .failure()
        .stderr_has("git hybrid");
    repo.git(&["reset", "-q", "--hard", "main"]);
    let run = repo.hybrid(&["sync", "--json"]);
    run.success();
    let synced: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(
        (
            synced["imported_generations"].as_u64(),
            synced["imported_verdicts"].as_u64()
        ),
        (Some(1), Some(1))
    );
    // Nothing to do the second time.
    repo.hybrid(&["sync"])
        .success()
        .stdout_has("imported 0 generation(s) and 0 verdict(s)");
    // The approval is back: the reviewed change merges.
    repo.git(&["merge", "-q", "--ff-only", "hybrid/port"]);
}

#[test]
fn a_clone_that_fetches_the_records_knows_what_the_gate_knows() {
    let repo = TestRepo::with_generation();
    let remote = with_remote(&repo);
    repo.git(&[
        "push",
        "-q",
        "origin",
        "main",
        "hybrid/port",
        "refs/hybrid/records",
    ]);
    let clone = teammate(&repo, &remote);
    let in_clone = |args: &[&str]| in_dir(&repo, &clone, args);
    // `install` adds the refspec: a plain fetch brings the records.
    in_clone(&["hybrid", "install"])
        .success()
        .stderr_has("`git fetch origin` now brings its records too");
    // The fetch itself takes them in (the reference-transaction hook runs sync).
    in_clone(&["fetch", "-q"]).success();
    in_clone(&["hybrid", "sync"])
        .success()
        .stdout_has("imported 0 generation(s)");
    verify(&repo, &clone, "main..origin/hybrid/port")
        .failure()
        .stdout_has("src/port.rs");

    // The author reviews; the approval travels the same way.
    let api = FakeAnthropic::start(vec![Reply::Approve]);
    repo.review(&api, &["hybrid/port"]).success();
    repo.git(&["push", "-q", "origin", "refs/hybrid/records"]);
    // Meanwhile the clone recorded local output of its own: the two merge as a union.
    adopt_other(&repo, &clone);
    // The fetch took the approval in, and merged the two clones' records.
    in_clone(&["fetch", "-q"]).success();
    in_clone(&["hybrid", "sync"])
        .success()
        .stdout_has("imported 0 generation(s) and 0 verdict(s); merged 0");
    verify(&repo, &clone, "main..origin/hybrid/port").success();
    let mut cmd = repo.command_in("git", &clone);
    cmd.args(["ls-tree", "-r", "--name-only", "refs/hybrid/records"]);
    let files = repo.run(cmd).stdout();
    assert_counts(&files, 2, 1);
}

#[test]
fn a_record_edited_after_the_fact_is_refused() {
    let repo = TestRepo::with_generation();
    let api = FakeAnthropic::start(vec![Reply::RequestChanges]);
    repo.review(&api, &["hybrid/port"]).failure();
    let verdict = records_files(&repo)
        .into_iter()
        .find(|f| f.starts_with("verdicts/"))
        .unwrap();
    // Turn the request for changes into an approval, keeping the file's name.
    let text = repo.git(&["show", &format!("refs/hybrid/records:{verdict}")]);
    let forged = text.replace("\"request_changes\"", "\"approve\"");
    std::fs::remove_dir_all(repo.dir.join(".git/hybrid")).unwrap();
    let commit = forge_records(&repo, |with_index| {
        add_file(&repo, with_index, &verdict, &forged)
    });
    repo.git(&["update-ref", "refs/hybrid/records", &commit]);
    repo.hybrid(&["sync"])
        .failure()
        .stderr_has("its name is not the digest of its content");
    repo.try_git(&["merge", "--ff-only", "hybrid/port"])
        .failure();
}

/// A commit on `refs/hybrid/records` in `repo` whose tree is the current one changed by
/// `edit(index file)`; returns its id.
pub(crate) fn forge_records(
    repo: &TestRepo,
    edit: impl FnOnce(&dyn Fn(&[&str]) -> String),
) -> String {
    let index = repo.dir.join(".git/forge-index");
    let _ = std::fs::remove_file(&index);
    let with_index = |args: &[&str]| {
        let mut cmd = repo.command("git");
        cmd.args(args).env("GIT_INDEX_FILE", &index);
        repo.run(cmd).success().stdout()
    };
    with_index(&["read-tree", "refs/hybrid/records"]);
    edit(&with_index);
    let tree = with_index(&["write-tree"]);
    repo.git(&[
        "commit-tree",
        tree.trim(),
        "-p",
        "refs/hybrid/records",
        "-m",
        "forged",
    ])
    .trim()
    .to_string()
}

pub(crate) fn add_file(
    repo: &TestRepo,
    with_index: &dyn Fn(&[&str]) -> String,
    path: &str,
    text: &str,
) {
    repo.write("forged.tmp", text);
    let blob = repo.git(&["hash-object", "-w", "forged.tmp"]);
    with_index(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("100644,{},{path}", blob.trim()),
    ]);
}

/// A push sends the records first (as git-lfs sends its objects), merging the remote's when
/// they moved on; `--dry-run` sends nothing.
#[test]
fn a_push_sends_the_records_first() {
    let repo = TestRepo::with_generation();
    let remote = with_remote(&repo);
    let remote_records = || {
        let mut cmd = repo.command("git");
        cmd.args(["ls-remote", "origin", "refs/hybrid/records"]);
        repo.run(cmd).stdout()
    };
    // A dry run sends nothing.
    repo.try_git(&["push", "--dry-run", "origin", "main"])
        .success()
        .stderr_has("--dry-run: the records are not pushed either");
    assert_eq!(remote_records(), "");
    // Spelled as a cluster of short options too.
    repo.try_git(&["push", "-qn", "origin", "main"])
        .success()
        .stderr_has("--dry-run: the records are not pushed either");
    assert_eq!(remote_records(), "");
    repo.git(&["push", "-q", "origin", "main", "hybrid/port"]);
    assert_eq!(
        remote_records().split_whitespace().next(),
        Some(repo.rev("refs/hybrid/records").as_str())
    );
    // A teammate pushes records of their own; ours then merge with theirs on the next push.
    let clone = teammate(&repo, &remote);
    let in_clone = |args: &[&str]| in_dir(&repo, &clone, args);
    in_clone(&["hybrid", "install"]).success();
    adopt_other(&repo, &clone);
    in_clone(&["push", "-q", "origin", "hybrid/other"]).success();
    let api = FakeAnthropic::start(vec![Reply::Approve]);
    repo.review(&api, &["hybrid/port"]).success();
    repo.git(&["merge", "-q", "--ff-only", "hybrid/port"]);
    repo.git(&["push", "-q", "origin", "main"]);
    let mut cmd = repo.command("git");
    cmd.args(["fetch", "-q", "origin", "refs/hybrid/records"]);
    repo.run(cmd).success();
    let files = repo.git(&["ls-tree", "-r", "--name-only", "FETCH_HEAD"]);
    assert_counts(&files, 2, 1);
}

/// Records that cannot reach the remote block a push to a protected branch (the remote would
/// judge it without them) and only warn for a quarantine branch.
#[test]
fn records_that_cannot_be_pushed_block_a_protected_push() {
    let repo = TestRepo::with_generation();
    let remote = with_remote(&repo);
    let hook = remote.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\nwhile read old new ref; do\n  [ \"$ref\" = refs/hybrid/records ] && { echo 'no records here' >&2; exit 1; }\ndone\nexit 0\n",
    )
    .unwrap();
    std::process::Command::new("chmod")
        .args(["+x", hook.to_str().unwrap()])
        .status()
        .unwrap();
    repo.try_git(&["push", "-q", "origin", "hybrid/port"])
        .success()
        .stderr_has("warning: the records (refs/hybrid/records) could not be pushed to origin");
    repo.try_git(&["push", "-q", "origin", "main"])
        .failure()
        .stderr_has("blocked: the records (refs/hybrid/records) could not be pushed to origin")
        .stderr_has("no records here");
}

/// Records are sent as they are made when the remote exists, so the server knows the output
/// even if its author never pushes it through the hooks; offline, they wait for the next push.
#[test]
fn records_are_sent_as_they_are_made_and_wait_when_offline() {
    let repo = TestRepo::new();
    let remote = with_remote(&repo);
    let remote_tip = || {
        repo.git(&["ls-remote", "origin", "refs/hybrid/records"])
            .split_whitespace()
            .next()
            .map(str::to_string)
    };
    let adopt = |branch: &str, file: &str| {
        repo.git(&["checkout", "-q", "-b", branch, "main"]);
        repo.write(
            file,
            "pub fn made_here(x: u64) -> u64 {\n    x.rotate_left(13) ^ 0x5a5a\n}\n",
        );
        repo.git(&["add", "."]);
        repo.git(&["commit", "-q", "-m", "made"]);
        let run = repo.hybrid(&["adopt", branch]);
        repo.git(&["checkout", "-q", "main"]);
        run
    };
    adopt("hybrid/one", "src/one.rs").success();
    assert_eq!(remote_tip(), Some(repo.rev("refs/hybrid/records")));
    // Offline: the command still succeeds, says so, and the next push sends them.
    let away = remote.with_extension("away");
    std::fs::rename(&remote, &away).unwrap();
    adopt("hybrid/two", "src/two.rs")
        .success()
        .stderr_has("the records could not be sent to origin now")
        .stderr_has("the next `git push` sends them");
    std::fs::rename(&away, &remote).unwrap();
    assert_ne!(remote_tip(), Some(repo.rev("refs/hybrid/records")));
    repo.hybrid(&["doctor"]).stdout_has(
        "records: origin may lack some of this clone's records; the next push sends them",
    );
    repo.git(&["push", "-q", "origin", "hybrid/two"]);
    assert_eq!(remote_tip(), Some(repo.rev("refs/hybrid/records")));
    repo.hybrid(&["doctor"])
        .stdout_has("records: origin has this clone's records");
    // Switched off, they wait for the push.
    repo.git(&["config", "hybrid.sendRecords", "false"]);
    adopt("hybrid/three", "src/three.rs").success();
    assert_ne!(remote_tip(), Some(repo.rev("refs/hybrid/records")));
}

/// A teammate's unreviewed quarantine branch is local output in my clone too, and says whose it
/// is; once they review and push, merging it passes, and `show` says who recorded the verdict.
#[test]
fn a_teammates_output_is_gated_in_my_clone_until_their_review_arrives() {
    let repo = TestRepo::with_generation();
    let clone = teammate_with_the_gate(&repo);
    let in_clone = |args: &[&str]| in_dir(&repo, &clone, args);
    in_clone(&["config", "user.email", "bob@example.com"]).success();
    in_clone(&["merge", "--ff-only", "origin/hybrid/port"])
        .failure()
        .stderr_has("hybrid: blocked:")
        .stderr_has("src/port.rs");
    in_clone(&["reset", "-q", "--hard", "origin/main"]).success();
    in_clone(&["hybrid", "pending"])
        .success()
        .stdout_has("hybrid/port")
        .stdout_has("by dev@example.com");
    let api = FakeAnthropic::start(vec![Reply::Approve]);
    repo.review(&api, &["hybrid/port"]).success();
    in_clone(&["fetch", "-q"]).success();
    in_clone(&["merge", "-q", "--ff-only", "origin/hybrid/port"]).success();
    in_clone(&["hybrid", "show", "main~1..main"])
        .success()
        .stdout_has("approve by")
        .stdout_has("recorded by dev@example.com");
}

/// Pulling a teammate's reviewed merge is never blocked, even when my store already knew the
/// generation but not yet its approval: the pull's fetch brings the approval before the merge.
#[test]
fn pulling_a_teammates_reviewed_merge_is_never_blocked() {
    let repo = TestRepo::with_generation();
    let clone = teammate_with_the_gate(&repo);
    let in_clone = |args: &[&str]| in_dir(&repo, &clone, args);
    in_clone(&["hybrid", "pending"])
        .success()
        .stdout_has("hybrid/port");
    // The author reviews, merges with a merge commit, and pushes.
    let api = FakeAnthropic::start(vec![Reply::Approve]);
    repo.review(&api, &["hybrid/port"]).success();
    repo.git(&["merge", "-q", "--no-ff", "-m", "merge port", "hybrid/port"]);
    repo.git(&["push", "-q", "origin", "main"]);
    // The teammate pulls: fetch, then fast-forward of main through the gate.
    in_clone(&["pull", "-q", "--ff-only"]).success();
    assert_eq!(
        in_clone(&["rev-parse", "main"]).stdout().trim(),
        repo.rev("main")
    );
    in_clone(&["hybrid", "pending"])
        .success()
        .stderr_has("no unreviewed local output");
}

/// Day one of a team repository: its remote has no records yet. `git fetch` and `git pull` work
/// in a clone with the gate (the refspec is a pattern that may match nothing), and a clone that
/// still has the exact refspec earlier versions added — whose fetch fails — is told by `doctor`
/// and mended by `install`.
#[test]
fn fetch_and_pull_work_before_the_remote_has_any_record() {
    let repo = TestRepo::new();
    let remote = with_remote(&repo);
    repo.hybrid(&["install"]).success();
    repo.git(&["push", "-q", "origin", "main"]);
    assert!(records_files_on(&repo, &remote).is_empty());
    let clone = teammate(&repo, &remote);
    in_dir(&repo, &clone, &["hybrid", "install"]).success();
    in_dir(&repo, &clone, &["fetch"]).success();
    repo.write("NOTES.md", "a second human commit\n");
    repo.git(&["add", "NOTES.md"]);
    repo.git(&["commit", "-q", "-m", "notes"]);
    repo.git(&["push", "-q", "origin", "main"]);
    in_dir(&repo, &clone, &["pull", "-q", "--ff-only"]).success();
    assert!(clone.join("NOTES.md").is_file());

    // The refspec of earlier versions: the fetch fails while the remote has no records.
    in_dir(
        &repo,
        &clone,
        &[
            "config",
            "--replace-all",
            "remote.origin.fetch",
            "+refs/hybrid/records:refs/hybrid/remotes/origin/records",
            "^\\+refs/hybrid/records",
        ],
    )
    .success();
    in_dir(&repo, &clone, &["fetch", "-q"])
        .failure()
        .stderr_has("refs/hybrid/records");
    in_dir(&repo, &clone, &["hybrid", "doctor"])
        .failure()
        .stdout_has("git hybrid install");
    in_dir(&repo, &clone, &["hybrid", "install"]).success();
    in_dir(&repo, &clone, &["fetch", "-q"]).success();
    let specs = in_dir(
        &repo,
        &clone,
        &["config", "--get-all", "remote.origin.fetch"],
    );
    let specs = specs.stdout();
    let records: Vec<&str> = specs.lines().filter(|l| l.contains("hybrid")).collect();
    assert_eq!(
        records,
        ["+refs/hybrid/records*:refs/hybrid/remotes/origin/records*"]
    );

    // Once there are records, the same refspec brings them.
    repo.git(&["checkout", "-q", "-b", "hybrid/port"]);
    repo.write("src/port.rs", crate::support::GENERATED);
    repo.git(&["add", "src/port.rs"]);
    repo.git(&["commit", "-q", "-m", "generated"]);
    repo.hybrid(&["adopt", "hybrid/port"]).success();
    repo.git(&["push", "-q", "origin", "hybrid/port"]);
    in_dir(&repo, &clone, &["fetch", "-q"]).success();
    in_dir(&repo, &clone, &["merge", "-q", "origin/hybrid/port"])
        .failure()
        .stderr_has("src/port.rs");
}

/// The record files on a bare repository's records ref (none when it has no such ref).
fn records_files_on(repo: &TestRepo, remote: &std::path::Path) -> Vec<String> {
    let run = in_dir(
        repo,
        remote,
        &["ls-tree", "-r", "--name-only", "refs/hybrid/records"],
    );
    run.stdout().lines().map(str::to_string).collect()
}

/// `install` in a fresh clone fetches the remote's records at once: the gate knows a teammate's
/// output before the clone's first `git fetch`.
#[test]
fn install_in_a_fresh_clone_knows_the_remotes_records_at_once() {
    let repo = TestRepo::with_generation();
    let remote = with_remote(&repo);
    repo.git(&["push", "-q", "origin", "main", "hybrid/port"]);
    let clone = teammate(&repo, &remote);
    in_dir(&repo, &clone, &["hybrid", "install"]).success();
    in_dir(
        &repo,
        &clone,
        &["merge", "-q", "--ff-only", "origin/hybrid/port"],
    )
    .failure()
    .stderr_has("src/port.rs");
}

/// On a forge (no server hook) the records ref can be force-pushed without a record. A clone
/// that read the old tip notices the loss when it next reads the ref, and refuses to judge by
/// less — naming what was lost and how to put it back — instead of quietly forgetting.
#[test]
fn a_records_ref_rewritten_to_lose_a_record_is_refused_by_a_clone_that_read_it() {
    let repo = TestRepo::with_generation();
    let clone = teammate_with_the_gate(&repo);
    // The clone has read the records: a commit on main takes them in.
    std::fs::write(clone.join("HUMAN.md"), "a human line\n").unwrap();
    in_dir(&repo, &clone, &["add", "HUMAN.md"]).success();
    in_dir(&repo, &clone, &["commit", "-q", "-m", "human"]).success();
    // Someone force-pushes records without the generation (an empty tree, a new root).
    let tree = repo
        .git(&["hash-object", "-t", "tree", "/dev/null"])
        .trim()
        .to_string();
    let root = repo
        .git(&["commit-tree", &tree, "-m", "records, rewritten"])
        .trim()
        .to_string();
    repo.git(&[
        "push",
        "-q",
        "--force",
        "--no-verify",
        "origin",
        &format!("{root}:refs/hybrid/records"),
    ]);
    in_dir(&repo, &clone, &["fetch", "-q"]).success();
    std::fs::write(clone.join("HUMAN.md"), "a human line\nand another\n").unwrap();
    in_dir(&repo, &clone, &["commit", "-q", "-am", "human again"])
        .failure()
        .stderr_has("refs/hybrid/remotes/origin/records was rewritten: 1 record file(s)")
        .stderr_has("git push --force origin");
    in_dir(&repo, &clone, &["hybrid", "verify", "HEAD~1..HEAD"])
        .failure()
        .stderr_has("was rewritten");
}
