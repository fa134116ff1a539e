//! The real tiny model (SmolLM2-135M-Instruct Q4_1) through the real embedded llama.cpp: a spec
//! becomes a commit on a quarantine branch, constrained by the grammar to parse and to touch the
//! named file, and the gate knows it. The model writes nonsense; the machinery must not care.
//! Fetch the model first: scripts/fetch-test-model.sh (CI does).

use std::path::PathBuf;

use crate::support::TestRepo;

pub fn test_model() -> PathBuf {
    crate::support::cached_file(
        "GIT_HYBRID_TEST_MODEL",
        "models/SmolLM2-135M-Instruct.Q4_1.gguf",
        "scripts/fetch-test-model.sh",
    )
}

/// The demo's own model (Qwen2.5-Coder-0.5B), for the test of the demo: its spec asks for Rust,
/// which the tiny model cannot write so that it parses.
fn demo_model() -> PathBuf {
    crate::support::cached_file(
        "GIT_HYBRID_DEMO_MODEL",
        "models/Qwen2.5-Coder-0.5B-Instruct-Q4_K_M.gguf",
        "scripts/fetch-demo-model.sh",
    )
}

/// A spec a tiny model can deliver: a docs task (a file with no syntax to break). Code from it
/// would not parse, and code that does not parse is never committed (`implement` asks again,
/// then gives up): the tests of the machinery around the model use this.
pub const GREETING_DOC: &str = "# Add a greeting\n\n## Files to touch\n\n- create docs/greeting.md\n\n## Requirements\n\n- a title, then one paragraph saying that `greet(name)` returns \"Hello, \" followed by the name\n\n## Tests\n\n- the file starts with \"# Greeting\"\n";

/// A repository whose main holds `GREETING_DOC` as `.hybrid/specs/greet.md`.
pub fn greet_spec_repo() -> TestRepo {
    TestRepo::with_spec(".hybrid/specs/greet.md", GREETING_DOC)
}

/// `git hybrid implement` of the greeting spec on two threads, answers of `max_tokens` at
/// most, with `extra` arguments.
pub fn implement_greeting(
    repo: &TestRepo,
    max_tokens: &str,
    extra: &[&str],
) -> crate::support::Run {
    let mut args = vec![
        "implement",
        ".hybrid/specs/greet.md",
        "--threads",
        "2",
        "--max-tokens",
        max_tokens,
    ];
    args.extend_from_slice(extra);
    repo.hybrid(&args)
}

/// Inference tests take turns: on two cores, two models running side by side slow each other
/// down tenfold.
static ONE_MODEL_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// This test's turn with a model (a test that panicked still passes the turn on).
pub fn model_turn() -> std::sync::MutexGuard<'static, ()> {
    ONE_MODEL_AT_A_TIME
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// A repository with the test model registered as its default.
pub fn with_test_model(repo: TestRepo) -> TestRepo {
    repo.hybrid(&["model", "add", test_model().to_str().unwrap()])
        .success();
    repo
}

#[test]
fn the_tiny_model_implements_a_spec_end_to_end() {
    let _turn = model_turn();
    let model = test_model();
    let repo = greet_spec_repo();
    // Only GGUF files get in.
    repo.write("not-a-model.gguf", "this is a text file");
    repo.hybrid(&["model", "add", "not-a-model.gguf"])
        .failure()
        .stderr_has("is not a GGUF model file");
    repo.hybrid(&[
        "implement",
        ".hybrid/specs/greet.md",
        "--model",
        "not-a-model.gguf",
    ])
    .failure()
    .stderr_has("is not a GGUF model file");
    repo.hybrid(&["implement", ".hybrid/specs/greet.md"])
        .failure()
        .stderr_has("no local model is registered")
        .stderr_has("git hybrid model add");
    repo.hybrid(&["model", "add", model.to_str().unwrap()])
        .success()
        .stderr_has("the default model");
    repo.hybrid(&["model", "list"])
        .success()
        .stdout_has("* SmolLM2-135M-Instruct.Q4_1");

    let run = implement_greeting(&repo, "600", &[]);
    run.success().stderr_has("on hybrid/add-a-greeting");
    let branch = "hybrid/add-a-greeting";
    let files = repo.git(&["diff", "--name-only", "main", branch]);
    assert_eq!(files.trim(), "docs/greeting.md", "{}", run.stderr());
    let message = repo.git(&["log", "-1", "--format=%B", branch]);
    for trailer in [
        "Hybrid-Generation: g-",
        "Hybrid-Model: SmolLM2-135M-Instruct.Q4_1",
        "Hybrid-Spec: .hybrid/specs/greet.md",
    ] {
        assert!(message.contains(trailer), "{message}");
    }
    // One answer in the ledger for each attempt (the tiny model may loop in prose, be
    // stopped and asked again).
    let attempts: i64 = run
        .stderr()
        .split(" attempt")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no attempts in {}", run.stderr()));
    assert_eq!(
        repo.count("SELECT COUNT(*) FROM usage WHERE phase = 'implement' AND provider = 'embedded' AND output_tokens > 0"),
        attempts
    );
    // The generation records the model file's hash and the parameters it ran with.
    let params: String = repo
        .sqlite()
        .query_row(
            "SELECT params FROM generations WHERE kind = 'implement'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let params: serde_json::Value = serde_json::from_str(&params).unwrap();
    assert_eq!(
        params["model"]["sha256"],
        "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
    );
    assert_eq!(params["model"]["threads"], 2);
    repo.hybrid(&["pending"]).success().stderr_has(branch);
    repo.try_git(&["merge", "--ff-only", branch])
        .blocked_by(branch);
}

/// The demo, with its own real model: without a key it stops at the gate; with one (the fake
/// API), Claude writes the spec, reviews the result, and the gate opens.
#[test]
fn the_demo_runs_the_whole_loop() {
    use crate::support::anthropic::{FakeAnthropic, KEY, Reply};
    let _turn = model_turn();
    let repo = TestRepo::bare_init();
    repo.hybrid(&["demo"])
        .failure()
        .stderr_has("no local model is registered");
    repo.hybrid(&["model", "add", demo_model().to_str().unwrap()])
        .success();
    let demo = |env: &[(&str, &str)]| {
        let mut cmd = repo.command("git");
        cmd.args(["hybrid", "demo"]);
        for (k, v) in env {
            cmd.env(k, v);
        }
        repo.run(cmd)
    };
    demo(&[])
        .success()
        .stderr_has("bundled example spec")
        .stderr_has("hybrid: blocked: refs/heads/main")
        .stderr_has("the gate blocked the merge, as it must")
        .stderr_has("set ANTHROPIC_API_KEY");
    let spec = "# Add port parsing\n\n## Files to touch\n\n- create src/port.rs\n\n## Signatures\n\n`pub fn parse_port(value: &str) -> Result<u16, String>`\n\n## Tests\n\n- `parse_port(\"80\")` returns `Ok(80)`\n";
    let api = FakeAnthropic::start(vec![Reply::Text(spec), Reply::Approve]);
    demo(&[("ANTHROPIC_API_KEY", KEY), ("ANTHROPIC_BASE_URL", &api.url)])
        .success()
        .stderr_has("Claude writes the spec")
        .stderr_has("the gate blocked the merge")
        .stderr_has("approved: the gate now lets change")
        .stderr_has("merging the approved change")
        .stderr_has("demo done");
    assert_eq!(api.answered().len(), 2);
}

/// The whole loop with the real tiny model and the fake Claude: spec → lint → implement →
/// review (changes requested) → fix (by the local model) → re-review (approved) → the gate lets
/// the merge through.
#[test]
fn the_whole_loop_from_spec_to_merge() {
    use crate::support::anthropic::{FakeAnthropic, Reply};
    let _turn = model_turn();
    let repo = with_test_model(TestRepo::new());
    let spec = GREETING_DOC;
    let api = FakeAnthropic::start(vec![
        Reply::Text(spec),
        Reply::Findings(
            r#"[{"path": "docs/greeting.md", "line": 1, "severity": "medium", "category": "edge_cases", "message": "An empty name greets nobody.", "suggestion": "Say what an empty name gives."}]"#,
        ),
        Reply::Approve,
    ]);
    let with_key = |args: &[&str]| repo.hybrid_with_api(&api, args);
    with_key(&[
        "spec",
        "Add a greeting function",
        "-o",
        ".hybrid/specs/greet.md",
    ])
    .success();
    repo.hybrid(&["spec", "lint", ".hybrid/specs/greet.md"])
        .success();
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "spec"]);
    let branch = "hybrid/add-a-greeting";
    implement_greeting(&repo, "600", &["--no-daemon"])
        .success()
        .stderr_has(branch);
    with_key(&["review", branch])
        .failure()
        .stdout_has("An empty name greets nobody.");
    with_key(&["fix", branch, "--threads", "2", "--max-tokens", "1600"])
        .success()
        .stderr_has("(local model)")
        .stderr_has("re-review approved");
    assert!(
        repo.count("SELECT COUNT(*) FROM usage WHERE phase = 'fix' AND provider = 'embedded'") >= 1
    );
    repo.git(&["merge", "-q", "--ff-only", branch]);
}

/// Several answers side by side (llama.cpp's parallel sequences over one cached prompt): each
/// is judged as soon as it is finished, the check picks the first that passes, and every answer
/// written — the ones stopped unfinished included — is in the ledger. The check here fails
/// its first run and passes its second, so the first answer finished is never the one kept.
#[test]
fn candidates_side_by_side_are_chosen_by_the_check() {
    let _turn = model_turn();
    let repo = with_test_model(greet_spec_repo());
    let counter = tempfile::NamedTempFile::new().unwrap();
    let check = format!(
        "n=$(cat {0} 2>/dev/null); n=$((${{n:-0}} + 1)); echo $n > {0}; test $n -ge 2",
        counter.path().display()
    );
    let run = implement_greeting(
        &repo,
        "300",
        &["--candidates", "3", "--check", &check, "--json"],
    );
    run.success();
    let report: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(report["check"]["state"], "passed", "{}", run.stderr());
    let attempts = report["attempts"].as_u64().unwrap();
    let answers = repo.count("SELECT COUNT(*) FROM usage WHERE phase = 'implement'");
    assert_eq!(answers, 3 * attempts as i64, "{}", run.stderr());
    let runs: u32 = std::fs::read_to_string(counter.path())
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(runs >= 2, "the check ran {runs} times");
    assert_eq!(
        repo.git(&["diff", "--name-only", "main", "hybrid/add-a-greeting"])
            .trim(),
        "docs/greeting.md"
    );
}

/// Candidates share the prompt's cache but not their answers': a context that holds one answer
/// and not two says so, and what to do, before anything is generated — whether the number came
/// from the flag or from the settings.
#[test]
fn candidates_that_do_not_fit_the_context_are_refused_up_front() {
    let _turn = model_turn();
    let repo = with_test_model(greet_spec_repo());
    implement_greeting(&repo, "200", &["--ctx", "512", "--candidates", "2"])
        .failure()
        .stderr_has("2 answers may take 200 each, but the context holds 512")
        .stderr_has("ask for fewer candidates");
    assert_eq!(repo.count("SELECT COUNT(*) FROM usage"), 0);
    // Set once in the committed policy, the number is taken without the flag.
    repo.write(".hybrid.toml", "[implement]\ncandidates = 3\n");
    repo.git(&["add", ".hybrid.toml"]);
    repo.git(&["commit", "-q", "-m", "policy: three answers"]);
    implement_greeting(&repo, "200", &["--ctx", "512"])
        .failure()
        .stderr_has("3 answers may take 200 each");
    // Git config wins over the policy; it is checked like the flag, and the flag wins over it.
    repo.git(&["config", "hybrid.implementCandidates", "2"]);
    implement_greeting(&repo, "200", &["--ctx", "512"])
        .failure()
        .stderr_has("2 answers may take 200 each");
    repo.git(&["config", "hybrid.implementCandidates", "9"]);
    implement_greeting(&repo, "200", &["--ctx", "512"])
        .failure()
        .stderr_has("9 answers side by side is out of range (1 to 8)")
        .stderr_has("git config hybrid.implementCandidates");
    assert_eq!(repo.count("SELECT COUNT(*) FROM usage"), 0);
    implement_greeting(&repo, "200", &["--ctx", "512", "--candidates", "1"]).success();
    // The environment is read the same way, and over git config; a number there that does
    // not parse is refused with where it came from, not taken as the default, and the flag
    // makes it moot.
    let with_env = |value: &str, extra: &[&str]| {
        let mut cmd = repo.command("git");
        cmd.args([
            "hybrid",
            "implement",
            ".hybrid/specs/greet.md",
            "--threads",
            "2",
        ])
        .args(["--max-tokens", "200", "--ctx", "512"])
        .args(extra)
        .env("GIT_HYBRID_CANDIDATES", value);
        repo.run(cmd)
    };
    with_env("3", &[])
        .failure()
        .stderr_has("3 answers may take 200 each");
    let written = repo.count("SELECT COUNT(*) FROM usage");
    with_env("four", &[])
        .failure()
        .stderr_has("GIT_HYBRID_CANDIDATES is \"four\", not a number it takes")
        .stderr_has("set a whole number there");
    assert_eq!(repo.count("SELECT COUNT(*) FROM usage"), written);
    repo.git(&["branch", "-D", "hybrid/add-a-greeting"]);
    with_env("four", &["--candidates", "1"]).success();
}
