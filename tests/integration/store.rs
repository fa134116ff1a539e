//! The store fails closed: a corrupt, foreign or newer store blocks protected updates with a
//! message that says what to do, and nothing is overwritten.

use crate::support::TestRepo;

fn staged_human_change(repo: &TestRepo) {
    repo.write("notes.txt", "a human note about the project\n");
    repo.git(&["add", "notes.txt"]);
}

#[test]
fn a_corrupt_store_blocks_and_is_left_untouched() {
    let repo = TestRepo::with_generation();
    let garbage = b"this is not a sqlite database, it was overwritten by accident".repeat(100);
    std::fs::write(repo.store_path(), &garbage).unwrap();
    for wal in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{wal}", repo.store_path().display()));
    }
    staged_human_change(&repo);
    let before = repo.rev("main");
    repo.try_git(&["commit", "-q", "-m", "note"])
        .failure()
        .stderr_has("blocked: the pre-commit hook could not check this update")
        .stderr_has("unreadable or corrupt")
        .stderr_has("hint: move the file aside");
    repo.try_git(&["commit", "-q", "--no-verify", "-m", "note"])
        .failure()
        .stderr_has("corrupt");
    assert_eq!(repo.rev("main"), before);
    assert_eq!(std::fs::read(repo.store_path()).unwrap(), garbage);
    repo.hybrid(&["pending"]).failure().stderr_has("corrupt");
    repo.hybrid(&["doctor"]).failure().stdout_has("FAIL  store");
    // Unprotected work is not held hostage by the broken store.
    repo.git(&["checkout", "-q", "-b", "hybrid/scratch"]);
    repo.git(&["commit", "-q", "-m", "scratch note"]);
}

#[test]
fn a_store_from_a_newer_version_is_refused() {
    let repo = TestRepo::with_generation();
    repo.sqlite()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    staged_human_change(&repo);
    repo.try_git(&["commit", "-q", "-m", "note"])
        .failure()
        .stderr_has("written by a newer git-hybrid (schema 99")
        .stderr_has("upgrade git-hybrid");
    repo.hybrid(&["adopt", "hybrid/port"])
        .failure()
        .stderr_has("newer");
    let version: i64 = repo
        .sqlite()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 99, "the newer store is not rewritten");
}

#[test]
fn an_unreadable_store_folder_blocks() {
    let repo = TestRepo::new();
    // A file where the store's folder should be: nothing can be created or read there.
    std::fs::remove_dir_all(repo.dir.join(".git/hybrid")).unwrap();
    std::fs::write(repo.dir.join(".git/hybrid"), "in the way").unwrap();
    staged_human_change(&repo);
    repo.try_git(&["commit", "-q", "-m", "note"])
        .failure()
        .stderr_has("cannot create the store's folder");
}

/// Without a store or records, verify judges by what evidence there is: a repository that never
/// recorded anything (a new team's CI) passes human work; one that recorded output and lost both
/// its store and its records fails closed.
#[test]
fn verify_without_a_store_judges_by_the_evidence_left() {
    let repo = TestRepo::new();
    std::fs::remove_dir_all(repo.dir.join(".git/hybrid")).unwrap();
    repo.hybrid(&["verify", "HEAD"])
        .success()
        .stderr_has("no records here");
    let repo = TestRepo::with_generation();
    std::fs::remove_dir_all(repo.dir.join(".git/hybrid")).unwrap();
    repo.git(&["update-ref", "-d", "refs/hybrid/records"]);
    repo.hybrid(&["verify", "main..hybrid/port"])
        .failure()
        .stderr_has("deleted, truncated or replaced");
}

#[test]
fn a_broken_policy_cannot_be_committed_and_one_that_was_blocks() {
    let repo = TestRepo::with_generation();
    let before = repo.rev("main");
    for (policy, complaint) in [
        (
            "[gate]\nprotected = \"not a list\"\n",
            "expected a sequence",
        ),
        (
            "[gate]\nprotected = [\"refs/remotes/*\"]\n",
            "must be under refs/heads/ or refs/tags/",
        ),
        ("[gate\n", "cannot use"),
    ] {
        repo.write(".hybrid.toml", policy);
        repo.git(&["add", ".hybrid.toml"]);
        repo.try_git(&["commit", "-q", "-m", "policy"])
            .failure()
            .stderr_has("would receive a .hybrid.toml the gate cannot use")
            .stderr_has(complaint);
        assert_eq!(repo.rev("main"), before);
    }
    // A broken policy committed with the hooks off blocks everything, and says how to repair it.
    repo.commit_unhooked("broken policy");
    repo.write("notes.txt", "a human note\n");
    repo.git(&["add", "notes.txt"]);
    repo.try_git(&["commit", "-q", "-m", "note"])
        .failure()
        .stderr_has("refs/heads/main:.hybrid.toml is not valid")
        .stderr_has("a commit that changes nothing but .hybrid.toml");
}

#[test]
fn only_the_committed_policy_counts() {
    let repo = TestRepo::with_generation();
    // An uncommitted policy that unprotects everything changes nothing.
    repo.write(".hybrid.toml", "[gate]\nprotected = [\"refs/tags/*\"]\n");
    repo.try_git(&["merge", "--ff-only", "hybrid/port"])
        .blocked();
    std::fs::remove_file(repo.dir.join(".hybrid.toml")).unwrap();
    // Nor does one that a quarantine branch carries.
    repo.git(&["checkout", "-q", "hybrid/port"]);
    repo.write(".hybrid.toml", "[gate]\nprotected = [\"refs/tags/*\"]\n");
    repo.git(&["add", ".hybrid.toml"]);
    repo.git(&["commit", "-q", "-m", "unprotect main"]);
    let before = repo.rev("main");
    // Blocked twice over: the output is unreviewed, and the policy would unprotect main.
    repo.try_git(&["branch", "-f", "main", "hybrid/port"])
        .failure()
        .stderr_has("would not be protected");
    assert_eq!(repo.rev("main"), before);
}

#[test]
fn policy_narrows_what_is_protected() {
    let repo = TestRepo::with_generation();
    repo.write(
        ".hybrid.toml",
        "[gate]\nprotected = [\"refs/heads/main\", \"refs/tags/*\"]\n",
    );
    repo.git(&["add", ".hybrid.toml"]);
    repo.git(&["commit", "-q", "-m", "policy"]);
    // A scratch branch is no longer protected...
    repo.git(&["branch", "scratch", "hybrid/port"]);
    // ...but main still is.
    repo.try_git(&["merge", "--no-ff", "-m", "m", "hybrid/port"])
        .blocked();
    // git config overrides the committed policy for this clone.
    repo.git(&["config", "--add", "hybrid.protected", "refs/heads/*"]);
    repo.try_git(&["branch", "scratch2", "hybrid/port"])
        .blocked();
}

/// A store restored from a backup that predates a generation forgets it — unless the hooks take
/// in what the records ref knows before judging, which they do.
#[test]
fn a_store_rolled_back_to_a_backup_learns_from_the_records_before_judging() {
    let repo = TestRepo::with_generation();
    let backup = repo.home().join("hybrid.db.bak");
    std::fs::create_dir_all(repo.home()).unwrap();
    // The backup holds the first generation (so the store is not empty under its marker).
    repo.sqlite()
        .execute("VACUUM INTO ?1", [backup.to_str().unwrap()])
        .unwrap();
    repo.git(&["checkout", "-q", "-b", "hybrid/later", "main"]);
    repo.write(
        "src/later.rs",
        "pub fn later_value(input: u32) -> u32 {\n    input.wrapping_mul(97).rotate_left(5)\n}\n",
    );
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "later output"]);
    repo.hybrid(&["adopt", "hybrid/later"]).success();
    repo.git(&["checkout", "-q", "main"]);
    // Restore the backup: the store no longer knows hybrid/later.
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", repo.store_path().display()));
    }
    std::fs::copy(&backup, repo.store_path()).unwrap();
    repo.try_git(&["merge", "-q", "--ff-only", "hybrid/later"])
        .blocked_by("hybrid/later")
        .stderr_has("src/later.rs");
}
