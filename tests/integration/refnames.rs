//! Ref names on storage that ignores case: on macOS, Windows or SMB storage `refs/TAGS/v2` is
//! `refs/tags/v2`. Where the repository says `core.ignorecase`, and always on a server, a name
//! that is protected only when case is ignored is refused outright; the ref's own spelling is
//! judged as ever.

use crate::records::in_dir;
use crate::server::server;
use crate::support::TestRepo;

#[test]
fn other_spellings_of_protected_refs_are_refused_by_the_server() {
    let repo = TestRepo::with_generation();
    repo.write(
        ".hybrid.toml",
        "[gate]\nprotected = [\"refs/heads/main\", \"refs/tags/*\"]\n",
    );
    repo.git(&["add", ".hybrid.toml"]);
    repo.git(&["commit", "-q", "-m", "policy: only main and tags"]);
    let remote = server(&repo);
    repo.git(&["push", "-q", "origin", "main", "hybrid/port"]);
    for name in [
        "refs/TAGS/v2",
        "refs/Tags/v2",
        "refs/heads/MAIN",
        "refs/heads/Main",
    ] {
        repo.try_git(&[
            "push",
            "--no-verify",
            "origin",
            &format!("hybrid/port:{name}"),
        ])
        .failure()
        .stderr_has("another spelling of a protected ref");
    }
    // Even human work does not go under another spelling of a protected name...
    repo.try_git(&["push", "--no-verify", "origin", "main:refs/heads/MAIN"])
        .failure()
        .stderr_has("another spelling of a protected ref");
    // ...and names the policy does not protect in any spelling stay free.
    repo.git(&["push", "-q", "origin", "main:refs/heads/feature"]);
    let _ = remote;
}

#[test]
fn a_clone_that_ignores_case_refuses_other_spellings_locally() {
    let repo = TestRepo::with_generation();
    repo.git(&["config", "core.ignorecase", "true"]);
    // The default policy protects refs/heads/* and refs/tags/*.
    repo.try_git(&["update-ref", "refs/TAGS/v2", "hybrid/port"])
        .failure()
        .stderr_has("another spelling of a protected ref");
    repo.try_git(&["update-ref", "refs/HEADS/release", "main"])
        .failure()
        .stderr_has("another spelling of a protected ref");
    // Upper case inside a name is just a name.
    repo.git(&["tag", "V1"]);
    repo.try_git(&["tag", "V2", "hybrid/port"]).blocked();
    // Without core.ignorecase, refs/TAGS/… is no protected ref (git itself keeps it apart).
    in_dir(&repo, &repo.dir, &["config", "core.ignorecase", "false"]).success();
    repo.git(&["update-ref", "refs/TAGS/v2", "hybrid/port"]);
}
