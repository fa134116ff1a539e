//! The records push inside `pre-push` authenticates as git's own push does: over smart HTTP
//! with basic authentication (`git http-backend` behind a small server), a credential helper
//! serves both pushes; when the records push cannot authenticate, the push says so once, with
//! the fix, instead of failing the same way on every push.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::records::bare_repository;
use crate::support::TestRepo;

/// `tests/integration/support/http_git.py`, stopped when dropped.
struct HttpGit {
    child: Child,
    url: String,
}

impl Drop for HttpGit {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http_git(root: &Path, repository: &str) -> HttpGit {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/support/http_git.py");
    let mut child = Command::new("python3")
        .arg(script)
        .arg(root)
        .args(["alice", "s3cret"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs the HTTP git server");
    let mut port = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut port)
        .unwrap();
    HttpGit {
        child,
        url: format!("http://127.0.0.1:{}/{repository}", port.trim()),
    }
}

#[test]
fn the_records_push_authenticates_as_gits_own_push_does() {
    let repo = TestRepo::with_generation();
    let remote = bare_repository(&repo, "remote.git");
    let server = http_git(remote.parent().unwrap(), "remote.git");
    repo.git(&["remote", "add", "origin", &server.url]);
    // A credential helper answers for git's own push and for the records push inside it.
    repo.git(&[
        "config",
        "credential.helper",
        "!f() { echo username=alice; echo password=s3cret; }; f",
    ]);
    repo.git(&["push", "-q", "origin", "main", "hybrid/port"]);
    assert!(crate::server::remote_has(&repo, "refs/hybrid/records"));

    // New records to send, and credentials only git's own push gets: an askpass that answers
    // right once (a password typed once at a prompt).
    repo.git(&["config", "--unset", "credential.helper"]);
    repo.git(&["checkout", "-q", "-b", "hybrid/two"]);
    repo.write(
        "src/two.rs",
        "pub fn second_output(v: u32) -> u32 { v.rotate_left(5) ^ 9 }\n",
    );
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "two"]);
    repo.hybrid(&["adopt", "hybrid/two"]).success();
    repo.git(&["checkout", "-q", "main"]);
    let askpass = repo.home().join("askpass");
    let once = repo.home().join("asked");
    std::fs::write(
        &askpass,
        format!(
            "#!/bin/sh\ncase \"$1\" in\nUsername*) echo alice ;;\n*) if [ -e '{0}' ]; then echo wrong; else touch '{0}'; echo s3cret; fi ;;\nesac\n",
            once.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &askpass,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    repo.write("NOTES.md", "a human note\n");
    repo.git(&["add", "NOTES.md"]);
    repo.git(&["commit", "-q", "-m", "notes"]);
    let mut push = repo.command("git");
    push.args(["push", "origin", "main"])
        .env("GIT_ASKPASS", &askpass)
        .env("GIT_TERMINAL_PROMPT", "0");
    repo.run(push)
        .failure()
        .stderr_has("it asked for credentials this push could not give")
        .stderr_has("credential.helper");
}

/// Records come with `git fetch` from every remote, not only origin: a generation recorded by
/// a teammate who pushes to another remote is known here after a fetch from it.
#[test]
fn records_are_fetched_from_every_remote() {
    let repo = TestRepo::with_generation();
    let origin = bare_repository(&repo, "origin.git");
    let backup = bare_repository(&repo, "backup.git");
    repo.git(&["remote", "add", "origin", origin.to_str().unwrap()]);
    repo.git(&["remote", "add", "backup", backup.to_str().unwrap()]);
    // The records reach backup only.
    repo.git(&["push", "-q", "backup", "main", "hybrid/port"]);
    repo.git(&["push", "-q", "origin", "main"]);
    let clone = repo.home().join("teammate");
    repo.git(&[
        "clone",
        "-q",
        origin.to_str().unwrap(),
        clone.to_str().unwrap(),
    ]);
    crate::records::in_dir(
        &repo,
        &clone,
        &["remote", "add", "backup", backup.to_str().unwrap()],
    )
    .success();
    crate::records::in_dir(&repo, &clone, &["hybrid", "install"]).success();
    for remote in ["origin", "backup"] {
        let specs = crate::records::in_dir(
            &repo,
            &clone,
            &["config", "--get-all", &format!("remote.{remote}.fetch")],
        )
        .stdout();
        assert!(specs.contains("refs/hybrid/records*"), "{remote}: {specs}");
    }
    // The teammate's clone knows the generation: merging it into main is blocked there.
    crate::records::in_dir(&repo, &clone, &["fetch", "-q", "backup"]).success();
    crate::records::in_dir(&repo, &clone, &["merge", "--ff-only", "backup/hybrid/port"])
        .failure()
        .stderr_has("src/port.rs");
}
