//! `implement` with the openai backend against a fake server: a spec becomes a commit on a
//! quarantine branch that the gate knows, without touching the user's files; bad answers are
//! repaired by asking again; bad input leaves nothing behind.

use crate::support::openai::FakeOpenAi;
use crate::support::{GENERATED, TestRepo};

const SPEC: &str = "# Add port parsing\n\nCreate src/port.rs with `parse_port(value: &str) -> Result<u16, String>`.\nRelated: src/lib.rs.\n\n## Tests\n\n- `parse_port(\"80\")` returns `Ok(80)`\n";

fn file_block(path: &str, content: &str) -> String {
    format!("Here you go.\n<<<<<<< FILE {path}\n{content}>>>>>>> END\n")
}

fn implement(repo: &TestRepo, server: &FakeOpenAi, args: &[&str]) -> crate::support::Run {
    let mut cmd = repo.command("git");
    cmd.args(["hybrid", "implement"])
        .args(args)
        .args(["--backend", "openai", "--model", "qwen2.5-coder:7b"])
        .env("GIT_HYBRID_OPENAI_BASE_URL", &server.url);
    repo.run(cmd)
}

fn spec_repo() -> TestRepo {
    TestRepo::with_spec(".hybrid/specs/port.md", SPEC)
}

#[test]
fn a_spec_becomes_a_recorded_commit_on_a_quarantine_branch() {
    let repo = spec_repo();
    repo.write("notes.txt", "uncommitted human work\n");
    repo.write("README.md", "# project\n\nA human is editing this.\n");
    repo.git(&["add", "README.md"]);
    let head = repo.rev("HEAD");
    let status = repo.git(&["status", "--porcelain"]);
    let server = FakeOpenAi::start(vec![file_block("src/port.rs", GENERATED)]);
    implement(&repo, &server, &[".hybrid/specs/port.md"])
        .success()
        .stderr_has("on hybrid/add-port-parsing")
        .stderr_has("git hybrid review hybrid/add-port-parsing");
    // The user's HEAD, index and working tree are as they were.
    assert_eq!(repo.rev("HEAD"), head);
    assert_eq!(repo.git(&["status", "--porcelain"]), status);
    // The branch's commit adds the file, with the trailers.
    let files = repo.git(&["diff", "--name-only", "main", "hybrid/add-port-parsing"]);
    assert_eq!(files.trim(), "src/port.rs");
    assert_eq!(
        repo.git(&["show", "hybrid/add-port-parsing:src/port.rs"]),
        GENERATED
    );
    let message = repo.git(&["log", "-1", "--format=%B", "hybrid/add-port-parsing"]);
    for trailer in [
        "Hybrid-Generation: g-",
        "Hybrid-Model: qwen2.5-coder:7b",
        "Hybrid-Spec: .hybrid/specs/port.md",
    ] {
        assert!(message.contains(trailer), "{message}");
    }
    let trailers = repo.git(&[
        "log",
        "-1",
        "--format=%(trailers:key=Hybrid-Model,valueonly)",
        "hybrid/add-port-parsing",
    ]);
    assert_eq!(trailers.trim(), "qwen2.5-coder:7b");
    // The spec and the file it names went to the model.
    let request: serde_json::Value = serde_json::from_str(&server.requests()[0]).unwrap();
    let user = request["messages"][1]["content"].as_str().unwrap();
    assert!(
        user.contains("parse_port") && user.contains("=== src/lib.rs ==="),
        "{user}"
    );
    // pending lists it and the gate blocks it.
    repo.hybrid(&["pending"])
        .success()
        .stdout_has("hybrid/add-port-parsing")
        .stdout_has("qwen2.5-coder:7b");
    repo.git(&["stash", "-q", "-u"]);
    repo.try_git(&["merge", "--ff-only", "hybrid/add-port-parsing"])
        .blocked_by("hybrid/add-port-parsing");
    assert_eq!(
        repo.count("SELECT COUNT(*) FROM usage WHERE phase = 'implement'"),
        1
    );
    assert_eq!(
        repo.count("SELECT COUNT(*) FROM generations WHERE spec_path = '.hybrid/specs/port.md'"),
        1
    );
    // Its record on refs/hybrid/records carries the parameters the model ran with.
    let listing = repo.git(&["ls-tree", "-r", "--name-only", "refs/hybrid/records"]);
    let file = listing
        .lines()
        .find(|f| f.starts_with("generations/"))
        .unwrap();
    let record: serde_json::Value =
        serde_json::from_str(&repo.git(&["show", &format!("refs/hybrid/records:{file}")])).unwrap();
    assert!(record["params"].is_object(), "{record}");
    assert_eq!(record["spec_path"], ".hybrid/specs/port.md");
    // Implementing the same spec again makes a second branch, not a clash.
    implement(&repo, &server, &[".hybrid/specs/port.md"])
        .success()
        .stderr_has("hybrid/add-port-parsing-2");
}

#[test]
fn a_malformed_answer_is_repaired_by_asking_again() {
    let repo = spec_repo();
    let server = FakeOpenAi::start(vec![
        "Sure, you should write a function that parses ports.".into(),
        "<<<<<<< EDIT src/lib.rs\npub fn sub(a: i32) {}\n=======\nx\n>>>>>>> END\n".into(),
        file_block("src/port.rs", GENERATED),
    ]);
    implement(&repo, &server, &[".hybrid/specs/port.md"])
        .success()
        .stderr_has("in 3 attempts");
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    let second: serde_json::Value = serde_json::from_str(&requests[1]).unwrap();
    let said = second["messages"][3]["content"].as_str().unwrap();
    assert!(said.contains("no FILE or EDIT block"), "{said}");
    let third: serde_json::Value = serde_json::from_str(&requests[2]).unwrap();
    let said = third["messages"][5]["content"].as_str().unwrap();
    assert!(said.contains("does not occur in src/lib.rs"), "{said}");
    // A greedy first answer; the retries sample, seeded by the attempt.
    let first: serde_json::Value = serde_json::from_str(&requests[0]).unwrap();
    assert_eq!(first["temperature"], 0.0);
    assert_eq!(second["temperature"], 0.8f32 as f64);
    assert_eq!(
        (second["seed"].as_u64(), third["seed"].as_u64()),
        (Some(44), Some(45))
    );
}

#[test]
fn failures_leave_nothing_behind() {
    let repo = spec_repo();
    let no_branches = |repo: &TestRepo| {
        assert_eq!(repo.git(&["branch", "--list", "hybrid/*"]), "");
        assert_eq!(repo.count("SELECT COUNT(*) FROM generations"), 0);
    };
    // An answer that never parses.
    let server = FakeOpenAi::start(vec!["I cannot do that.".into()]);
    implement(&repo, &server, &[".hybrid/specs/port.md"])
        .failure()
        .stderr_has("could not be used after 3 attempts")
        .stderr_has("nothing was written");
    no_branches(&repo);
    // Every answer is in the ledger, used or not.
    assert_eq!(
        repo.count("SELECT COUNT(*) FROM usage WHERE phase = 'implement' AND provider = 'openai' AND ok = 0"),
        3
    );
    // Specs that cannot be used.
    repo.write("empty.md", "  \n\n");
    repo.write("binary.md", [0xffu8, 0xfe, 0x00, 0x41]);
    for (spec, says) in [
        ("missing.md", "cannot read the spec missing.md"),
        ("empty.md", "is empty"),
        ("binary.md", "not UTF-8"),
        ("/etc/hostname", "outside the repository"),
    ] {
        implement(&repo, &server, &[spec])
            .failure()
            .stderr_has(says);
    }
    // A branch that is not a quarantine branch, a server that does not know the model.
    implement(
        &repo,
        &server,
        &[".hybrid/specs/port.md", "--branch", "feature"],
    )
    .failure()
    .stderr_has("not a quarantine branch");
    let mut cmd = repo.command("git");
    cmd.args([
        "hybrid",
        "implement",
        ".hybrid/specs/port.md",
        "--backend",
        "openai",
        "--model",
        "missing-model",
    ])
    .env("GIT_HYBRID_OPENAI_BASE_URL", &server.url);
    repo.run(cmd)
        .failure()
        .stderr_has("not found")
        .stderr_has("--model");
    // An unknown backend is a usage error.
    let run = repo.hybrid(&[
        "implement",
        ".hybrid/specs/port.md",
        "--backend",
        "gpt-cloud",
    ]);
    assert_eq!(run.code(), Some(2), "{}", run.stderr());
    no_branches(&repo);
}

#[test]
fn vague_specs_are_linted_and_refused_unless_forced() {
    let repo = TestRepo::new();
    repo.write(
        ".hybrid/specs/auth.md",
        "# Auth\n\nImplement user authentication.\n\n## Requirements\n\n- make it secure\n",
    );
    repo.write(".hybrid/specs/good.md", SPEC);
    let run = repo.hybrid(&["spec", "lint", ".hybrid/specs/auth.md"]);
    assert_eq!(run.code(), Some(1));
    let problems: Vec<String> = run
        .stdout()
        .lines()
        .filter(|l| l.starts_with(".hybrid/specs/auth.md: "))
        .map(str::to_string)
        .collect();
    assert_eq!(problems.len(), 4, "{problems:?}");
    repo.hybrid(&["spec", "lint", ".hybrid/specs/good.md"])
        .success()
        .stdout_has(": ok");
    repo.hybrid(&["spec", "lint", "missing.md"])
        .failure()
        .stderr_has("cannot read the spec");
    repo.write("big.md", "word ".repeat(60_000));
    repo.hybrid(&["spec", "lint", "big.md"])
        .failure()
        .stdout_has("split it");

    let server = FakeOpenAi::start(vec![file_block("src/auth.rs", GENERATED)]);
    implement(&repo, &server, &[".hybrid/specs/auth.md"])
        .failure()
        .stderr_has("too vague for a local model")
        .stderr_has("--force");
    assert!(
        server.requests().is_empty(),
        "nothing was sent to the model"
    );
    implement(
        &repo,
        &server,
        &[
            ".hybrid/specs/auth.md",
            "--force",
            "--branch",
            "hybrid/auth",
            "--route",
            "local",
        ],
    )
    .success()
    .stderr_has("route: local model (--route local)");
}

/// A repository tunes routing in its committed policy: here its own word keeps a task local that
/// the built-in table would send to Claude.
#[test]
fn routing_rules_come_from_the_policy() {
    let repo = TestRepo::new();
    repo.write(
        ".hybrid.toml",
        "[route]\nlocal = [\"session banner\"]\nmax_local_files = 5\n",
    );
    repo.write(
        ".hybrid/specs/banner.md",
        "# Session banner\n\nCreate src/banner.rs with `fn session_banner(user: &str) -> String` shown after authentication.\n\n## Tests\n\n- `session_banner(\"ada\")` returns `\"Welcome, ada\"`\n",
    );
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "policy and spec"]);
    let server = FakeOpenAi::start(vec![file_block("src/banner.rs", GENERATED)]);
    // The answer is no banner: this is about the route, not the spec's examples.
    implement(&repo, &server, &[".hybrid/specs/banner.md", "--no-check"])
        .success()
        .stderr_has(
            "route: local model (local model's kind of work: this repository's local words)",
        );
}

/// The engine can be set once, in git config or the committed policy, like the reviewer model:
/// flags beat the environment, which beats git config, which beats `.hybrid.toml`.
#[test]
fn the_engine_comes_from_git_config_and_the_policy() {
    let repo = spec_repo();
    let server = FakeOpenAi::start(vec![
        file_block("src/port.rs", GENERATED),
        file_block("src/port.rs", GENERATED),
    ]);
    repo.write(
        ".hybrid.toml",
        format!(
            "[implement]\nbackend = \"openai\"\nbase_url = \"{}\"\n",
            server.url
        ),
    );
    repo.git(&["add", ".hybrid.toml"]);
    repo.git(&["commit", "-q", "-m", "policy: the team's engine"]);
    repo.git(&["config", "hybrid.implementModel", "qwen-from-config"]);
    repo.hybrid(&["implement", ".hybrid/specs/port.md"])
        .success()
        .stderr_has("on hybrid/add-port-parsing");
    let asked: serde_json::Value = serde_json::from_str(&server.requests()[0]).unwrap();
    assert_eq!(asked["model"], "qwen-from-config");
    // A flag wins over both.
    let run = repo.hybrid(&[
        "implement",
        ".hybrid/specs/port.md",
        "--branch",
        "hybrid/second",
        "--model",
        "qwen-from-flag",
        "--json",
    ]);
    run.success();
    let done: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(
        (done["version"].as_u64(), done["branch"].as_str()),
        (Some(1), Some("hybrid/second"))
    );
    assert_eq!(done["files"][0], "src/port.rs");
    let asked: serde_json::Value = serde_json::from_str(&server.requests()[1]).unwrap();
    assert_eq!(asked["model"], "qwen-from-flag");
    // A backend nobody knows is a clear error.
    repo.git(&["config", "hybrid.implementBackend", "magic"]);
    repo.hybrid(&[
        "implement",
        ".hybrid/specs/port.md",
        "--branch",
        "hybrid/third",
    ])
    .failure()
    .stderr_has("\"magic\" is not a backend");
}

const LIB: &str = "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n";
const SUB_SPEC: &str = "# Add sub\n\nIn `src/lib.rs`, add `pub fn sub(a: i32, b: i32) -> i32` returning `a - b`.\n\n## Tests\n\n- `sub(5, 3)` returns `2`\n";

fn sub_repo() -> TestRepo {
    TestRepo::with_spec(".hybrid/specs/sub.md", SUB_SPEC)
}

fn with_sub(body: &str) -> String {
    file_block(
        "src/lib.rs",
        &format!("{LIB}\npub fn sub(a: i32, b: i32) -> i32 {{\n    {body}\n}}\n"),
    )
}

/// `src/lib.rs` as the answer left it on the spec's branch.
fn sub_lib(repo: &TestRepo) -> String {
    repo.git(&["show", "hybrid/add-sub:src/lib.rs"])
}

/// The request's feedback message after answer `n` (1-based): the last user message of the
/// request that followed it.
fn feedback(server: &FakeOpenAi, n: usize) -> String {
    let request: serde_json::Value = serde_json::from_str(&server.requests()[n]).unwrap();
    let messages = request["messages"].as_array().unwrap();
    messages.last().unwrap()["content"]
        .as_str()
        .unwrap()
        .to_string()
}

/// An answer that changes nothing is asked again; one that leaves out what the file defined is
/// given it back from the file as it was, byte for byte, and committed.
#[test]
fn answers_that_change_nothing_are_asked_again_and_dropped_definitions_restored() {
    let repo = sub_repo();
    let server = FakeOpenAi::start(vec![
        file_block("src/lib.rs", LIB),
        file_block(
            "src/lib.rs",
            "pub fn sub(a: i32, b: i32) -> i32 {\n    a - b\n}\n",
        ),
    ]);
    implement(&repo, &server, &[".hybrid/specs/sub.md"])
        .success()
        .stderr_has("in 2 attempts");
    let said = feedback(&server, 1);
    assert!(said.contains("changes no file"), "{said}");
    let lib = sub_lib(&repo);
    assert!(
        lib.starts_with(
            "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n\npub fn sub(a: i32, b: i32) -> i32 {\n    a - b\n}"
        ),
        "{lib}"
    );

    // Never anything but the same file: nothing is created, and the reason is said.
    let server = FakeOpenAi::start(vec![file_block("src/lib.rs", LIB)]);
    implement(
        &repo,
        &server,
        &[".hybrid/specs/sub.md", "--branch", "hybrid/none"],
    )
    .failure()
    .stderr_has("could not be used after 3 attempts: the answer changes no file");
    assert_eq!(repo.git(&["branch", "--list", "hybrid/none"]), "");
}

#[test]
fn a_single_fenced_block_is_the_one_file_the_spec_names() {
    let repo = sub_repo();
    let fenced = format!(
        "Here is the file:\n```rust\n{LIB}\npub fn sub(a: i32, b: i32) -> i32 {{\n    a - b\n}}\n```\n"
    );
    let server = FakeOpenAi::start(vec![fenced]);
    implement(&repo, &server, &[".hybrid/specs/sub.md"])
        .success()
        .stderr_has("in 1 attempt");
    assert!(sub_lib(&repo).contains("a - b"));
}

/// The check runs on each answer in a copy of the tree; its failure goes back to the model, and
/// what it said is kept with the generation, shown by `pending`, `show`, `--json` and told to
/// the reviewer.
#[test]
fn the_check_loop_feeds_failures_back_until_the_check_passes() {
    use crate::support::anthropic::{FakeAnthropic, Reply};
    let repo = sub_repo();
    repo.write("scratch.txt", "the user's uncommitted work\n");
    let status = repo.git(&["status", "--porcelain"]);
    let check = "grep -q 'a - b' src/lib.rs || { echo \"sub is wrong in $(pwd)\"; exit 1; }";
    let server = FakeOpenAi::start(vec![with_sub("a + b"), with_sub("a - b")]);
    let run = implement(
        &repo,
        &server,
        &[".hybrid/specs/sub.md", "--check", check, "--json"],
    );
    run.success().stderr_has("passed (exit 0) after 2 runs");
    let said = feedback(&server, 1);
    assert!(
        said.contains("failed the check `grep") && said.contains("sub is wrong in"),
        "{said}"
    );
    // Never in the user's worktree.
    assert!(!said.contains(repo.dir.to_str().unwrap()), "{said}");
    assert_eq!(repo.git(&["status", "--porcelain"]), status);
    let json: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(json["check"]["state"], "passed");
    assert_eq!(json["check"]["runs"], 2);
    assert_eq!(
        repo.count("SELECT COUNT(*) FROM generations WHERE check_passed = 1 AND check_runs = 2"),
        1
    );
    repo.hybrid(&["pending"])
        .success()
        .stdout_has("check passed");
    repo.hybrid(&["show", "hybrid/add-sub"])
        .success()
        .stdout_has("passed (exit 0) after 2 runs");
    let message = repo.git(&["log", "-1", "--format=%B", "hybrid/add-sub"]);
    assert!(message.contains("Check: `grep"), "{message}");
    // The reviewer is told the check ran.
    let api = FakeAnthropic::start(vec![Reply::Approve]);
    repo.review(&api, &["hybrid/add-sub"]).success();
    let body = &api.answered()[0].body;
    assert!(body.contains("ran the check `grep"), "{body}");
}

#[test]
fn a_check_that_still_fails_leaves_the_branch_and_fails() {
    let repo = sub_repo();
    let server = FakeOpenAi::start(vec![with_sub("a + b")]);
    let run = implement(
        &repo,
        &server,
        &[
            ".hybrid/specs/sub.md",
            "--check",
            "echo still wrong; exit 4",
            "--check-rounds",
            "1",
        ],
    );
    run.failure()
        .stderr_has("failed (exit 4) after 2 runs")
        .stderr_has("still wrong")
        .stderr_has("its check still fails");
    assert_eq!(server.requests().len(), 2);
    // The branch exists, recorded as local output (the gate knows it), its check failed.
    repo.rev("hybrid/add-sub");
    assert_eq!(
        repo.count(
            "SELECT COUNT(*) FROM generations WHERE check_passed = 0 AND check_status = 'exit 4'"
        ),
        1
    );
    repo.hybrid(&["pending"])
        .success()
        .stdout_has("check failed");

    // A check that hangs is killed at its timeout.
    let server = FakeOpenAi::start(vec![with_sub("a - b")]);
    implement(
        &repo,
        &server,
        &[
            ".hybrid/specs/sub.md",
            "--branch",
            "hybrid/slow",
            "--check",
            "sleep 60",
            "--check-timeout",
            "1",
            "--check-rounds",
            "0",
        ],
    )
    .failure()
    .stderr_has("killed after 1 s");
}

/// With no check set, the spec's own examples are one: an answer that contradicts them is
/// asked again with the example it broke, in Rust (compiled with rustc) and in Python.
#[test]
fn the_specs_examples_are_the_check_when_none_is_set() {
    let repo = sub_repo();
    let server = FakeOpenAi::start(vec![with_sub("a + b"), with_sub("a - b")]);
    implement(&repo, &server, &[".hybrid/specs/sub.md"])
        .success()
        .stderr_has("check: the spec's examples (1 case, rustc), run on each answer")
        .stderr_has("passed (exit 0) after 2 runs");
    let said = feedback(&server, 1);
    assert!(
        said.contains("the spec says `sub(5, 3)` returns `2`, but it returned 8"),
        "{said}"
    );

    let spec = "# Money\n\nIn `money.py`, add `def cents(text: str) -> int`.\n\n## Tests\n\n- `cents(\"1.25\")` returns `125`\n- `cents(\"x\")` raises `ValueError`\n";
    let repo = TestRepo::with_spec(".hybrid/specs/money.md", spec);
    let wrong = file_block(
        "money.py",
        "def cents(text):\n    try:\n        return int(float(text) * 100)\n    except ValueError:\n        return 0\n",
    );
    let right = file_block(
        "money.py",
        "def cents(text):\n    whole, _, part = text.partition('.')\n    if not (whole + part).isdigit():\n        raise ValueError(text)\n    return int(whole) * 100 + int(part.ljust(2, '0'))\n",
    );
    let server = FakeOpenAi::start(vec![wrong, right]);
    implement(&repo, &server, &[".hybrid/specs/money.md"])
        .success()
        .stderr_has("check: the spec's examples (2 cases, python3)");
    let said = feedback(&server, 1);
    assert!(
        said.contains(
            "FAILED: the spec says `cents(\"x\")` raises `ValueError`, but it returned 0"
        ),
        "{said}"
    );
    // The spec's examples are asked four more answers by default (they run in a second), a
    // check you set two; a number set says how many for both.
    let repo = sub_repo();
    for (branch, extra, runs) in [
        ("hybrid/a", &[][..], "failed (exit 101) after 5 runs"),
        (
            "hybrid/b",
            &["--check", "exit 3"][..],
            "failed (exit 3) after 3 runs",
        ),
        (
            "hybrid/c",
            &["--check-rounds", "1"][..],
            "failed (exit 101) after 2 runs",
        ),
    ] {
        let server = FakeOpenAi::start(vec![with_sub("a + b")]);
        let mut args = vec![".hybrid/specs/sub.md", "--branch", branch];
        args.extend_from_slice(extra);
        implement(&repo, &server, &args).failure().stderr_has(runs);
    }
    // --no-check runs none.
    let server = FakeOpenAi::start(vec![with_sub("a + b")]);
    let repo = sub_repo();
    implement(&repo, &server, &[".hybrid/specs/sub.md", "--no-check"])
        .success()
        .stderr_lacks("check");
}

/// Tests an answer writes are run on the code they test, and must be able to fail: a file
/// whose test function the spec's own command (`python3 test_calc.py`) never calls checks
/// nothing, and the model is asked again, told so; so does one that leaves out the case the spec
/// lists; a file that checks that case passes.
#[test]
fn tests_an_answer_writes_must_run_and_be_able_to_fail() {
    let spec = "# Test double\n\nWrite tests for `double` in `calc.py`.\n\n## Files\n\n- create `test_calc.py` (leave `calc.py` as it is)\n\n## Requirements\n\n- `test_calc.py` is a script run as `python3 test_calc.py`, with plain `assert` statements\n\n## Tests\n\n- `double(2)` returns `4`\n";
    let repo = TestRepo::with_spec(".hybrid/specs/tests.md", spec);
    repo.write("calc.py", "def double(n):\n    return n * 2\n");
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "calc"]);
    let never_called = file_block(
        "test_calc.py",
        "from calc import double\n\n\ndef test_double():\n    assert double(3) == 6\n",
    );
    let wrong = file_block(
        "test_calc.py",
        "from calc import double\n\nassert double(3) == 9\n",
    );
    // Right, but not the case the spec lists: tests asked for alone must check that one.
    let other_case = file_block(
        "test_calc.py",
        "from calc import double\n\nassert double(3) == 6\n",
    );
    let right = file_block(
        "test_calc.py",
        "from calc import double\n\nassert double(2) == 4\nassert double(3) == 6\n",
    );
    let server = FakeOpenAi::start(vec![never_called, wrong, other_case, right]);
    implement(&repo, &server, &[".hybrid/specs/tests.md"])
        .success()
        .stderr_has("check: the spec's examples (1 case) and tests (test_calc.py, python3)")
        .stderr_has("passed (exit 0) after 4 runs");
    let said = feedback(&server, 1);
    assert!(
        said.contains("test_calc.py passed on every broken version of the code it tests")
            && said.contains("a test function it only defines never runs"),
        "{said}"
    );
    let said = feedback(&server, 2);
    assert!(
        said.contains("FAILED: running test_calc.py raised AssertionError"),
        "{said}"
    );
    let said = feedback(&server, 3);
    assert!(
        said.contains(
            "FAILED: the spec lists `double(2)` returns `4`, and no test file uses 2: write a test for that case"
        ),
        "{said}"
    );
    assert_eq!(
        repo.git(&["show", "hybrid/test-double:test_calc.py"]),
        "from calc import double\n\nassert double(2) == 4\nassert double(3) == 6\n"
    );
}

/// Which specs hold their tests to the cases they list, decided from the files they write:
/// test files alone (a conftest.py among them) are held; a spec that writes code too is not.
#[test]
fn only_specs_that_write_tests_alone_hold_them_to_their_cases() {
    let spec = |files: &str| {
        format!(
            "# Test double\n\nWrite tests for `double` in `calc.py`.\n\n## Files\n\n{files}- leave `calc.py` as it is\n\n## Signatures\n\n- `def double(n: int) -> int`\n\n## Tests\n\n- `double(2)` returns `4`\n"
        )
    };
    let tests_alone = spec("- create `test_calc.py`\n- create `conftest.py`\n");
    let repo = TestRepo::with_spec(".hybrid/specs/tests.md", &tests_alone);
    repo.write("calc.py", "def double(n):\n    return n * 2\n");
    repo.write("conftest.py", "");
    repo.write(
        "test_calc.py",
        "from calc import double\n\nassert double(3) == 6\n",
    );
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "calc"]);
    repo.hybrid(&["spec", "check", ".hybrid/specs/tests.md"])
        .failure()
        .stdout_has("FAILED: the spec lists `double(2)` returns `4`, and no test file uses 2");
    // A file named like a conftest is code, not fixtures: a spec that writes one is not held.
    repo.write(
        ".hybrid/specs/tests.md",
        spec("- create `test_calc.py`\n- create `myconftest.py`\n"),
    );
    repo.write("myconftest.py", "");
    repo.hybrid(&["spec", "check", ".hybrid/specs/tests.md"])
        .success();
    repo.write(
        ".hybrid/specs/tests.md",
        spec("- create `test_calc.py`\n- create `helpers.py`\n"),
    );
    repo.write("helpers.py", "def triple(n):\n    return n * 3\n");
    repo.hybrid(&["spec", "check", ".hybrid/specs/tests.md"])
        .success()
        .stdout_has("test_calc.py: passed");
}

/// `spec check` runs the check `implement` would make of the spec's examples on the working
/// tree's copy of the files it names — a method on a new object included — and says so.
#[test]
fn spec_check_runs_the_specs_examples_on_the_working_tree() {
    let spec = "# Stock\n\nIn `stock.py`, add `class Stock`.\n\n## Requirements\n\n- `count(name: str) -> int` returns `0` for a name never added\n\n## Tests\n\n- `count(\"apple\")` on a new `Stock()` returns `0`\n";
    let repo = TestRepo::with_spec(".hybrid/specs/stock.md", spec);
    let check = |args: &[&str]| {
        let mut all = vec!["spec", "check", ".hybrid/specs/stock.md"];
        all.extend_from_slice(args);
        repo.hybrid(&all)
    };
    // Not written yet: importing fails, and the working tree stays as it was.
    check(&[])
        .failure()
        .stdout_has("importing stock.py failed")
        .stdout_has("the spec's examples (1 case, python3): failed (exit 1)");
    repo.write(
        "stock.py",
        "class Stock:\n    def count(self, name):\n        return 1\n",
    );
    check(&[])
        .failure()
        .stdout_has("the spec says `Stock().count(\"apple\")` returns `0`, but it returned 1");
    repo.write(
        "stock.py",
        "class Stock:\n    def count(self, name):\n        return 0\n",
    );
    check(&[]).success().stdout_has(": passed");
    let json: serde_json::Value =
        serde_json::from_str(&check(&["--json"]).success().stdout()).unwrap();
    assert_eq!(json["passed"], true, "{json}");
    assert_eq!(json["check"], "the spec's examples (1 case, python3)");
    check(&["--show"]).success().stdout_has("Stock().count(");
    // On an unborn branch the files are checked over nothing.
    repo.git(&["checkout", "-q", "--orphan", "fresh"]);
    check(&[]).success().stdout_has(": passed");
    // Nothing is written in the working tree (bytecode, a compiled test, a scratch file would
    // show as untracked).
    let status = repo.git(&["status", "--porcelain", "--untracked-files=all"]);
    check(&[]).success();
    assert_eq!(
        repo.git(&["status", "--porcelain", "--untracked-files=all"]),
        status
    );
    // A named file that is not UTF-8 text is not taken from the working tree, and it says so.
    repo.write("stock.py", b"\xff\xfe not text\n");
    let json: serde_json::Value =
        serde_json::from_str(&check(&["--json"]).failure().stdout()).unwrap();
    assert_eq!(json["not_read"], serde_json::json!(["stock.py"]), "{json}");
    check(&[])
        .failure()
        .stderr_has("stock.py: not read from the working tree");
    repo.write(
        "stock.py",
        "class Stock:\n    def count(self, name):\n        return 0\n",
    );
    // A path that climbs out of the tree is never read, nor written into the checked copy
    // (it would land outside it).
    repo.write(
        ".hybrid/specs/out.md",
        "# Out\n\nIn `../../escape.py`, add `def f(x: int) -> int`.\n\n## Tests\n\n- `f(1)` returns `1`\n",
    );
    let run = repo.hybrid(&["spec", "check", ".hybrid/specs/out.md", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&run.failure().stdout()).unwrap();
    let not_read = json["not_read"].as_array().unwrap();
    assert!(
        not_read.len() == 1 && not_read[0].as_str().unwrap().ends_with("../escape.py"),
        "{json}"
    );
    // A spec without examples: nothing to run, and what to do.
    repo.write(
        ".hybrid/specs/none.md",
        "# None\n\nIn `stock.py`, tidy up.\n",
    );
    repo.hybrid(&["spec", "check", ".hybrid/specs/none.md"])
        .failure()
        .stderr_has("has no examples a check can be made of")
        .stderr_has("Tests section");
}

/// A method answered without its `impl` goes into the one it belongs to, and a Rust example
/// whose call borrows from a temporary (`Stack::new(2).peek()`) compiles as the spec wrote it.
#[test]
fn a_method_answered_alone_is_merged_into_its_impl_and_checked_by_the_spec() {
    let spec = "# Peek\n\nIn `src/lib.rs`, add `pub fn peek(&self) -> Option<&T>` to `impl<T> Stack<T>`: the top item, `None` when empty.\n\n## Tests\n\n- `Stack::<i32>::new().peek()` returns `None`\n";
    let repo = TestRepo::with_spec(".hybrid/specs/peek.md", spec);
    let stack = "pub struct Stack<T> {\n    items: Vec<T>,\n}\n\nimpl<T> Stack<T> {\n    pub fn new() -> Self {\n        Stack { items: Vec::new() }\n    }\n}\n";
    repo.write("src/lib.rs", stack);
    repo.git(&["add", "src/lib.rs"]);
    repo.commit_unhooked("stack");
    let server = FakeOpenAi::start(vec![file_block(
        "src/lib.rs",
        "pub fn peek(&self) -> Option<&T> {\n    self.items.last()\n}\n",
    )]);
    implement(
        &repo,
        &server,
        &[".hybrid/specs/peek.md", "--edit-format", "merge"],
    )
    .success()
    .stderr_has("passed (exit 0) after 1 run");
    assert_eq!(
        repo.git(&["show", "hybrid/peek:src/lib.rs"]),
        "pub struct Stack<T> {\n    items: Vec<T>,\n}\n\nimpl<T> Stack<T> {\n    pub fn new() -> Self {\n        Stack { items: Vec::new() }\n    }\n\n    pub fn peek(&self) -> Option<&T> {\n        self.items.last()\n    }\n}\n"
    );
}

/// A code block as long as the grammar's line limit was closed by the grammar: from a server
/// that was sent the grammar it is refused as cut, though it parses and passes the check; a
/// server that enforces a JSON schema has no line limit, and the same answer stands.
#[test]
fn a_block_at_the_grammars_line_limit_is_cut_only_where_the_grammar_applied() {
    // --max-tokens 200: 10 lines an answer, at 20 tokens a line.
    let at_limit = file_block(
        "src/lib.rs",
        &format!(
            "{LIB}\npub fn sub(a: i32, b: i32) -> i32 {{\n    a - b\n}}\n// one\n// two\n// three\n"
        ),
    );
    let args = [".hybrid/specs/sub.md", "--max-tokens", "200"];
    let repo = sub_repo();
    let server = FakeOpenAi::start_as(vec![at_limit.clone(), with_sub("a - b")], "llamacpp", None);
    implement(&repo, &server, &args)
        .success()
        .stderr_has("in 2 attempts");
    let said = feedback(&server, 1);
    assert!(
        said.contains("a block for src/lib.rs was cut at the answer's line limit"),
        "{said}"
    );
    assert!(!sub_lib(&repo).contains("// three"));

    let repo = sub_repo();
    let server = FakeOpenAi::start_as(vec![at_limit], "ollama", None);
    implement(&repo, &server, &args)
        .success()
        .stderr_has("in 1 attempt");
    assert!(sub_lib(&repo).contains("// three"));
}

/// An answer that writes the same lines again and again is stopped at the third copy, told
/// what it repeated and asked again from the first prompt (the loop is not shown back); it is
/// never committed, on any kind of server.
#[test]
fn an_answer_that_loops_is_stopped_and_asked_again() {
    let looping = file_block(
        "src/lib.rs",
        &format!(
            "{LIB}\n{}",
            "pub fn sub(a: i32, b: i32) -> i32 {\n    a - b\n}\n".repeat(40)
        ),
    );
    // The same loop as a server held to a JSON schema writes it: its lines are `\n` escapes.
    let json_loop = serde_json::json!({
        "files": [{"path": "src/lib.rs", "content": format!(
            "{LIB}\n{}",
            "pub fn sub(a: i32, b: i32) -> i32 {\n    a - b\n}\n".repeat(40)
        )}],
        "edits": [],
    })
    .to_string();
    for (kind, looping) in [
        ("llamacpp", looping.clone()),
        ("ollama", looping),
        ("ollama", json_loop),
    ] {
        let repo = sub_repo();
        let server = FakeOpenAi::start_as(vec![looping, with_sub("a - b")], kind, None);
        implement(&repo, &server, &[".hybrid/specs/sub.md"])
            .success()
            .stderr_has("in 2 attempts");
        let said = feedback(&server, 1);
        assert!(
            said.contains("the answer wrote the same 3 lines again and again (from `pub fn sub(a: i32, b: i32) -> i32 {`)"),
            "{kind}: {said}"
        );
        let second: serde_json::Value = serde_json::from_str(&server.requests()[1]).unwrap();
        assert!(
            !second.to_string().contains("a - b\\n}\\npub fn sub"),
            "{kind}: the loop was shown back"
        );
        let lib = sub_lib(&repo);
        assert_eq!(lib.matches("pub fn sub").count(), 1, "{kind}: {lib}");
    }
}

/// The committed policy's `[implement] check` runs without a flag; `--no-check` skips it.
#[test]
fn the_policy_names_the_check() {
    let repo = sub_repo();
    repo.write(
        ".hybrid.toml",
        "[implement]\ncheck = \"grep -q 'a - b' src/lib.rs\"\ncheck_rounds = 0\n",
    );
    repo.git(&["add", ".hybrid.toml"]);
    repo.git(&["commit", "-q", "-m", "policy: check"]);
    let server = FakeOpenAi::start(vec![with_sub("a * b")]);
    implement(&repo, &server, &[".hybrid/specs/sub.md"])
        .failure()
        .stderr_has("its check still fails");
    let server = FakeOpenAi::start(vec![with_sub("a * b")]);
    implement(
        &repo,
        &server,
        &[
            ".hybrid/specs/sub.md",
            "--branch",
            "hybrid/plain",
            "--no-check",
        ],
    )
    .success()
    .stderr_lacks("check");
}

/// The edit format reaches each kind of server in the form it enforces — a GBNF `grammar` for
/// llama.cpp's servers, vLLM's guided decoding, OpenAI-style `response_format` otherwise — with
/// the sampling settings; a server that refuses the field is asked again without it.
#[test]
fn the_answer_shape_goes_in_the_form_each_server_takes() {
    use crate::support::openai::FakeOpenAi;
    let repo = sub_repo();
    // A small file is rewritten whole (the schema offers no edits of it).
    let json_answer = serde_json::json!({
        "files": [{"path": "src/lib.rs", "content": format!("{LIB}\npub fn sub(a: i32, b: i32) -> i32 {{\n    a - b\n}}\n")}],
        "edits": [],
    })
    .to_string();
    let cases: [(&str, Option<&str>, String, &str); 4] = [
        ("llamacpp", None, with_sub("a - b"), "grammar"),
        ("vllm", None, json_answer.clone(), "guided_json"),
        (
            "organization-owner",
            None,
            json_answer.clone(),
            "response_format",
        ),
        (
            "organization-owner",
            Some("response_format"),
            with_sub("a - b"),
            "response_format",
        ),
    ];
    for (i, (owned_by, refuses, answer, field)) in cases.into_iter().enumerate() {
        let server = FakeOpenAi::start_as(vec![answer], owned_by, refuses);
        let branch = format!("hybrid/shape-{i}");
        implement(
            &repo,
            &server,
            &[
                ".hybrid/specs/sub.md",
                "--branch",
                &branch,
                "--max-tokens",
                "700",
                "--seed",
                "7",
            ],
        )
        .success();
        let first: serde_json::Value = serde_json::from_str(&server.requests()[0]).unwrap();
        assert!(!first[field].is_null(), "{owned_by}: {first}");
        assert_eq!(first["max_tokens"], 700);
        assert_eq!(first["seed"], 7);
        assert_eq!(first["temperature"], 0.0);
        match field {
            "grammar" => assert!(
                first["grammar"]
                    .as_str()
                    .unwrap()
                    .contains("\"src/lib.rs\"")
            ),
            "guided_json" => assert_eq!(
                first["guided_json"]["properties"]["files"]["items"]["properties"]["path"]["enum"]
                    [0],
                "src/lib.rs"
            ),
            _ => {
                assert_eq!(first["response_format"]["json_schema"]["strict"], true);
                let system = first["messages"][0]["content"].as_str().unwrap();
                assert!(system.contains("Answer with one JSON object"), "{system}");
            }
        }
        if refuses.is_some() {
            // Refused once, then sent without the shape, and never again with it.
            let requests = server.requests();
            assert_eq!(requests.len(), 2);
            let second: serde_json::Value = serde_json::from_str(&requests[1]).unwrap();
            assert!(second["response_format"].is_null());
        }
        let lib = repo.git(&["show", &format!("{branch}:src/lib.rs")]);
        assert!(
            lib.contains("pub fn add") && lib.contains("a - b"),
            "{owned_by}: {lib}"
        );
    }
    // `none` sends no shape at all.
    let server = FakeOpenAi::start_as(vec![with_sub("a - b")], "llamacpp", None);
    let mut cmd = repo.command("git");
    cmd.args([
        "hybrid",
        "implement",
        ".hybrid/specs/sub.md",
        "--branch",
        "hybrid/free",
    ])
    .args(["--backend", "openai", "--model", "m"])
    .env("GIT_HYBRID_OPENAI_BASE_URL", &server.url)
    .env("GIT_HYBRID_CONSTRAIN", "none");
    repo.run(cmd).success();
    let first: serde_json::Value = serde_json::from_str(&server.requests()[0]).unwrap();
    assert!(first["grammar"].is_null() && first["response_format"].is_null());
}

/// Nothing that cannot run reaches a branch, and nothing the spec did not list: a file cut off
/// mid-block, and an answer that rewrites a file the spec only mentions, are each sent back with
/// why; the answer that parses and keeps to the listed files is the one committed.
#[test]
fn broken_or_unlisted_files_are_never_committed() {
    let spec = "# Add port parsing\n\n## Files to touch\n\n- create src/port.rs\n\n## Context\n\nLike `add` in src/lib.rs.\n\n## Signatures\n\n`pub fn parse_port(value: &str) -> Result<u16, String>`\n\n## Tests\n\n- `parse_port(\"80\")` returns `Ok(80)`\n";
    let repo = TestRepo::with_spec(".hybrid/specs/port.md", spec);
    let cut = "pub fn parse_port(value: &str) -> Result<u16, String> {\n    let trimmed = value.trim();\n    if trimmed.is_empty() {\n";
    let server = FakeOpenAi::start(vec![
        file_block("src/port.rs", cut),
        format!(
            "{}{}",
            file_block("src/port.rs", GENERATED),
            file_block(
                "src/lib.rs",
                "pub fn add(a: i32, b: i32) -> i32 { a - b }\n"
            )
        ),
        file_block("src/port.rs", GENERATED),
    ]);
    implement(
        &repo,
        &server,
        &[".hybrid/specs/port.md", "--max-tokens", "400"],
    )
    .success()
    .stderr_has("in 3 attempts");
    let said: Vec<String> = server
        .requests()
        .iter()
        .skip(1)
        .map(|r| {
            let v: serde_json::Value = serde_json::from_str(r).unwrap();
            v["messages"].as_array().unwrap().last().unwrap()["content"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(
        said[0].contains("src/port.rs does not parse at line "),
        "{}",
        said[0]
    );
    assert!(
        said[1].contains(
            "writes src/lib.rs, which is not among the files the spec lets it change (src/port.rs)"
        ),
        "{}",
        said[1]
    );
    assert_eq!(
        repo.git(&["diff", "--name-only", "main", "hybrid/add-port-parsing"])
            .trim(),
        "src/port.rs"
    );
    assert_eq!(
        repo.git(&["show", "hybrid/add-port-parsing:src/port.rs"]),
        GENERATED
    );
}

/// Asked to write tests for a module and to leave the module as it is, the model may write
/// only the test file: the grammar a server enforces names that file alone, and an answer that
/// rewrites the module anyway (a server without the grammar) is sent back, the module intact.
#[test]
fn a_file_the_spec_keeps_as_it_is_is_never_written() {
    use crate::support::openai::FakeOpenAi;
    let spec = "# Test slugify\n\nWrite tests for `slugify` in `slug.py`.\n\n## Files\n\n- create `test_slug.py` (leave `slug.py` as it is)\n\n## Tests\n\n- `slugify(\"A b\")` returns `\"a-b\"`\n";
    let repo = TestRepo::with_spec(".hybrid/specs/tests.md", spec);
    let module = "def slugify(text):\n    return '-'.join(text.lower().split())\n";
    repo.write("slug.py", module);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "slug"]);
    let tests = "from slug import slugify\n\nassert slugify(\"A b\") == \"a-b\"\n";
    let server = FakeOpenAi::start_as(
        vec![
            format!(
                "{}{}",
                file_block("test_slug.py", tests),
                file_block("slug.py", "def slugify(text):\n    return text\n")
            ),
            file_block("test_slug.py", tests),
        ],
        "llamacpp",
        None,
    );
    implement(
        &repo,
        &server,
        &[
            ".hybrid/specs/tests.md",
            "--branch",
            "hybrid/tests",
            "--no-check",
        ],
    )
    .success()
    .stderr_has("in 2 attempts");
    let request: serde_json::Value = serde_json::from_str(&server.requests()[0]).unwrap();
    let grammar = request["grammar"].as_str().unwrap();
    assert!(grammar.contains("\"test_slug.py\""), "{grammar}");
    assert!(!grammar.contains("\"slug.py\""), "{grammar}");
    assert!(
        feedback(&server, 1).contains(
            "writes slug.py, which is not among the files the spec lets it change (test_slug.py)"
        ),
        "{}",
        feedback(&server, 1)
    );
    assert_eq!(
        repo.git(&["diff", "--name-only", "main", "hybrid/tests"])
            .trim(),
        "test_slug.py"
    );
}

/// The edit format for existing files is a setting (`--edit-format`, `[implement]
/// edit_format`), and a retry asks for the other one when the first could not work: a whole
/// rewrite that changed nothing is asked as EDIT blocks, EDIT blocks that did not apply as the
/// whole file — once, in the grammar the server enforces and in words.
#[test]
fn a_retry_asks_for_the_other_edit_format_when_the_first_cannot_work() {
    use crate::support::openai::FakeOpenAi;
    let repo = sub_repo();
    let edit = format!(
        "<<<<<<< EDIT src/lib.rs\n{LIB}=======\n{LIB}\npub fn sub(a: i32, b: i32) -> i32 {{\n    a - b\n}}\n>>>>>>> END\n"
    );
    let grammar = |server: &FakeOpenAi, n: usize| -> String {
        let request: serde_json::Value = serde_json::from_str(&server.requests()[n]).unwrap();
        request["grammar"].as_str().unwrap().to_string()
    };
    // The small file is given whole; the copy that changes nothing brings EDIT blocks.
    let server = FakeOpenAi::start_as(vec![file_block("src/lib.rs", LIB), edit], "llamacpp", None);
    implement(&repo, &server, &[".hybrid/specs/sub.md"])
        .success()
        .stderr_has("in 2 attempts");
    let (first, second) = (grammar(&server, 0), grammar(&server, 1));
    assert!(first.contains("file-path ::= \"src/lib.rs\""), "{first}");
    assert!(!first.contains("edit-path"), "{first}");
    assert!(second.contains("edit-path ::= \"src/lib.rs\""), "{second}");
    assert!(!second.contains("file-path"), "{second}");
    let said = feedback(&server, 1);
    assert!(
        said.contains("changes no file")
            && said.contains("This time, change each existing file with EDIT blocks"),
        "{said}"
    );
    assert!(sub_lib(&repo).contains("a - b"));

    // Asked for EDIT blocks from the start; one that does not apply brings the whole file.
    let missed =
        "<<<<<<< EDIT src/lib.rs\npub fn add(x: i64) {\n=======\nfn nothing() {}\n>>>>>>> END\n";
    let server = FakeOpenAi::start_as(
        vec![missed.to_string(), with_sub("a - b")],
        "llamacpp",
        None,
    );
    implement(
        &repo,
        &server,
        &[
            ".hybrid/specs/sub.md",
            "--branch",
            "hybrid/edit-first",
            "--edit-format",
            "edit",
        ],
    )
    .success()
    .stderr_has("in 2 attempts");
    let (first, second) = (grammar(&server, 0), grammar(&server, 1));
    assert!(
        first.contains("edit-path ::= \"src/lib.rs\"") && !first.contains("file-path"),
        "{first}"
    );
    assert!(
        second.contains("file-path ::= \"src/lib.rs\"") && !second.contains("edit-path"),
        "{second}"
    );
    assert!(feedback(&server, 1).contains("This time, write each file in a FILE block"));

    // Only once: a model that fails both formats is not bounced between them.
    let server = FakeOpenAi::start_as(vec![file_block("src/lib.rs", LIB)], "llamacpp", None);
    implement(
        &repo,
        &server,
        &[".hybrid/specs/sub.md", "--branch", "hybrid/never"],
    )
    .failure()
    .stderr_has("could not be used after 3 attempts");
    assert!(grammar(&server, 2).contains("edit-path ::= \"src/lib.rs\""));
    assert!(!feedback(&server, 2).contains("This time"));

    // The setting is checked where it is used, and says where to fix it.
    repo.git(&["config", "hybrid.implementEditFormat", "patch"]);
    implement(
        &repo,
        &server,
        &[".hybrid/specs/sub.md", "--branch", "hybrid/bad"],
    )
    .failure()
    .stderr_has("\"patch\" is not an edit format (auto, whole, edit or merge)")
    .stderr_has("hybrid.implementEditFormat");
    repo.git(&["config", "--unset", "hybrid.implementEditFormat"]);
}

/// A file too long to rewrite within the answer's budget is merged under `--edit-format whole`:
/// the model is told to write only the definitions it adds or changes, and everything it leaves
/// out stays as it was.
#[test]
fn a_long_file_gets_only_the_definitions_the_answer_adds_merged_in() {
    use crate::support::openai::FakeOpenAi;
    let long: String = (0..45)
        .map(|i| format!("pub fn f{i}() -> i32 {{\n    {i}\n}}\n\n"))
        .collect();
    let repo = TestRepo::with_spec(".hybrid/specs/sub.md", SUB_SPEC);
    repo.write("src/lib.rs", &long);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "long lib"]);
    let server = FakeOpenAi::start_as(
        vec![file_block(
            "src/lib.rs",
            "pub fn sub(a: i32, b: i32) -> i32 {\n    a - b\n}\n",
        )],
        "llamacpp",
        None,
    );
    implement(
        &repo,
        &server,
        &[".hybrid/specs/sub.md", "--edit-format", "whole"],
    )
    .success()
    .stderr_has("in 1 attempt");
    let request: serde_json::Value = serde_json::from_str(&server.requests()[0]).unwrap();
    let grammar = request["grammar"].as_str().unwrap();
    assert!(
        grammar.contains("file-path ::= \"src/lib.rs\""),
        "{grammar}"
    );
    let asked = request["messages"][1]["content"].as_str().unwrap();
    assert!(
        asked.contains("src/lib.rs is too long to write whole: for it, answer a FILE block holding only the definitions you add or change"),
        "{asked}"
    );
    let lib = sub_lib(&repo);
    assert!(lib.starts_with(&long[..200]), "{lib}");
    assert!(
        lib.contains(
            "pub fn f44() -> i32 {\n    44\n}\n\npub fn sub(a: i32, b: i32) -> i32 {\n    a - b\n}"
        ),
        "{lib}"
    );
    assert_eq!(lib.matches("pub fn").count(), 46);
}
