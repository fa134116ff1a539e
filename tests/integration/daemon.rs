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
    assert_eq!(hello["hello"]["protocol"], 1);
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
    let mut args = IMPLEMENT.to_vec();
    args.extend(["--branch", "hybrid/two"]);
    repo.hybrid(&args)
        .success()
        .stderr_has("model already loaded");
    repo.hybrid(&["daemon", "status"])
        .success()
        .stderr_has("2 jobs done")
        .stderr_has("SmolLM2");
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

    // The next daemon finishes it, once. (This one unloads an idle model after a second.)
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
    assert_eq!(repo.count("SELECT attempts FROM jobs WHERE id = 3"), 2);
    assert_eq!(
        repo.count("SELECT COUNT(*) FROM generations WHERE job_id = 3"),
        1
    );
    repo.hybrid(&["pending"])
        .success()
        .stderr_has("hybrid/three");
    wait_for("the idle model to be unloaded", || {
        repo.hybrid(&["daemon", "status"])
            .stderr()
            .contains("model not loaded")
    });
    repo.hybrid(&["daemon", "stop"]).success();
    repo.hybrid(&["daemon", "status"]).failure();
}
