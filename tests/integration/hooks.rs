//! Installing next to the user's hooks, hook managers, worktrees, a missing binary, and the
//! inputs that break naive tools (binary files, non-UTF-8 names, empty and huge commits).

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use crate::support::{GENERATED, TestRepo};

const USER_HOOK: &str = "#!/bin/sh\n# the user's own hook\necho \"user hook ran: $0\" >> \"$(git rev-parse --git-dir)/user-hook.log\"\n";

#[test]
fn an_existing_hook_keeps_running_and_uninstall_restores_it_exactly() {
    let repo = TestRepo::bare_init();
    let hook = repo.dir.join(".git/hooks/pre-commit");
    std::fs::write(&hook, USER_HOOK).unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o741)).unwrap();

    repo.hybrid(&["install"])
        .success()
        .stderr_has("kept your hook");
    repo.hybrid(&["install"])
        .success()
        .stderr_has("already current");
    repo.write("a.txt", "a human line of text here\n");
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "first"]);
    let log = std::fs::read_to_string(repo.dir.join(".git/user-hook.log")).unwrap();
    assert_eq!(log.lines().count(), 1);
    assert!(
        log.contains(".git/hooks/pre-commit"),
        "the user's hook sees its own $0: {log}"
    );

    repo.hybrid(&["uninstall"])
        .success()
        .stderr_has("restored your hook");
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), USER_HOOK);
    assert_eq!(
        std::fs::metadata(&hook).unwrap().permissions().mode() & 0o777,
        0o741
    );
    for name in [
        "pre-merge-commit",
        "reference-transaction",
        "pre-push",
        "pre-commit.hybrid-chained",
    ] {
        assert!(
            !repo.dir.join(".git/hooks").join(name).exists(),
            "{name} left behind"
        );
    }
}

#[test]
fn a_failing_user_hook_still_stops_the_commit() {
    let repo = TestRepo::bare_init();
    let hook = repo.dir.join(".git/hooks/pre-commit");
    std::fs::write(&hook, "#!/bin/sh\necho 'lint failed' >&2\nexit 7\n").unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    repo.hybrid(&["install"]).success();
    repo.write("a.txt", "a human line of text here\n");
    repo.git(&["add", "."]);
    repo.try_git(&["commit", "-q", "-m", "first"])
        .failure()
        .stderr_has("lint failed");
}

/// husky v9's layout: core.hooksPath=.husky/_, whose hooks source `h`, which finds the user's
/// script in .husky/ from `$0`.
#[test]
fn husky_hooks_path_is_honoured_and_husky_hooks_still_run() {
    let repo = TestRepo::bare_init();
    let husky = repo.dir.join(".husky");
    std::fs::create_dir_all(husky.join("_")).unwrap();
    std::fs::write(
        husky.join("_/h"),
        "#!/usr/bin/env sh\nn=$(basename \"$0\")\ns=$(dirname \"$(dirname \"$0\")\")/$n\n[ ! -f \"$s\" ] && exit 0\nsh -e \"$s\" \"$@\"\n",
    )
    .unwrap();
    std::fs::write(husky.join("_/.gitignore"), "*\n").unwrap();
    for name in ["pre-commit", "pre-push"] {
        let p = husky.join("_").join(name);
        std::fs::write(&p, "#!/usr/bin/env sh\n. \"$(dirname \"$0\")/h\"\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::write(
        husky.join("pre-commit"),
        "echo husky-pre-commit >> .git/husky.log\n",
    )
    .unwrap();
    repo.git(&["config", "core.hooksPath", ".husky/_"]);

    repo.hybrid(&["install"])
        .success()
        .stderr_has(".husky/_/pre-commit");
    assert!(husky.join("_/reference-transaction").exists());
    assert!(!repo.dir.join(".git/hooks/pre-commit").exists());
    repo.write("a.txt", "a human line of text here\n");
    repo.git(&["add", "a.txt"]);
    repo.git(&["commit", "-q", "-m", "first"]);
    let log = std::fs::read_to_string(repo.dir.join(".git/husky.log")).unwrap();
    assert_eq!(log, "husky-pre-commit\n");

    // The gate itself runs from there too.
    repo.git(&["checkout", "-q", "-b", "hybrid/port"]);
    repo.write("src/port.rs", GENERATED);
    repo.git(&["add", "src/port.rs"]);
    repo.git(&["commit", "-q", "-m", "gen"]);
    repo.hybrid(&["adopt", "hybrid/port"]).success();
    repo.git(&["checkout", "-q", "main"]);
    repo.try_git(&["merge", "--ff-only", "hybrid/port"])
        .blocked();

    repo.hybrid(&["uninstall"]).success();
    assert_eq!(
        std::fs::read_to_string(husky.join("_/pre-commit")).unwrap(),
        "#!/usr/bin/env sh\n. \"$(dirname \"$0\")/h\"\n"
    );
    assert!(!husky.join("_/reference-transaction").exists());
}

#[test]
fn a_tracked_hooks_folder_needs_force_or_manual() {
    let repo = TestRepo::bare_init();
    repo.write(".githooks/commit-msg", "#!/bin/sh\nexit 0\n");
    repo.git(&["add", ".githooks"]);
    repo.git(&["commit", "-q", "--no-verify", "-m", "hooks"]);
    repo.git(&["config", "core.hooksPath", ".githooks"]);
    repo.hybrid(&["install"]).failure().stderr_has("--manual");
    assert!(!repo.dir.join(".githooks/pre-commit").exists());
    repo.hybrid(&["install", "--manual"])
        .success()
        .stderr_has("git-hybrid hook reference-transaction");
    repo.hybrid(&["install", "--force"]).success();
    assert!(repo.dir.join(".githooks/pre-commit").exists());
}

#[test]
fn without_the_binary_on_path_protected_updates_are_blocked() {
    let repo = TestRepo::new();
    repo.write("b.txt", "another human line of text\n");
    repo.git(&["add", "b.txt"]);
    let before = repo.rev("main");
    // A PATH with git and the basic tools but no git-hybrid (git's own folder may hold an
    // installed copy, so git is reached through a folder of its own).
    let git = String::from_utf8(
        Command::new("sh")
            .args(["-c", "command -v git"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let git_dir = repo.home().join("git-only");
    std::fs::create_dir_all(&git_dir).unwrap();
    std::os::unix::fs::symlink(git.trim(), git_dir.join("git")).unwrap();
    for dir in ["/bin", "/usr/bin"] {
        assert!(
            !std::path::Path::new(dir).join("git-hybrid").exists(),
            "{dir} holds git-hybrid"
        );
    }
    let mut cmd = repo.command("git");
    cmd.env("PATH", format!("{}:/bin:/usr/bin", git_dir.display()))
        .args(["commit", "-q", "-m", "b"]);
    let run = repo.run(cmd);
    run.failure()
        .stderr_has("git-hybrid is not on PATH")
        .stderr_has("install.sh");
    let mut cmd = repo.command("git");
    cmd.env("PATH", format!("{}:/bin:/usr/bin", git_dir.display()))
        .args(["commit", "-q", "--no-verify", "-m", "b"]);
    repo.run(cmd)
        .failure()
        .stderr_has("git-hybrid is not on PATH");
    assert_eq!(repo.rev("main"), before);
}

#[test]
fn parallel_commits_from_linked_worktrees_share_one_store() {
    let repo = TestRepo::new();
    // A fresh store: whichever hook opens it first migrates it, under the lock.
    std::fs::remove_dir_all(repo.dir.join(".git/hybrid")).unwrap();
    let worktrees: Vec<_> = (0..4)
        .map(|i| {
            let dir = repo.home().join(format!("wt{i}"));
            repo.git(&[
                "worktree",
                "add",
                "-q",
                "-b",
                &format!("team{i}"),
                dir.to_str().unwrap(),
            ]);
            dir
        })
        .collect();
    for (i, dir) in worktrees.iter().enumerate() {
        for j in 0..4 {
            let file = format!("file-{i}-{j}.txt");
            std::fs::write(
                dir.join(&file),
                format!("human content number {i} {j} written by hand\n"),
            )
            .unwrap();
        }
    }
    // Sixteen commits: four per worktree (one worktree's index allows one commit at a time), the
    // four worktrees all at once, racing to create and migrate the store and to log events.
    let spawn_all = |script: &dyn Fn(usize) -> String| {
        let children: Vec<_> = worktrees
            .iter()
            .enumerate()
            .map(|(i, dir)| {
                let mut cmd = repo.command_in("sh", dir);
                cmd.arg("-c")
                    .arg(script(i))
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped());
                cmd.spawn().unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(out.status.success(), "{err}");
            assert!(!err.contains("locked") && !err.contains("busy"), "{err}");
        }
    };
    // Creating the worktrees' branches was logged too; count from here.
    let refs_before =
        repo.count("SELECT COUNT(*) FROM events WHERE hook = 'reference-transaction'");
    spawn_all(&|i| {
        format!("set -e; for j in 0 1 2 3; do git add file-{i}-$j.txt; git commit -q -m c$j; done")
    });
    for i in 0..4 {
        let n = repo.git(&["rev-list", "--count", &format!("main..team{i}")]);
        assert_eq!(n.trim(), "4");
    }
    assert_eq!(
        repo.count("SELECT COUNT(*) FROM events WHERE hook = 'pre-commit'"),
        16
    );
    assert_eq!(
        repo.count("SELECT COUNT(*) FROM events WHERE hook = 'reference-transaction'"),
        refs_before + 16
    );
    // Each migration applied exactly once, however many processes raced to open the store.
    assert_eq!(
        repo.count("SELECT COUNT(*) FROM schema_migrations"),
        git_hybrid::store::SCHEMA_VERSION
    );
    // Then sixteen processes at once: four new protected branches per worktree, in the background.
    spawn_all(&|i| {
        format!(
            "for k in 0 1 2 3; do git branch side{i}-$k & done; wait; for k in 0 1 2 3; do git rev-parse -q --verify side{i}-$k >/dev/null || exit 1; done"
        )
    });
    assert_eq!(
        repo.count("SELECT COUNT(*) FROM events WHERE hook = 'reference-transaction'"),
        refs_before + 32
    );
    assert_eq!(
        repo.count("SELECT COUNT(*) FROM events WHERE decision = 'block'"),
        0
    );
}

#[test]
fn binary_files_non_utf8_names_and_empty_commits() {
    let repo = TestRepo::new();
    // A generated binary file and a non-UTF-8 file name on the quarantine branch.
    repo.git(&["checkout", "-q", "-b", "hybrid/port"]);
    let blob: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 256) as u8).collect();
    repo.write("assets/logo.bin", &blob);
    let weird = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b"caf\xe9.rs");
    std::fs::write(repo.dir.join(weird), GENERATED).unwrap();
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "gen"]);
    repo.hybrid(&["adopt", "hybrid/port", "--model", "m"])
        .success();
    repo.git(&["checkout", "-q", "main"]);

    repo.git(&["commit", "-q", "--allow-empty", "-m", "empty human commit"]);
    // The binary file alone, copied onto main, is recognised by its content.
    repo.write("assets/logo-copy.bin", &blob);
    repo.git(&["add", "assets"]);
    repo.try_git(&["commit", "-q", "-m", "logo"])
        .blocked()
        .stderr_has("logo-copy.bin: 1 line (binary)");
    repo.git(&["reset", "-q", "--hard"]);
    // A different human binary file passes.
    repo.write("assets/photo.bin", [0u8, 1, 2, 3, 0, 255, 254]);
    repo.git(&["add", "assets"]);
    repo.git(&["commit", "-q", "-m", "photo"]);
    // The non-UTF-8 path's content is caught, and the path is shown lossily, not as a crash.
    let before = repo.rev("main");
    repo.try_git(&["merge", "--no-ff", "-m", "m", "hybrid/port"])
        .blocked()
        .stderr_has("caf\u{fffd}.rs");
    assert_eq!(repo.rev("main"), before);
}

#[test]
fn a_fifty_megabyte_text_file_gets_the_right_decision() {
    let repo = TestRepo::with_generation();
    let mut big = String::with_capacity(50 << 20);
    let mut i = 0u64;
    while big.len() < 50 << 20 {
        big.push_str(&format!(
            "row {i:>10}: human generated fixture data, line by line\n"
        ));
        i += 1;
    }
    repo.write("data/big.txt", &big);
    repo.git(&["add", "data/big.txt"]);
    repo.git(&["commit", "-q", "-m", "big human data"]);
    big.push_str(GENERATED);
    repo.write("data/big.txt", &big);
    repo.try_git(&["commit", "-q", "-a", "-m", "append"])
        .blocked()
        .stderr_has("data/big.txt: 5 lines");
}

#[test]
fn doctor_reports_missing_hooks_and_a_healthy_setup() {
    let repo = TestRepo::bare_init();
    repo.hybrid(&["doctor"])
        .failure()
        .stdout_has("not installed")
        .stdout_has("fix: git hybrid install");
    repo.hybrid(&["install"]).success();
    repo.hybrid(&["doctor"])
        .success()
        .stdout_has("everything the gate needs is in place");
}

#[test]
fn hooks_path_with_a_tilde_is_expanded() {
    let repo = TestRepo::bare_init();
    repo.git(&["config", "core.hooksPath", "~/my-hooks"]);
    repo.hybrid(&["install"]).success();
    assert!(repo.home().join("my-hooks/reference-transaction").exists());
    repo.hybrid(&["doctor"])
        .success()
        .stdout_has("(core.hooksPath)");
}

#[test]
fn the_manual_page_lists_every_command() {
    let repo = TestRepo::bare_init();
    let run = repo.hybrid(&["man"]);
    run.success();
    // roff escapes hyphens.
    let page = run.stdout().replace("\\-", "-");
    for command in [
        "install",
        "uninstall",
        "adopt",
        "pending",
        "verify",
        "doctor",
    ] {
        assert!(page.contains(&format!("git-hybrid-{command}")), "{command}");
    }
    assert!(
        !page.contains("git-hybrid-hook"),
        "the hidden hook command stays hidden"
    );
}

/// A chained `#!/bin/sh -e` hook keeps failing on its first failing command.
#[test]
fn a_chained_hook_keeps_its_shebang_flags() {
    let repo = TestRepo::bare_init();
    let hook = repo.dir.join(".git/hooks/pre-commit");
    std::fs::write(
        &hook,
        "#!/bin/sh -e\nfalse\necho 'should not get here' >&2\n",
    )
    .unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    repo.hybrid(&["install"]).success();
    repo.write("a.txt", "a human line of text here\n");
    repo.git(&["add", "."]);
    let run = repo.try_git(&["commit", "-q", "-m", "first"]);
    run.failure();
    assert!(
        !run.stderr().contains("should not get here"),
        "{}",
        run.stderr()
    );
}

/// `git hybrid <TAB>` and `git-hybrid <TAB>` complete in bash, nested commands included; zsh and
/// fish scripts are produced; every command has its own manual page.
#[test]
fn completions_and_manual_pages() {
    let repo = TestRepo::new();
    let script = repo.hybrid(&["completions", "bash"]).success().stdout();
    let path = repo.home().join("git-hybrid.bash");
    std::fs::create_dir_all(repo.home()).unwrap();
    std::fs::write(&path, script).unwrap();
    let complete = |words: &str| {
        let mut cmd = repo.command("bash");
        cmd.arg("-c").arg(format!(
            "source {}; COMP_LINE='{words}'; read -ra COMP_WORDS <<< \"$COMP_LINE\"; [[ $COMP_LINE == *' ' ]] && COMP_WORDS+=(''); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); COMP_POINT=${{#COMP_LINE}}; if [[ ${{COMP_WORDS[0]}} == git ]]; then _git_hybrid; else _git__hybrid git-hybrid \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; fi; echo \"${{COMPREPLY[*]}}\"",
            path.display()
        ));
        repo.run(cmd).success().stdout()
    };
    assert!(complete("git hybrid rev").contains("review"));
    assert!(complete("git hybrid model ").contains("recommend"));
    assert!(complete("git-hybrid review --ba").contains("--batch"));
    for shell in ["zsh", "fish", "powershell"] {
        assert!(
            repo.hybrid(&["completions", shell])
                .success()
                .stdout()
                .contains("review"),
            "{shell}"
        );
    }
    let dir = repo.home().join("man1");
    repo.hybrid(&["man", "--dir", dir.to_str().unwrap()])
        .success();
    for page in [
        "git-hybrid",
        "git-hybrid-review",
        "git-hybrid-daemon",
        "git-hybrid-model",
    ] {
        let text = std::fs::read_to_string(dir.join(format!("{page}.1"))).unwrap();
        assert!(text.contains(".TH"), "{page}");
    }
    let daemon = std::fs::read_to_string(dir.join("git-hybrid-daemon.1")).unwrap();
    assert!(daemon.contains("Keeps the local model loaded"), "{daemon}");
}
