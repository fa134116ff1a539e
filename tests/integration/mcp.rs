//! `git hybrid mcp` driven by the official MCP Python SDK over stdio (support/mcp_client.py):
//! the tools and their schemas, a spec linted and delegated to the real tiny model with progress,
//! a cancel that stops the job, show and verify, a review through the fake API — and the gate
//! between them: the branch stays off main until the review approved it. Fetch the client first:
//! scripts/fetch-mcp-client.sh (CI does).

use std::path::PathBuf;

use serde_json::Value;

use crate::embedded::{model_turn, with_test_model};
use crate::support::TestRepo;
use crate::support::anthropic::{self, FakeAnthropic, Reply};

/// The client's python, or `None` (after saying why) when the fetch script could not install
/// the package here.
fn client_python() -> Option<PathBuf> {
    let cache =
        PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/git-hybrid");
    if let Some(python) = std::env::var_os("GIT_HYBRID_MCP_PYTHON") {
        return Some(PathBuf::from(python));
    }
    let python = cache.join("mcp-client-2.3.0/bin/python");
    if python.is_file() {
        return Some(python);
    }
    if let Ok(why) = std::fs::read_to_string(cache.join("mcp-client.unavailable")) {
        eprintln!(
            "skipped: the MCP Python client is not installed here: {}",
            why.trim()
        );
        return None;
    }
    panic!(
        "{} is missing: run scripts/fetch-mcp-client.sh",
        python.display()
    );
}

/// Runs one scenario of the Python client against `repo` and returns what it saw.
fn scenario(python: &std::path::Path, repo: &TestRepo, name: &str, env: &[(&str, &str)]) -> Value {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/integration/support/mcp_client.py"
    );
    let mut cmd = repo.command(python.to_str().unwrap());
    cmd.arg(script).arg(name).arg(&repo.dir);
    cmd.envs(env.iter().copied());
    let run = repo.run(cmd);
    assert!(
        run.code() == Some(0),
        "scenario {name} failed:\n{}\n{}",
        run.stdout(),
        run.stderr()
    );
    serde_json::from_str(run.stdout().lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("scenario {name} printed no JSON ({e}): {}", run.stdout()))
}

#[test]
fn the_tools_describe_themselves_and_refuse_a_vague_spec() {
    let Some(python) = client_python() else {
        return;
    };
    let repo = TestRepo::new();
    let seen = scenario(&python, &repo, "tools", &[]);
    assert_eq!(seen["tools"].as_array().unwrap().len(), 9, "{seen}");
    // Nothing was delegated: the vague spec never reached a model or a branch.
    assert_eq!(repo.git(&["branch", "--list", "hybrid/*"]), "");
}

#[test]
fn claude_code_delegates_and_the_gate_still_holds_until_the_review() {
    let Some(python) = client_python() else {
        return;
    };
    let _turn = model_turn();
    let repo = with_test_model(TestRepo::new());
    let seen = scenario(&python, &repo, "delegate", &[]);
    assert!(
        seen["cancel_progress"].as_array().unwrap().len() <= 3,
        "{seen}"
    );
    // The delegated work is local output: a protected merge is blocked until a review.
    let before = repo.git(&["rev-parse", "main"]);
    repo.try_git(&["merge", "-q", "--ff-only", "hybrid/add-a-greeting"])
        .blocked_by("hybrid/add-a-greeting");
    assert_eq!(repo.git(&["rev-parse", "main"]), before);
    let api = FakeAnthropic::start(vec![Reply::Approve]);
    scenario(
        &python,
        &repo,
        "review",
        &[
            ("ANTHROPIC_API_KEY", anthropic::KEY),
            ("ANTHROPIC_BASE_URL", &api.url),
        ],
    );
    assert_eq!(api.answered().len(), 1);
    repo.git(&["merge", "-q", "--ff-only", "hybrid/add-a-greeting"]);
    assert!(repo.dir.join("docs/greeting.md").is_file());
}

/// Session reviews: refused until the committed policy accepts them; then the exact request
/// text goes to the session under a one-time id, answers are checked as the API's are, an
/// approval covers exactly what was handed out, and a policy that stops accepting them stops
/// their approvals from counting.
#[test]
fn a_session_review_counts_only_where_the_policy_accepts_it() {
    let Some(python) = client_python() else {
        return;
    };
    let repo = TestRepo::with_generation();
    scenario(&python, &repo, "session_off", &[]);
    let policy = |accept: &str| {
        repo.write(".hybrid.toml", format!("[review]\naccept = {accept}\n"));
        repo.git(&["add", ".hybrid.toml"]);
        repo.git(&["commit", "-q", "-m", "policy: which reviews count"]);
    };
    policy(r#"["api", "mcp"]"#);
    scenario(
        &python,
        &repo,
        "session_unreadable",
        &[("GIT_HYBRID_REVIEW_PART_TOKENS", "lots")],
    );
    scenario(&python, &repo, "session", &[]);
    let (via, client): (String, String) = repo
        .sqlite()
        .query_row(
            "SELECT via, client FROM verdicts WHERE decision = 'approve'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(via, "mcp");
    assert!(client.ends_with("(claude-test)"), "{client}");
    // It travels marked as a session's, in the format older binaries refuse rather than
    // count as an API review.
    let records = repo.git(&["ls-tree", "-r", "--name-only", "refs/hybrid/records"]);
    let approved = records
        .lines()
        .filter(|p| p.starts_with("verdicts/"))
        .map(|p| repo.git(&["show", &format!("refs/hybrid/records:{p}")]))
        .find(|text| text.contains("\"approved\":[\""))
        .expect("the approval is in the records");
    assert!(
        approved.contains("\"via\":\"mcp\"") && approved.contains("\"version\":3"),
        "{approved}"
    );
    repo.hybrid(&["verify", "main..hybrid/port"]).success();
    // Later local output on the branch is not covered: the approval is of what was sent.
    repo.git(&["checkout", "-q", "hybrid/port"]);
    repo.write(
        "src/more.rs",
        "pub fn more_generated_code() -> u32 {\n    41 + 1\n}\n",
    );
    repo.git(&["add", "src/more.rs"]);
    repo.commit_unhooked("more generated code");
    repo.hybrid(&["adopt", "HEAD~1..HEAD", "--model", "qwen2.5-coder-7b"])
        .success();
    repo.git(&["checkout", "-q", "main"]);
    let blocked = repo.hybrid(&["verify", "main..hybrid/port", "--json"]);
    blocked.failure();
    let report: Value = serde_json::from_str(&blocked.stdout()).unwrap();
    let uncovered = report["uncovered"].to_string();
    assert!(
        uncovered.contains("src/more.rs") && !uncovered.contains("src/port.rs"),
        "{report}"
    );
    repo.git(&["reset", "-q", "--hard"]);
    repo.git(&["branch", "-f", "hybrid/port", "hybrid/port~1"]);
    repo.hybrid(&["verify", "main..hybrid/port"]).success();
    // The policy stops accepting session reviews: their approvals stop counting.
    policy(r#"["api"]"#);
    repo.hybrid(&["verify", "main..hybrid/port"]).failure();
    repo.try_git(&["merge", "-q", "--no-ff", "-m", "merge", "hybrid/port"])
        .blocked_by("hybrid/port");
}

/// `install --claude-code` adds the server beside what `.mcp.json` holds; `uninstall` puts the
/// file back byte for byte (or removes it when it made it), and `doctor` reports the entry.
#[test]
fn install_for_claude_code_writes_mcp_json_and_uninstall_restores_it() {
    let repo = TestRepo::new();
    let path = repo.dir.join(".mcp.json");
    repo.hybrid(&["install", "--claude-code"])
        .success()
        .stderr_has("created .mcp.json");
    let written: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(written["mcpServers"]["git-hybrid"]["command"], "git-hybrid");
    assert_eq!(written["mcpServers"]["git-hybrid"]["args"][0], "mcp");
    repo.hybrid(&["doctor"])
        .stdout_has("claude code: .mcp.json starts");
    repo.hybrid(&["install", "--claude-code"])
        .success()
        .stderr_has("already has");
    repo.hybrid(&["uninstall"]).success();
    assert!(!path.exists(), "the file it created is gone");

    // Someone else's servers, in their own formatting, stay exactly as they were.
    let theirs = "{\n    \"mcpServers\": {\"docs\": {\"command\": \"docs-server\", \"args\": []}},\n    \"zzz\": 1\n}\n";
    std::fs::write(&path, theirs).unwrap();
    repo.hybrid(&["install", "--claude-code"])
        .success()
        .stderr_has("added to .mcp.json");
    let both: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(both["mcpServers"]["docs"]["command"], "docs-server");
    assert!(both["mcpServers"]["git-hybrid"].is_object());
    repo.hybrid(&["uninstall"])
        .success()
        .stderr_has("back as it was");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), theirs);

    // Changed since: only the entry goes.
    repo.hybrid(&["install", "--claude-code"]).success();
    let mut edited: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edited["mcpServers"]["other"] = serde_json::json!({"command": "other"});
    std::fs::write(&path, serde_json::to_string(&edited).unwrap()).unwrap();
    repo.hybrid(&["uninstall"])
        .success()
        .stderr_has("took the MCP server");
    let left: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert!(left["mcpServers"]["git-hybrid"].is_null() && left["mcpServers"]["other"].is_object());

    // Not JSON: refused with what to do, nothing written.
    std::fs::write(&path, "{ not json").unwrap();
    repo.hybrid(&["install", "--claude-code"])
        .failure()
        .stderr_has("is not the JSON object")
        .stderr_has("hint:");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "{ not json");
}

/// Through a running daemon: the job runs there with the model kept loaded, and a cancel from
/// the client reaches the daemon's generation, which stops; the daemon goes on serving.
#[test]
fn a_cancel_stops_the_daemons_generation() {
    let Some(python) = client_python() else {
        return;
    };
    let _turn = model_turn();
    let repo = with_test_model(TestRepo::new());
    repo.hybrid(&["daemon", "start"]).success();
    let seen = scenario(&python, &repo, "delegate", &[("EXPECT_DAEMON", "1")]);
    assert_eq!(seen["by_daemon"], true, "{seen}");
    let jobs: Vec<(String, Option<String>)> = {
        let db = repo.sqlite();
        let mut stmt = db
            .prepare("SELECT state, error FROM jobs ORDER BY id")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    assert_eq!(jobs[0].0, "done");
    assert_eq!(jobs[1].0, "failed");
    assert!(
        jobs[1]
            .1
            .as_deref()
            .unwrap_or_default()
            .contains("cancelled"),
        "{jobs:?}"
    );
    repo.hybrid(&["daemon", "status"]).success();
    repo.hybrid(&["daemon", "stop"]).success();
}

/// The Claude Code CLI, or `None` (after saying why) when its fetch script could not install it.
fn claude_code() -> Option<PathBuf> {
    let cache =
        PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/git-hybrid");
    let claude = cache.join("claude-code-2.1.332/node_modules/.bin/claude");
    if claude.exists() {
        return Some(claude);
    }
    if let Ok(why) = std::fs::read_to_string(cache.join("claude-code.unavailable")) {
        eprintln!("skipped: Claude Code is not installed here: {}", why.trim());
        return None;
    }
    panic!(
        "{} is missing: run scripts/fetch-claude-code.sh",
        claude.display()
    );
}

/// The client people use: Claude Code in print mode, its model played by the fake API, starts
/// `git hybrid mcp` from the `.mcp.json` that `install --claude-code` wrote, and calls the tools
/// — lint, delegate to the tiny model, verify. The delegated branch stays off main.
#[test]
fn claude_code_itself_delegates_through_the_tools() {
    let Some(claude) = claude_code() else { return };
    let _turn = model_turn();
    let repo = with_test_model(TestRepo::new());
    repo.hybrid(&["install", "--claude-code"]).success();
    let spec = crate::embedded::GREETING_DOC;
    // MCP tools come deferred: their schemas are fetched with ToolSearch before the first call.
    let api = FakeAnthropic::agent(vec![
        (
            "ToolSearch",
            serde_json::json!({"query": "select:mcp__git-hybrid__spec_lint,mcp__git-hybrid__implement,mcp__git-hybrid__verify"}),
        ),
        (
            "mcp__git-hybrid__spec_lint",
            serde_json::json!({"text": spec}),
        ),
        (
            "mcp__git-hybrid__implement",
            serde_json::json!({"spec": spec}),
        ),
        (
            "mcp__git-hybrid__verify",
            serde_json::json!({"range": "main..hybrid/add-a-greeting"}),
        ),
    ]);
    let mut cmd = repo.command(claude.to_str().unwrap());
    cmd.args([
        "-p",
        "Spec a greeting function and delegate it to the local model.",
        "--model",
        "claude-sonnet-4-5",
        "--mcp-config",
        ".mcp.json",
        "--strict-mcp-config",
        "--allowedTools",
        "ToolSearch,mcp__git-hybrid__spec_lint,mcp__git-hybrid__implement,mcp__git-hybrid__verify",
        "--output-format",
        "json",
    ])
    .env("ANTHROPIC_API_KEY", anthropic::KEY)
    .env("ANTHROPIC_BASE_URL", &api.url)
    .env("DISABLE_TELEMETRY", "1")
    .env("DISABLE_AUTOUPDATER", "1")
    .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1");
    let run = repo.run(cmd);
    let rejected: Vec<_> = api
        .log()
        .into_iter()
        .filter(|l| l.rejected.is_some())
        .collect();
    assert!(
        rejected.is_empty(),
        "the fake refused Claude Code: {rejected:#?}"
    );
    assert_eq!(run.code(), Some(0), "{}\n{}", run.stdout(), run.stderr());
    // Each tool's answer came back to the model, in order.
    let last = api.answered().pop().expect("Claude Code asked the model");
    let body: Value = serde_json::from_str(&last.body).unwrap();
    let results = body["messages"].to_string();
    assert!(results.contains("\\\"ok\\\":true"), "{results}");
    assert!(results.contains("hybrid/add-a-greeting"), "{results}");
    assert!(
        results.contains("\\\"decision\\\":\\\"block\\\""),
        "{results}"
    );
    let out: Value = serde_json::from_str(run.stdout().trim()).unwrap();
    assert!(
        out["result"].as_str().unwrap_or_default().contains("block"),
        "{out}"
    );
    // Delegated, and gated: the branch exists, main does not have it.
    repo.git(&["rev-parse", "--verify", "hybrid/add-a-greeting"]);
    repo.try_git(&["merge", "-q", "--ff-only", "hybrid/add-a-greeting"])
        .blocked_by("hybrid/add-a-greeting");
}

/// The server judges a session's approval by its own policy, never by the one a push brings: a
/// clone that opts itself in (reading its policy from its own unpushed commit) is refused by the
/// server; once the server's branch accepts session reviews, the same approval passes there.
#[test]
fn the_server_counts_a_session_review_only_under_its_own_policy() {
    let Some(python) = client_python() else {
        return;
    };
    let repo = TestRepo::with_generation();
    crate::server::server(&repo);
    repo.git(&["push", "-q", "origin", "main"]);
    repo.write(".hybrid.toml", "[review]\naccept = [\"api\", \"mcp\"]\n");
    repo.git(&["add", ".hybrid.toml"]);
    repo.git(&["commit", "-q", "-m", "policy: session reviews count"]);
    // This clone reads its policy from its own main, not from origin's.
    repo.git(&["config", "hybrid.defaultBranch", "main"]);
    scenario(&python, &repo, "session", &[]);
    repo.git(&[
        "merge",
        "-q",
        "--no-ff",
        "-m",
        "merge the port",
        "hybrid/port",
    ]);
    let push = repo.try_git(&["push", "-q", "origin", "main"]);
    crate::server::refused_by_server(&push);
    // The policy reaches the server's main first (a human change, accepted on its own); the
    // approval counts there from then on.
    repo.git(&["push", "-q", "origin", "main^1:main"]);
    repo.git(&["push", "-q", "origin", "main"]);
}
