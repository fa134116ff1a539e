//! The daemon with the real tiny model: jobs go through it with the model kept loaded, it refuses
//! clients of another protocol, and a job it was running when killed with SIGKILL is resumed
//! exactly once by the next daemon, leaving no half-made branch.

use std::io::{BufRead, BufReader, Write};
use std::time::{Duration, Instant};

use crate::embedded::greet_spec_repo;
use crate::support::TestRepo;

fn spec_repo() -> TestRepo {
    crate::embedded::with_test_model(greet_spec_repo())
}

const IMPLEMENT: [&str; 6] = [
    "implement",
    ".hybrid/specs/greet.md",
    "--threads",
    "2",
    "--max-tokens",
    "600",
];

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_daemon_runs_jobs_survives_sigkill_and_checks_the_protocol() {
    let _turn = crate::embedded::model_turn();
    let repo = spec_repo();
    repo.hybrid(&["daemon", "status"])
        .failure()
        .stderr_has("no daemon is running");
    repo.hybrid(&["daemon", "start"])
        .success()
        .stderr_has("the daemon runs");
    repo.hybrid(&["daemon", "start"])
        .success()
        .stderr_has("already runs");

    // A client of another protocol gets the daemon's version and nothing else.
    let socket = repo.home().join(".cache/git-hybrid/daemon/daemon.sock");
    let mut raw = std::os::unix::net::UnixStream::connect(&socket).unwrap();
    writeln!(
        raw,
        "{}",
        serde_json::json!({"hello": {"protocol": 999, "version": "9.9"}})
    )
    .unwrap();
    let mut reader = BufReader::new(raw.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let hello: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(hello["hello"]["protocol"], 6);
    // Anything more goes unanswered: the daemon has hung up (the write itself may already fail).
    let _ = writeln!(raw, "{}", serde_json::json!("status"));
    let mut rest = String::new();
    assert_eq!(
        reader.read_line(&mut rest).unwrap_or(0),
        0,
        "the daemon must hang up on a foreign protocol: {rest}"
    );

    // Two jobs; the second finds the model loaded.
    let mut args = IMPLEMENT.to_vec();
    args.extend(["--branch", "hybrid/one"]);
    repo.hybrid(&args).success().stderr_has("by the daemon");
    // The second job also runs the check loop, in the daemon, and asks for an edit format.
    let mut args = IMPLEMENT.to_vec();
    args.extend([
        "--branch",
        "hybrid/two",
        "--check",
        "test -f docs/greeting.md",
        "--edit-format",
        "merge",
        "--json",
    ]);
    let run = repo.hybrid(&args);
    run.success().stderr_has("model already loaded");
    let done: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(
        (done["by_daemon"].as_bool(), done["check"]["state"].as_str()),
        (Some(true), Some("passed")),
        "{done}"
    );
    // The warm model read the shared beginning of the prompt only once.
    assert!(done["reused_tokens"].as_u64().unwrap() > 100, "{done}");
    // A job the daemon refuses comes back with the hint the command would give.
    let mut args = IMPLEMENT.to_vec();
    args.extend(["--branch", "feature"]);
    repo.hybrid(&args)
        .failure()
        .stderr_has("not a quarantine branch")
        .stderr_has("hint: name a branch under hybrid/");
    repo.hybrid(&["daemon", "status"])
        .success()
        .stdout_has("3 jobs done")
        .stdout_has("SmolLM2");
    let status: serde_json::Value =
        serde_json::from_str(&repo.hybrid(&["daemon", "status", "--json"]).stdout()).unwrap();
    assert_eq!(
        (status["running"].as_bool(), status["jobs_done"].as_u64()),
        (Some(true), Some(3))
    );
    repo.try_git(&["merge", "--ff-only", "hybrid/two"])
        .blocked_by("hybrid/two");
    // The routing decision travels with the job and is kept with its generation.
    let params: String = repo
        .sqlite()
        .query_row(
            "SELECT params FROM generations WHERE branch = 'refs/heads/hybrid/two'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let params: serde_json::Value = serde_json::from_str(&params).unwrap();
    assert_eq!(params["route"]["side"], "local", "{params}");
    // So does the edit format it asked for (protocol 6).
    assert_eq!(params["edit_format"], "merge", "{params}");

    // SIGKILL in the middle of a job.
    let pid: i32 = std::fs::read_to_string(repo.home().join(".cache/git-hybrid/daemon/daemon.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let mut cmd = repo.command("git");
    let mut args = vec!["hybrid"];
    args.extend(IMPLEMENT);
    args.extend(["--branch", "hybrid/three"]);
    cmd.args(&args).stderr(std::process::Stdio::piped());
    let client = cmd.spawn().unwrap();
    wait_for("the job to run", || {
        repo.count("SELECT COUNT(*) FROM jobs WHERE state = 'running'") == 1
    });
    std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    let out = client.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("resume the job"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        repo.git(&["branch", "--list", "hybrid/three"]),
        "",
        "no half-made branch"
    );

    // The next daemon finishes it (job 4: job 3 was the refused one), once. (This one unloads an idle model after a second.)
    let mut start = repo.command("git");
    start
        .args(["hybrid", "daemon", "start"])
        .env("GIT_HYBRID_DAEMON_IDLE", "1");
    repo.run(start).success();
    wait_for("the resumed job", || {
        repo.count("SELECT COUNT(*) FROM jobs WHERE state = 'done'") == 3
    });
    assert_eq!(
        repo.git(&["branch", "--list", "hybrid/three*"])
            .lines()
            .count(),
        1
    );
    assert_eq!(repo.count("SELECT attempts FROM jobs WHERE id = 4"), 2);
    assert_eq!(
        repo.count("SELECT COUNT(*) FROM generations WHERE job_id = 4"),
        1
    );
    repo.hybrid(&["pending"])
        .success()
        .stderr_has("hybrid/three");
    wait_for("the idle model to be unloaded", || {
        repo.hybrid(&["daemon", "status"])
            .stdout()
            .contains("model not loaded")
    });
    repo.hybrid(&["daemon", "stop"]).success();
    repo.hybrid(&["daemon", "status"]).failure();
    let status: serde_json::Value =
        serde_json::from_str(&repo.hybrid(&["daemon", "status", "--json"]).stdout()).unwrap();
    assert_eq!(status["running"], false);
}

/// Mode bits of a path.
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Under a permissive umask the daemon's folder and socket are still its user's alone, and a
/// process of another user that reaches the socket anyway is refused by its uid.
#[test]
fn the_daemon_serves_its_own_user_only() {
    let repo = TestRepo::new();
    let mut start = repo.command("sh");
    start.args(["-c", "umask 000; exec git hybrid daemon start"]);
    repo.run(start).success();
    let dir = repo.home().join(".cache/git-hybrid/daemon");
    let socket = dir.join("daemon.sock");
    wait_for("the socket", || socket.exists());
    assert_eq!(mode(&dir), 0o700, "the daemon's folder");
    assert_eq!(mode(&socket), 0o600, "the socket");
    // Another user, with every folder opened on purpose: the peer check still refuses it.
    let root = runs_as_root();
    if root {
        use std::os::unix::fs::PermissionsExt;
        let mut open = Some(socket.as_path());
        while let Some(p) = open {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o777)).unwrap();
            if p == std::path::Path::new("/tmp") || p.parent().is_none() {
                break;
            }
            open = p.parent().filter(|p| p.starts_with(std::env::temp_dir()));
        }
        // The built binary sits under root's home: another user runs a copy.
        // Copied by `cp`, not by this process: a write handle held here could leak into a child
        // another test forks at that moment, and exec would then fail with "text file busy".
        let copy = repo.home().join("git-hybrid");
        let cp = std::process::Command::new("cp")
            .args([crate::support::BIN, copy.to_str().unwrap()])
            .status()
            .unwrap();
        assert!(cp.success());
        let mut other = repo.command_in(copy.to_str().unwrap(), &repo.home());
        use std::os::unix::process::CommandExt;
        other.args(["daemon", "status"]).uid(65534).gid(65534);
        repo.run(other).failure().stderr_has("serves uid 0 only");
    }
    repo.hybrid(&["daemon", "stop"]).success();
}

/// Whether the tests run as root (then they can act as another user).
fn runs_as_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| {
            use std::os::unix::fs::MetadataExt;
            m.uid() == 0
        })
        .unwrap_or(false)
}
