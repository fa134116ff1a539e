//! Git LFS: output in an LFS-tracked file is checked as its content (read from the local object
//! store), not as the three-line pointer git stores; the pointer's boilerplate never marks a
//! person's own LFS file as output; and a review approves LFS content only when the object's
//! content was what it sent. With the real `git lfs` when it is installed, else with pointers
//! and objects written exactly as its clean filter writes them.

use sha2::{Digest, Sha256};

use crate::support::TestRepo;
use crate::support::anthropic::{FakeAnthropic, Reply};

/// Whether the real git-lfs runs here (`GIT_HYBRID_TEST_NO_LFS=1` tests the other path).
fn has_git_lfs(repo: &TestRepo) -> bool {
    std::env::var_os("GIT_HYBRID_TEST_NO_LFS").is_none()
        && repo.try_git(&["lfs", "version"]).code() == Some(0)
}

/// Makes `*.dat` LFS-tracked on main, as a person sets a repository up: with git-lfs's own
/// hooks and `.gitattributes` when git-lfs is installed.
fn track_lfs(repo: &TestRepo) {
    if has_git_lfs(repo) {
        // git-lfs refuses to replace a hook it did not write; forced, it replaces the gate's
        // pre-push, and installing the gate again chains git-lfs's behind it.
        repo.git(&["lfs", "install", "--local", "--force"]);
        repo.hybrid(&["install"]).success();
        let chained =
            std::fs::read_to_string(repo.dir.join(".git/hooks/pre-push.hybrid-chained")).unwrap();
        assert!(chained.contains("git lfs pre-push"), "{chained}");
        repo.git(&["lfs", "track", "*.dat"]);
    } else {
        repo.write(
            ".gitattributes",
            "*.dat filter=lfs diff=lfs merge=lfs -text\n",
        );
    }
    repo.git(&["add", ".gitattributes"]);
    repo.git(&["commit", "-q", "-m", "track *.dat with Git LFS"]);
}

/// Stages `content` at `path` as an LFS file: through git-lfs's clean filter, or as the pointer
/// and object it would write.
fn add_lfs_file(repo: &TestRepo, path: &str, content: &str) {
    if has_git_lfs(repo) {
        repo.write(path, content);
        repo.git(&["add", path]);
        return;
    }
    let oid = crate::support::hex(&Sha256::digest(content.as_bytes()));
    let object = repo
        .dir
        .join(".git/lfs/objects")
        .join(&oid[..2])
        .join(&oid[2..4]);
    std::fs::create_dir_all(&object).unwrap();
    std::fs::write(object.join(&oid), content).unwrap();
    repo.write(
        path,
        format!(
            "version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {}\n",
            content.len()
        ),
    );
    repo.git(&["add", path]);
}

const OUTPUT: &str = "\
def handle(request):
    token = request.headers.get(\"Authorization\", \"\")
    return dispatch_without_checking(token, request.body)
";

fn lfs_generation(repo: &TestRepo) {
    track_lfs(repo);
    repo.git(&["checkout", "-q", "-b", "hybrid/lfs"]);
    add_lfs_file(repo, "data/handler.dat", OUTPUT);
    repo.git(&["commit", "-q", "-m", "handler (generated)"]);
    repo.hybrid(&["adopt", "hybrid/lfs", "--model", "qwen"])
        .success()
        .stderr_has("4 of its lines are also recognised");
    repo.git(&["checkout", "-q", "main"]);
}

fn object_path(repo: &TestRepo) -> std::path::PathBuf {
    let oid = crate::support::hex(&Sha256::digest(OUTPUT.as_bytes()));
    repo.dir
        .join(".git/lfs/objects")
        .join(&oid[..2])
        .join(&oid[2..4])
        .join(oid)
}

#[test]
fn output_in_an_lfs_file_is_checked_as_its_content() {
    let repo = TestRepo::new();
    lfs_generation(&repo);
    let main = repo.rev("main");
    repo.try_git(&["merge", "--ff-only", "hybrid/lfs"])
        .blocked_by("hybrid/lfs")
        .stderr_has("data/handler.dat");
    assert_eq!(repo.rev("main"), main);
    repo.git(&["reset", "-q", "--hard"]);
    // Pasted out of the LFS file into ordinary code, it is still found.
    repo.write("src/handler.py", OUTPUT);
    repo.git(&["add", "src/handler.py"]);
    repo.try_git(&["commit", "-q", "-m", "pasted"])
        .blocked_by("hybrid/lfs");
    repo.git(&["reset", "-q", "--hard"]);
    // A person's own LFS file is not output: the pointer's boilerplate means nothing.
    add_lfs_file(
        &repo,
        "data/notes.dat",
        "meeting notes, written by a person\n",
    );
    repo.git(&["commit", "-q", "-m", "notes"]);
    // A server holds no LFS objects: it knows the output by the pointer's oid line.
    let _remote = crate::server::server(&repo);
    // (Pushed with hooks off, so git-lfs's own pre-push does not look for an LFS server; the
    // records go as the gate's pre-push would send them.)
    repo.git(&["push", "-q", "--no-verify", "origin", "refs/hybrid/records"]);
    repo.git(&["push", "-q", "--no-verify", "origin", "main", "hybrid/lfs"]);
    repo.try_git(&[
        "push",
        "--no-verify",
        "origin",
        "hybrid/lfs:refs/heads/release",
    ])
    .failure()
    .stderr_has("remote: hybrid: this server's gate refused the push")
    .stderr_has("data/handler.dat");
    // The review sends the object's content, and its approval opens the gate, here and there.
    let api = FakeAnthropic::start(vec![Reply::Approve]);
    repo.review(&api, &["hybrid/lfs"]).success();
    let body = api.answered()[0].body.clone();
    assert!(body.contains("dispatch_without_checking"), "{body}");
    assert!(body.contains("a Git LFS file"), "{body}");
    repo.git(&["merge", "-q", "--no-edit", "hybrid/lfs"]);
    repo.git(&["push", "-q", "--no-verify", "origin", "main"]);
}

/// Without the object, the review cannot show the content: it approves nothing of it, says so,
/// and the block says how to get past.
#[test]
fn an_lfs_file_whose_object_is_missing_is_never_approved_as_its_pointer() {
    let repo = TestRepo::new();
    lfs_generation(&repo);
    std::fs::remove_file(object_path(&repo)).unwrap();
    let api = FakeAnthropic::start(vec![Reply::Approve]);
    repo.review(&api, &["hybrid/lfs"])
        .failure()
        .stdout_has("approved what was sent");
    let body = api.answered()[0].body.clone();
    assert!(body.contains("content not shown"), "{body}");
    assert!(!body.contains("oid sha256:"), "{body}");
    // (A checkout of the branch would fail in git-lfs's smudge filter first; verify judges the
    // same range without one.)
    repo.hybrid(&["verify", "main..hybrid/lfs"])
        .failure()
        .stdout_has("data/handler.dat")
        .stdout_has("git lfs fetch");
}
