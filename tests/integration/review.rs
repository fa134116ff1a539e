//! Claude review against the fake API: only a well-formed approval opens the gate, whatever the
//! network, the answer or the diff does; nothing secret leaves; large changes go in parts.

use std::time::Duration;

use crate::support::anthropic::{FakeAnthropic, KEY, Reply};
use crate::support::{GENERATED, TestRepo};

fn approvals(repo: &TestRepo) -> i64 {
    repo.count("SELECT COUNT(*) FROM verdicts WHERE decision = 'approve'")
}

#[test]
fn overloaded_twice_then_approved_opens_the_gate() {
    let repo = TestRepo::with_generation();
    let api = FakeAnthropic::start(vec![
        Reply::overloaded(),
        Reply::overloaded(),
        Reply::Approve,
    ]);
    repo.review(&api, &["hybrid/port"])
        .success()
        .stdout_has("approved: the gate now lets change");
    let statuses: Vec<u16> = api.log().iter().map(|l| l.status).collect();
    assert_eq!(statuses, vec![529, 529, 200]);
    assert_eq!(approvals(&repo), 1);
    assert_eq!(
        repo.count("SELECT COUNT(*) FROM usage WHERE phase = 'review' AND ok = 1"),
        1
    );
    assert!(repo.count("SELECT COUNT(*) FROM usage WHERE usd > 0") == 1);
    repo.hybrid(&["pending"])
        .success()
        .stderr_has("no unreviewed local output");
    repo.git(&["merge", "-q", "--ff-only", "hybrid/port"]);
    // Approved lines stay approved when pasted elsewhere as they were sent…
    repo.write("src/copy.rs", GENERATED);
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "copy approved code"]);
    // …but an approval covers exactly the text sent: re-indented, they are still found as
    // output, and no longer covered.
    let pasted: String = GENERATED.lines().map(|l| format!("  {l}\n")).collect();
    repo.write("src/indented.rs", pasted);
    repo.git(&["add", "."]);
    repo.try_git(&["commit", "-q", "-m", "copy approved code, re-indented"])
        .blocked()
        .stderr_has("src/indented.rs: 5 lines");
    repo.git(&["reset", "-q", "--hard"]);
    // A second review of an approved change spends nothing.
    repo.review(&api, &["main~2..hybrid/port"]);
    assert_eq!(api.log().len(), 3);
}

#[test]
fn new_output_after_an_approval_is_blocked_and_human_edits_are_not() {
    let repo = TestRepo::with_generation();
    let api = FakeAnthropic::start(vec![]);
    repo.review(&api, &["hybrid/port"]).success();
    repo.git(&["checkout", "-q", "hybrid/port"]);
    repo.write(
        "src/port.rs",
        format!("{GENERATED}pub fn default_port() -> u16 {{\n    std::env::var(\"PORT\").ok().and_then(|p| p.parse().ok()).unwrap_or(8080)\n}}\n"),
    );
    repo.git(&["commit", "-q", "-a", "-m", "more generated"]);
    repo.hybrid(&["adopt", "hybrid/port", "--model", "qwen"])
        .success();
    repo.git(&["checkout", "-q", "main"]);
    repo.try_git(&["merge", "--ff-only", "hybrid/port"])
        .blocked()
        .stderr_has("src/port.rs: 4 lines (7-10)");
    // The refused fast-forward left the working tree updated; main itself did not move.
    repo.git(&["reset", "-q", "--hard"]);
    // The approved first commit alone may land, and a human may edit it afterwards.
    repo.git(&["merge", "-q", "--ff-only", "hybrid/port~1"]);
    repo.write(
        "src/port.rs",
        GENERATED.replace("bad port", "invalid port number"),
    );
    repo.git(&["commit", "-q", "-a", "-m", "human rewording"]);
}

#[test]
fn nothing_but_a_well_formed_approval_approves() {
    let cases: Vec<(Reply, &str)> = vec![
        (Reply::RequestChanges, "request_changes"),
        (Reply::Refusal, "refused"),
        (Reply::Prose, "not the verdict's JSON"),
        (Reply::MaxTokens, "max_tokens"),
        (Reply::OffSchema, "not the verdict's JSON"),
        (
            Reply::Error {
                status: 400,
                kind: "invalid_request_error",
                message: "prompt is too long",
                headers: vec![],
            },
            "HTTP 400",
        ),
        (
            Reply::Error {
                status: 429,
                kind: "rate_limit_error",
                message: "You have exceeded your spend limit",
                headers: vec![("retry-after", "1")],
            },
            "spend limit",
        ),
    ];
    let repo = TestRepo::with_generation();
    for (reply, reason) in cases {
        let api = FakeAnthropic::start(vec![reply.clone()]);
        let run = repo.review(&api, &["hybrid/port"]);
        assert_eq!(run.code(), Some(1), "{reply:?}\n{}", run.stderr());
        // The verdict is on stdout; a failed call's cause is the error on stderr too.
        let all = format!("{}{}", run.stdout(), run.stderr());
        assert!(all.contains(reason), "{reply:?}: {all}");
        run.stdout_has("the gate still blocks");
        assert_eq!(api.log().len(), 1, "{reply:?} is not retried");
        assert_eq!(approvals(&repo), 0, "{reply:?}");
        repo.try_git(&["merge", "--ff-only", "hybrid/port"])
            .blocked();
    }
    // A wrong key and a model the API does not know.
    let api = FakeAnthropic::start(vec![]);
    repo.review_with(
        &api,
        &["hybrid/port"],
        &[("ANTHROPIC_API_KEY", "sk-ant-wrong")],
    )
    .failure()
    .stderr_has("ANTHROPIC_API_KEY");
    repo.review(&api, &["hybrid/port", "--model", "claude-nonexistent-9"])
        .failure()
        .stderr_has("HTTP 404")
        .stderr_has("--model");
    // A reviewer that says nothing for longer than we wait.
    let api = FakeAnthropic::start(vec![Reply::Hang(Duration::from_secs(3)); 8]);
    repo.review_with(&api, &["hybrid/port"], &[("GIT_HYBRID_API_TIMEOUT", "0.3")])
        .failure()
        .stderr_has("nothing was approved")
        .stderr_has("GIT_HYBRID_API_TIMEOUT");
    assert_eq!(approvals(&repo), 0);
    repo.try_git(&["merge", "--ff-only", "hybrid/port"])
        .blocked();
}

#[test]
fn without_an_api_key_the_error_names_it() {
    let repo = TestRepo::with_generation();
    let mut cmd = repo.command("git");
    cmd.args(["hybrid", "review", "hybrid/port"]);
    repo.run(cmd)
        .failure()
        .stderr_has("ANTHROPIC_API_KEY is not set");
}

/// A part size that does not parse is refused before anything is sent, with where it came
/// from; `--part-tokens` makes it moot.
#[test]
fn a_part_size_that_does_not_parse_is_refused_before_anything_is_sent() {
    let repo = TestRepo::with_generation();
    let api = FakeAnthropic::start(vec![Reply::Approve]);
    repo.git(&["config", "hybrid.reviewPartTokens", "a lot"]);
    repo.hybrid_with_api(&api, &["review", "hybrid/port"])
        .failure()
        .stderr_has("git config hybrid.reviewPartTokens is \"a lot\", not a number it takes")
        .stderr_has("--part-tokens");
    assert!(api.answered().is_empty());
    // `fix` re-reviews by the same part size: it stops before any fix too.
    repo.hybrid_with_api(&api, &["fix", "hybrid/port"])
        .failure()
        .stderr_has("git config hybrid.reviewPartTokens is \"a lot\"");
    assert!(api.answered().is_empty());
    repo.hybrid_with_api(&api, &["review", "hybrid/port", "--part-tokens", "30000"])
        .success();
    assert_eq!(api.answered().len(), 1);
}

#[test]
fn secrets_never_leave_and_every_request_is_well_formed() {
    let repo = TestRepo::new();
    repo.git(&["checkout", "-q", "-b", "hybrid/cfg"]);
    let secrets = [
        "AKIAIOSFODNN7EXAMPLE",
        "sk-ant-api03-Zx9qLmN3bV7cR1tY5uI8oP2aS4dF6gH0jK",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM2xTbs",
    ];
    repo.write(
        "src/config.rs",
        format!(
            "pub const AWS_KEY: &str = \"{}\";\npub const CLAUDE: &str = \"{}\";\npub const GH: &str = \"{}\";\npub const PEM: &str = \"-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----\";\n",
            secrets[0], secrets[1], secrets[2], secrets[3]
        ),
    );
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "config"]);
    repo.hybrid(&["adopt", "hybrid/cfg"]).success();
    let api = FakeAnthropic::start(vec![Reply::RequestChanges]);
    repo.review(&api, &["hybrid/cfg"])
        .stderr_has("secrets redacted before sending");
    let log = api.log();
    assert_eq!(log.len(), 1);
    for entry in &log {
        assert!(entry.rejected.is_none(), "rejected: {:?}", entry.rejected);
        for secret in secrets.iter().chain([&KEY]) {
            assert!(!entry.body.contains(secret), "{secret} was sent");
        }
        assert!(entry.body.contains("[REDACTED:aws-access-key]"));
        assert!(!entry.body.contains("temperature") && !entry.body.contains("tool_choice"));
    }
    // What was sent is on record: size and hash, not content.
    assert_eq!(
        repo.count("SELECT COUNT(*) FROM requests WHERE length(sha256) = 64 AND bytes > 0"),
        1
    );
}

#[test]
fn a_five_thousand_line_change_is_approved_only_when_every_part_is() {
    let repo = TestRepo::new();
    repo.git(&["checkout", "-q", "-b", "hybrid/big"]);
    let big: String = (0..5000)
        .map(|i| format!("pub fn generated_function_number_{i}(input: u64) -> u64 {{ input.wrapping_mul({i}) }}\n"))
        .collect();
    repo.write("src/big.rs", big);
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "big"]);
    repo.hybrid(&["adopt", "hybrid/big"]).success();
    let parts_env = [("GIT_HYBRID_REVIEW_PART_TOKENS", "30000")];
    // Every part but the third approves.
    let api = FakeAnthropic::start(vec![Reply::Approve, Reply::Approve, Reply::RequestChanges]);
    let run = repo.review_with(&api, &["hybrid/big"], &parts_env);
    run.failure()
        .stdout_has("part 3")
        .stdout_has("request_changes");
    let parts = api.log().len();
    assert!(parts >= 4, "{parts} parts");
    assert_eq!(approvals(&repo), 0);
    repo.git(&["checkout", "-q", "main"]);
    repo.try_git(&["merge", "--ff-only", "hybrid/big"])
        .blocked_by("hybrid/big");
    repo.git(&["reset", "-q", "--hard"]);
    // All parts approve: now the change is approved.
    let api = FakeAnthropic::start(vec![]);
    repo.review_with(&api, &["hybrid/big"], &parts_env)
        .success()
        .stderr_has(&format!("{parts} of {parts} parts answered"));
    assert_eq!(api.log().len(), parts);
    repo.git(&["merge", "-q", "--ff-only", "hybrid/big"]);
}

#[test]
fn withheld_files_stay_unapproved() {
    let repo = TestRepo::with_generation();
    repo.git(&["checkout", "-q", "hybrid/port"]);
    repo.write(
        "secret/keys.rs",
        "pub fn private_signing_material() -> Vec<u8> { vec![1, 2, 3] }\n",
    );
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "more"]);
    repo.hybrid(&["adopt", "hybrid/port~1..hybrid/port"])
        .success();
    repo.git(&["checkout", "-q", "main"]);
    repo.write(".hybridignore", "secret/\n");
    let api = FakeAnthropic::start(vec![]);
    repo.review(&api, &["hybrid/port"])
        .failure()
        .stderr_has("not reviewed: secret/keys.rs")
        .stdout_has("1 line of local output was not sent as written");
    assert!(!api.log()[0].body.contains("private_signing_material"));
    // The reviewed file's lines are approved, the withheld one's are not, nor is the change.
    assert_eq!(
        repo.count("SELECT COUNT(*) FROM verdicts WHERE complete = 0"),
        1
    );
    repo.try_git(&["merge", "--ff-only", "hybrid/port"])
        .failure()
        .stderr_has("secret/keys.rs: 1 line");
    repo.git(&["merge", "-q", "--ff-only", "hybrid/port~1"]);
}

#[test]
fn hidden_characters_are_found_locally_and_block_approval() {
    let repo = TestRepo::new();
    repo.git(&["checkout", "-q", "-b", "hybrid/trojan"]);
    repo.write(
        "src/auth.rs",
        "pub fn is_admin(level: &str) -> bool {\n    level != \"user\u{202E} \u{2066}// admin check\u{2069} \u{2066}\"\n}\n",
    );
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "auth"]);
    repo.hybrid(&["adopt", "hybrid/trojan"]).success();
    let api = FakeAnthropic::start(vec![Reply::Approve]);
    repo.review(&api, &["hybrid/trojan"])
        .failure()
        .stderr_has("bidirectional control U+202E")
        .stdout_has("not approved");
    assert_eq!(approvals(&repo), 0);
    assert_eq!(
        repo.count("SELECT COUNT(*) FROM findings WHERE source = 'local'"),
        4
    );
}

#[test]
fn show_puts_findings_under_their_lines_and_lists_the_history() {
    let repo = TestRepo::with_generation();
    let api = FakeAnthropic::start(vec![Reply::RequestChanges, Reply::Approve]);
    repo.review(&api, &["hybrid/port"]).failure();
    let run = repo.hybrid(&["show", "hybrid/port", "--color", "never"]);
    run.success()
        .stdout_has("1 review")
        .stdout_has("request_changes");
    let out = run.stdout();
    let line6 = out
        .find("    6 +    trimmed.parse::<u16>()")
        .expect("line 6 shown");
    let note = out
        .find("^ [high edge_cases] Port 0 is accepted. — Reject 0.")
        .expect("finding shown");
    assert!(note > line6, "{out}");
    // By change id prefix, after a second review.
    repo.review(&api, &["hybrid/port"]).success();
    let id: String = repo
        .sqlite()
        .query_row("SELECT change_id FROM verdicts LIMIT 1", [], |r| r.get(0))
        .unwrap();
    repo.hybrid(&["show", &id[..12]])
        .success()
        .stdout_has("2 reviews")
        .stdout_has("approve by claude-opus-5-5");
    repo.hybrid(&["show", "hc1-ffffffff"])
        .failure()
        .stderr_has("no review of");
}

#[test]
fn stats_add_up_to_the_ledger() {
    let repo = TestRepo::with_generation();
    let api = FakeAnthropic::start(vec![
        Reply::RequestChanges,
        Reply::overloaded(),
        Reply::Approve,
    ]);
    repo.review(&api, &["hybrid/port"]).failure();
    repo.review(&api, &["hybrid/port"]).success();
    let run = repo.hybrid(&["stats", "--json"]);
    run.success();
    let json: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    // By hand, from the rows, with claude-opus-5-5's prices ($/Mtok: 4 in, 20 out, 5 cache
    // write, 0.20 cache read).
    let conn = repo.sqlite();
    let mut stmt = conn
        .prepare(
            "SELECT input_tokens, output_tokens, cache_write_tokens, cache_read_tokens FROM usage",
        )
        .unwrap();
    let rows: Vec<(i64, i64, i64, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 2, "one row per answered call");
    let usd: f64 = rows
        .iter()
        .map(|(i, o, w, r)| {
            (*i as f64 * 4.0 + *o as f64 * 20.0 + *w as f64 * 5.0 + *r as f64 * 0.2) / 1e6
        })
        .sum();
    let total = &json["total"];
    assert!(
        (total["usd"].as_f64().unwrap() - usd).abs() < 1e-12,
        "{total} vs {usd}"
    );
    assert_eq!(total["calls"], 2);
    assert_eq!(total["input_tokens"], rows.iter().map(|r| r.0).sum::<i64>());
    assert_eq!(
        total["cache_read_tokens"],
        rows.iter().map(|r| r.3).sum::<i64>()
    );
    assert!(
        rows[1].3 > 0,
        "the second review read the cached instructions"
    );
    assert_eq!(json["lines"][0]["phase"], "review");
    repo.hybrid(&["stats"])
        .success()
        .stdout_has("claude-opus-5-5");
    let run = repo.hybrid(&["stats", "--json", "--since", "2999-01-01"]);
    let json: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(json["total"]["calls"], 0);
    repo.hybrid(&["stats", "--since", "last tuesday"])
        .failure()
        .stderr_has("YYYY-MM-DD");
}

/// Posts a raw request to the fake API, as a client we do not control would.
fn post(api: &FakeAnthropic, key: Option<&str>, body: &serde_json::Value) -> (u16, String) {
    post_at(api, "/v1/messages", key, body)
}

pub fn post_at(
    api: &FakeAnthropic,
    path: &str,
    key: Option<&str>,
    body: &serde_json::Value,
) -> (u16, String) {
    use std::io::{Read, Write};
    let addr = api.url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    let body = body.to_string();
    let key = key
        .map(|k| format!("x-api-key: {k}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\nanthropic-version: 2023-06-01\r\n{key}content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer[9..12].parse().unwrap();
    (status, answer)
}

/// The fake refuses what the real API refuses, so a test passing against it means something.
#[test]
fn the_fake_api_refuses_what_the_real_one_refuses() {
    use serde_json::json;
    let api = FakeAnthropic::start(vec![]);
    let ok = json!({"model": "claude-opus-5-5", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]});
    assert_eq!(post(&api, Some(KEY), &ok).0, 200);
    assert_eq!(post(&api, None, &ok).0, 401);
    assert_eq!(post(&api, Some("sk-ant-nope"), &ok).0, 401);
    let with = |field: &str, value: serde_json::Value| {
        let mut v = ok.clone();
        v[field] = value;
        v
    };
    for (body, status, says) in [
        (with("temperature", json!(0.2)), 400, "temperature"),
        (with("top_p", json!(0.9)), 400, "top_p"),
        (
            with("tool_choice", json!({"type": "tool", "name": "verdict"})),
            400,
            "tool_choice",
        ),
        (
            with("tool_choice", json!({"type": "any"})),
            400,
            "tool_choice",
        ),
        (
            with("reviewer_mood", json!("kind")),
            400,
            "Extra inputs are not permitted",
        ),
        (with("messages", json!([])), 400, "messages"),
        (
            with("messages", json!([{"role": "assistant", "content": "hi"}])),
            400,
            "user",
        ),
        (
            with(
                "messages",
                json!([{"role": "user", "content": [{"type": "text", "text": ""}]}]),
            ),
            400,
            "non-empty",
        ),
        (
            with("model", json!("claude-opus-9-9")),
            404,
            "not_found_error",
        ),
        (
            with("output_config", json!({"format": {"type": "json"}})),
            400,
            "output_config",
        ),
    ] {
        let (got, answer) = post(&api, Some(KEY), &body);
        assert_eq!(got, status, "{body}");
        assert!(answer.contains(says), "{answer}");
        assert!(answer.contains("\"type\":\"error\""), "{answer}");
    }
    // Sampling parameters are fine on older models, a forced tool on ones that do not always think.
    let mut older = with("temperature", json!(0.2));
    older["model"] = json!("claude-sonnet-4-5");
    assert_eq!(post(&api, Some(KEY), &older).0, 200);
}

#[test]
fn the_key_never_reaches_logs_or_the_store() {
    let repo = TestRepo::with_generation();
    let api = FakeAnthropic::start(vec![Reply::overloaded(), Reply::Approve]);
    let run = repo.review_with(&api, &["hybrid/port"], &[("GIT_HYBRID_LOG", "trace")]);
    run.success();
    assert!(
        run.stderr().contains("review request"),
        "trace logs the prompt"
    );
    assert!(!run.stderr().contains(KEY), "the key was logged");
    for file in std::fs::read_dir(repo.dir.join(".git/hybrid")).unwrap() {
        let bytes = std::fs::read(file.unwrap().path()).unwrap();
        assert!(
            !bytes.windows(KEY.len()).any(|w| w == KEY.as_bytes()),
            "the key is in the store"
        );
    }
}

#[test]
fn the_reviewer_model_comes_from_policy_config_and_flag() {
    let repo = TestRepo::with_generation();
    repo.write(".hybrid.toml", "[review]\nmodel = \"claude-sonnet-5-5\"\n");
    repo.git(&["add", ".hybrid.toml"]);
    repo.git(&["commit", "-q", "-m", "reviewer policy"]);
    let model_sent = |api: &FakeAnthropic| {
        let body: serde_json::Value =
            serde_json::from_str(&api.log().last().unwrap().body).unwrap();
        body["model"].as_str().unwrap().to_string()
    };
    let api = FakeAnthropic::start(vec![Reply::RequestChanges; 3]);
    repo.review(&api, &["hybrid/port"]);
    assert_eq!(model_sent(&api), "claude-sonnet-5-5");
    repo.git(&["config", "hybrid.reviewModel", "claude-haiku-5-5"]);
    repo.review(&api, &["hybrid/port"]);
    assert_eq!(model_sent(&api), "claude-haiku-5-5");
    repo.review(&api, &["hybrid/port", "--model", "claude-opus-5-5"]);
    assert_eq!(model_sent(&api), "claude-opus-5-5");
}

/// A generation made from a spec: the review sends the spec and the files it names.
#[test]
fn the_spec_and_the_files_it_names_go_with_the_review() {
    use git_hybrid::store::{GenerationRecord, Store};
    let repo = TestRepo::with_generation();
    repo.write(
        ".hybrid/specs/port.md",
        "# Parse ports\n\nAdd `parse_port` to src/port.rs next to src/lib.rs; reject empty input.\n",
    );
    let record = |id: &str| {
        let mut store = Store::open(&repo.store_path()).unwrap();
        store
            .record_generation(&GenerationRecord {
                id: id.into(),
                kind: "implement".into(),
                model: Some("qwen".into()),
                spec_path: Some(".hybrid/specs/port.md".into()),
                branch: Some("refs/heads/hybrid/port".into()),
                base_commit: None,
                result_commit: repo.rev("hybrid/port"),
                change_id: "hc1-x".into(),
                job_id: None,
                stats: None,
                check: None,
                lines: vec![],
                edits: vec![],
                tokens: vec![],
            })
            .unwrap();
    };
    record("g-spec");
    // Changes requested, so that the review below in parts is sent too.
    let api = FakeAnthropic::start(vec![Reply::RequestChanges]);
    repo.review(&api, &["hybrid/port"]).failure();
    let body: serde_json::Value = serde_json::from_str(&api.log()[0].body).unwrap();
    let content = &body["messages"][0]["content"];
    let spec = content[0]["text"].as_str().unwrap();
    assert!(spec.contains("reject empty input"), "{spec}");
    assert!(spec.contains("=== src/lib.rs ===\npub fn add"), "{spec}");
    assert!(
        !spec.contains("=== src/port.rs"),
        "an added file is already in the diff"
    );
    // One part: the spec is read once, so it is not written to the cache (a write costs 1.25x).
    assert!(content[0].get("cache_control").is_none(), "{}", content[0]);
    assert_eq!(body["system"][0]["cache_control"]["type"], "ephemeral");
    let diff = content[1]["text"].as_str().unwrap();
    assert!(diff.contains("+pub fn parse_port"), "{diff}");
    // Several parts share it: then it is cached.
    repo.git(&["checkout", "-q", "hybrid/port"]);
    let big: String = (0..120)
        .map(|i| format!("pub const LIMIT_{i}: u32 = {i};\n"))
        .collect();
    repo.write("src/limits.rs", big);
    repo.git(&["add", "src/limits.rs"]);
    repo.git(&["commit", "-q", "-m", "limits"]);
    repo.git(&["checkout", "-q", "main"]);
    record("g-spec-2");
    let api = FakeAnthropic::start(vec![]);
    repo.review(&api, &["hybrid/port", "--part-tokens", "300"]);
    assert!(api.log().len() > 1, "{}", api.log().len());
    let body: serde_json::Value = serde_json::from_str(&api.log()[0].body).unwrap();
    assert_eq!(
        body["messages"][0]["content"][0]["cache_control"]["type"],
        "ephemeral"
    );
}

/// Prices move: a row the user adds with a later date prices later calls.
#[test]
fn price_rows_in_the_user_config_are_used() {
    let repo = TestRepo::with_generation();
    let config = repo.home().join(".config/git-hybrid");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("config.toml"),
        "[[price]]\nmodel = \"claude-opus-5-5\"\neffective = \"2026-11-02\"\ninput = 1000.0\noutput = 0.0\ncache_write = 0.0\ncache_read = 0.0\n",
    )
    .unwrap();
    let api = FakeAnthropic::start(vec![]);
    repo.review(&api, &["hybrid/port"]).success();
    let (input, usd): (i64, f64) = repo
        .sqlite()
        .query_row("SELECT input_tokens, usd FROM usage", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert!((usd - input as f64 * 1000.0 / 1e6).abs() < 1e-9, "{usd}");
}

/// The all-cloud counterfactual from the ledger, by hand: local tokens priced on the reviewer's
/// model, energy from wall time, savings against what was spent.
#[test]
fn stats_counterfactual_equals_a_hand_computation() {
    use crate::support::openai::FakeOpenAi;
    let repo = TestRepo::with_spec(
        ".hybrid/specs/port.md",
        "# Ports\n\nCreate src/port.rs with `parse_port(value: &str) -> Result<u16, String>`.\n\n## Tests\n\n- `parse_port(\"80\")` returns `Ok(80)`\n",
    );
    let local = FakeOpenAi::start(vec![format!(
        "<<<<<<< FILE src/port.rs\n{GENERATED}>>>>>>> END\n"
    )]);
    let mut cmd = repo.command("git");
    cmd.args([
        "hybrid",
        "implement",
        ".hybrid/specs/port.md",
        "--backend",
        "openai",
        "--model",
        "qwen",
    ])
    .env("GIT_HYBRID_OPENAI_BASE_URL", &local.url);
    repo.run(cmd).success();
    let api = FakeAnthropic::start(vec![]);
    repo.review(&api, &["hybrid/ports"]).success();
    let mut cmd = repo.command("git");
    cmd.args(["hybrid", "stats", "--json"])
        .env("GIT_HYBRID_LOCAL_WATTS", "200")
        .env("GIT_HYBRID_KWH_USD", "0.5");
    let run = repo.run(cmd);
    run.success();
    let c = &serde_json::from_str::<serde_json::Value>(&run.stdout()).unwrap()["counterfactual"];
    let (local_in, local_out, wall): (i64, i64, i64) = repo
        .sqlite()
        .query_row(
            "SELECT input_tokens, output_tokens, wall_ms FROM usage WHERE provider = 'openai'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let cloud: f64 = repo
        .sqlite()
        .query_row(
            "SELECT SUM(usd) FROM usage WHERE provider = 'anthropic'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let on_cloud = (local_in as f64 * 4.0 + local_out as f64 * 20.0) / 1e6;
    let energy = wall as f64 / 3_600_000.0 * 200.0 / 1000.0 * 0.5;
    let close = |v: &serde_json::Value, want: f64| (v.as_f64().unwrap() - want).abs() < 1e-9;
    assert!(close(&c["local_on_cloud_usd"], on_cloud), "{c}");
    assert!(close(&c["energy_usd"], energy), "{c}");
    assert!(
        close(&c["savings_usd"], cloud + on_cloud - (cloud + energy)),
        "{c}"
    );
    assert_eq!(c["priced_on"], "claude-opus-5-5");
    repo.hybrid(&["stats"]).success().stdout_has("saved $");
}

const WRITTEN_SPEC: &str = "# Add port parsing\n\n## Goal\n\nParse ports.\n\n## Files to touch\n\n- create src/port.rs\n\n## Signatures\n\n`fn parse_port(value: &str) -> Result<u16, String>`\n\n## Requirements\n\n- reject values above 65535 with \"port out of range\"\n\n## Tests\n\n- `parse_port(\"80\")` returns `Ok(80)`\n";

#[test]
fn claude_writes_a_spec_from_a_task_and_the_repository_map() {
    let repo = TestRepo::new();
    let api = FakeAnthropic::start(vec![Reply::Text(WRITTEN_SPEC)]);
    let mut cmd = repo.command("git");
    cmd.args([
        "hybrid",
        "spec",
        "parse a port number from user input",
        "--files",
        "src/lib.rs",
    ])
    .env("ANTHROPIC_API_KEY", KEY)
    .env("ANTHROPIC_BASE_URL", &api.url);
    repo.run(cmd)
        .success()
        .stderr_has(".hybrid/specs/add-port-parsing.md")
        .stderr_has("next: git hybrid implement .hybrid/specs/add-port-parsing.md");
    assert_eq!(
        std::fs::read_to_string(repo.dir.join(".hybrid/specs/add-port-parsing.md")).unwrap(),
        WRITTEN_SPEC
    );
    let body: serde_json::Value =
        serde_json::from_str(&api.answered().last().unwrap().body).unwrap();
    let content = body["messages"][0]["content"].to_string();
    assert!(
        content.contains("src/lib.rs: add"),
        "the map names files and symbols: {content}"
    );
    assert!(content.contains("=== src/lib.rs ===") && content.contains("parse a port number"));
    assert_eq!(
        repo.count("SELECT COUNT(*) FROM usage WHERE phase = 'spec'"),
        1
    );
    repo.hybrid(&["spec", "lint", ".hybrid/specs/add-port-parsing.md"])
        .success();
    // Bad input, each with a clear error and nothing sent.
    let sent = api.log().len();
    let spec = |args: &[&str]| {
        let mut cmd = repo.command("git");
        cmd.arg("hybrid")
            .arg("spec")
            .args(args)
            .env("ANTHROPIC_API_KEY", KEY)
            .env("ANTHROPIC_BASE_URL", &api.url);
        repo.run(cmd)
    };
    spec(&[""]).failure().stderr_has("the task is empty");
    spec(&[&"x".repeat(100_000)])
        .failure()
        .stderr_has("write it as a spec file instead");
    spec(&["a task", "--files", "../outside.rs"])
        .failure()
        .stderr_has("outside the repository");
    spec(&["a task", "--files", "src/nope.rs"])
        .failure()
        .stderr_has("does not exist");
    assert_eq!(api.log().len(), sent);
}

/// Security work routes to Claude: its commit lands on the same kind of branch, as cloud output
/// the gate does not stop, priced in the ledger.
#[test]
fn cloud_routed_tasks_are_implemented_by_claude() {
    let repo = TestRepo::with_spec(
        ".hybrid/specs/oauth.md",
        "# OAuth login\n\nCreate src/oauth.rs with `fn login(code: &str) -> Result<Session, AuthError>` using OAuth with PKCE.\n\n## Tests\n\n- `login(\"\")` returns `Err(AuthError::MissingCode)`\n",
    );
    let api = FakeAnthropic::start(vec![Reply::Text(
        "<<<<<<< FILE src/oauth.rs\npub fn login(code: &str) -> Result<Session, AuthError> {\n    if code.is_empty() { return Err(AuthError::MissingCode); }\n    exchange_code_with_pkce(code)\n}\n>>>>>>> END\n",
    )]);
    let mut cmd = repo.command("git");
    // The answer is a sketch (no Session type): this is about the route, not its examples.
    cmd.args([
        "hybrid",
        "implement",
        ".hybrid/specs/oauth.md",
        "--no-check",
    ])
    .env("ANTHROPIC_API_KEY", KEY)
    .env("ANTHROPIC_BASE_URL", &api.url);
    repo.run(cmd)
        .success()
        .stderr_has("route: Claude (Claude's kind of work: security-critical)")
        .stderr_has("on hybrid/oauth-login");
    let body: serde_json::Value = serde_json::from_str(&api.answered()[0].body).unwrap();
    assert_eq!(body["model"], "claude-opus-5-5");
    assert_eq!(body["messages"][0]["role"], "user");
    // Cloud output: recorded, priced, and not held by the gate.
    assert_eq!(repo.count("SELECT COUNT(*) FROM generation_lines"), 0);
    assert_eq!(
        repo.count("SELECT COUNT(*) FROM usage WHERE phase = 'implement' AND provider = 'anthropic' AND usd > 0"),
        1
    );
    repo.git(&["merge", "-q", "--ff-only", "hybrid/oauth-login"]);
}

/// Claude's answers are paid for whether `implement` can use them or not: a failed cloud run
/// leaves every call in the ledger, priced.
#[test]
fn a_failed_cloud_implement_is_in_the_ledger() {
    let repo = TestRepo::with_spec(
        ".hybrid/specs/oauth.md",
        "# OAuth login\n\nCreate src/oauth.rs with `fn login(code: &str) -> Result<Session, AuthError>` using OAuth with PKCE.\n\n## Tests\n\n- `login(\"\")` returns `Err(AuthError::MissingCode)`\n",
    );
    let api = FakeAnthropic::start(vec![Reply::Text("I would rather explain OAuth first.")]);
    let mut cmd = repo.command("git");
    cmd.args([
        "hybrid",
        "implement",
        ".hybrid/specs/oauth.md",
        "--route",
        "cloud",
    ])
    .env("ANTHROPIC_API_KEY", KEY)
    .env("ANTHROPIC_BASE_URL", &api.url);
    repo.run(cmd)
        .failure()
        .stderr_has("could not be used after 3 attempts");
    assert_eq!(api.answered().len(), 3);
    assert_eq!(
        repo.count("SELECT COUNT(*) FROM usage WHERE phase = 'implement' AND provider = 'anthropic' AND usd > 0 AND ok = 0"),
        3
    );
    repo.hybrid(&["stats"]).success().stdout_has("implement");
}

/// The local model's fix of "Port 0 is accepted" in GENERATED.
pub const PORT_ZERO_FIX: &str = "<<<<<<< EDIT src/port.rs\n    trimmed.parse::<u16>().map_err(|e| format!(\"bad port {trimmed}: {e}\"))\n=======\n    match trimmed.parse::<u16>() {\n        Ok(0) => Err(\"port 0 is not allowed\".to_string()),\n        Ok(port) => Ok(port),\n        Err(e) => Err(format!(\"bad port {trimmed}: {e}\")),\n    }\n>>>>>>> END\n";

/// `git hybrid fix hybrid/port <extra>` with the local model behind `local` and Claude behind
/// `api`.
pub fn fix_port(
    repo: &TestRepo,
    api: &FakeAnthropic,
    local: &crate::support::openai::FakeOpenAi,
    extra: &[&str],
) -> crate::support::Run {
    let mut cmd = repo.command("git");
    cmd.args([
        "hybrid",
        "fix",
        "hybrid/port",
        "--backend",
        "openai",
        "--model",
        "qwen",
    ])
    .args(extra)
    .env("GIT_HYBRID_OPENAI_BASE_URL", &local.url)
    .env("ANTHROPIC_API_KEY", KEY)
    .env("ANTHROPIC_BASE_URL", &api.url);
    repo.run(cmd)
}

/// request changes → the local model fixes the findings on the same branch → only the interdiff
/// is re-reviewed, with the findings as context → approved, and the gate lets the branch merge.
#[test]
fn the_fix_loop_turns_a_rejection_into_an_approval() {
    use crate::support::openai::FakeOpenAi;
    let repo = TestRepo::with_generation();
    let api = FakeAnthropic::start(vec![Reply::RequestChanges, Reply::Approve]);
    repo.review(&api, &["hybrid/port"]).failure();
    let local = FakeOpenAi::start(vec![PORT_ZERO_FIX.into()]);
    // The fix goes through the same check loop as `implement`.
    fix_port(
        &repo,
        &api,
        &local,
        &["--check", "grep -q 'port 0 is not allowed' src/port.rs"],
    )
    .success()
    .stderr_has("round 1: fix")
    .stderr_has("re-review approved")
    .stderr_has("hybrid/port is approved");
    // The local model saw the finding; the reviewer saw only the interdiff, with the findings.
    let asked: serde_json::Value = serde_json::from_str(&local.requests()[0]).unwrap();
    let prompt = asked["messages"][1]["content"].as_str().unwrap();
    assert!(prompt.contains("Port 0 is accepted."));
    // The branch's name is no file: the fix's spec never names it, so no grammar offers it.
    assert!(!prompt.contains("hybrid/port"), "{prompt}");
    assert!(!local.requests()[0].contains("FILE hybrid/port"));
    let rereview = api.answered().last().unwrap().body.clone();
    assert!(rereview.contains("re-review of a fix") && rereview.contains("port 0 is not allowed"));
    assert_eq!(
        repo.count("SELECT COUNT(*) FROM generations WHERE check_passed = 1 AND check_runs = 1"),
        1
    );
    assert!(
        rereview.contains("ran the check `grep"),
        "the re-review is told the check ran"
    );
    // The function's first line is context in the interdiff, no longer an added line.
    assert!(rereview.contains(" pub fn parse_port") && !rereview.contains("+pub fn parse_port"));
    assert_eq!(
        repo.git(&["rev-list", "--count", "main..hybrid/port"])
            .trim(),
        "2"
    );
    repo.git(&["merge", "-q", "--ff-only", "hybrid/port"]);
    // Nothing left to fix.
    let mut cmd = repo.command("git");
    cmd.args([
        "hybrid",
        "fix",
        "hybrid/port",
        "--backend",
        "openai",
        "--model",
        "qwen",
    ])
    .env("GIT_HYBRID_OPENAI_BASE_URL", &local.url);
    repo.run(cmd).failure().stderr_has("already approved");
}

/// Findings are routed like tasks: the edge case goes to the local model, the security finding
/// to Claude; both fixes land on the branch, one re-review reads them, and the ledger books the
/// loop under `fix` at a fraction of the review it answers.
#[test]
fn the_fix_loop_gives_security_findings_to_claude() {
    use crate::support::openai::FakeOpenAi;
    let repo = TestRepo::with_generation();
    let api = FakeAnthropic::start(vec![
        Reply::Findings(
            r#"[{"path": "src/port.rs", "line": 6, "severity": "high", "category": "edge_cases", "message": "Port 0 is accepted.", "suggestion": "Reject 0."},
                {"path": "src/port.rs", "line": 6, "severity": "critical", "category": "security", "message": "The error echoes untrusted input into logs.", "suggestion": "Do not include the raw value."}]"#,
        ),
        Reply::Text(
            "<<<<<<< EDIT src/port.rs\n        Err(e) => Err(format!(\"bad port {trimmed}: {e}\")),\n=======\n        Err(e) => Err(format!(\"bad port: {e}\")),\n>>>>>>> END\n",
        ),
        Reply::Approve,
    ]);
    repo.review(&api, &["hybrid/port"]).failure();
    let local = FakeOpenAi::start(vec![PORT_ZERO_FIX.into()]);
    fix_port(&repo, &api, &local, &[])
        .success()
        .stderr_has("(local model 1, Claude 1)")
        .stderr_has("re-review approved")
        .stderr_has("the review it answers");
    // Each side saw only its own finding.
    let asked = local.requests()[0].clone();
    assert!(asked.contains("Port 0 is accepted.") && !asked.contains("untrusted input"));
    let claude = api.answered()[1].body.clone();
    assert!(claude.contains("untrusted input") && !claude.contains("Port 0 is accepted."));
    let rereview = api.answered()[2].body.clone();
    assert!(rereview.contains("port 0 is not allowed") && rereview.contains("bad port: {e}"));
    assert_eq!(
        repo.git(&["rev-list", "--count", "main..hybrid/port"])
            .trim(),
        "3"
    );
    // The loop is booked as `fix`: the local generation, Claude's fix and the re-review.
    assert_eq!(
        repo.count("SELECT COUNT(*) FROM usage WHERE phase = 'fix' AND provider = 'openai'"),
        1
    );
    assert_eq!(
        repo.count("SELECT COUNT(*) FROM usage WHERE phase = 'fix' AND provider = 'anthropic'"),
        2
    );
    repo.git(&["merge", "-q", "--ff-only", "hybrid/port"]);

    // Forced local, and without a key, a security finding has nowhere else to go.
    let repo = TestRepo::with_generation();
    let api = FakeAnthropic::start(vec![Reply::Findings(
        r#"[{"path": "src/port.rs", "line": 6, "severity": "critical", "category": "security", "message": "The error echoes untrusted input.", "suggestion": "Drop it."}]"#,
    )]);
    repo.review(&api, &["hybrid/port"]).failure();
    let mut cmd = repo.command("git");
    cmd.args([
        "hybrid",
        "fix",
        "hybrid/port",
        "--backend",
        "openai",
        "--model",
        "qwen",
    ])
    .env("GIT_HYBRID_OPENAI_BASE_URL", &local.url);
    repo.run(cmd)
        .failure()
        .stderr_has("are Claude's to fix")
        .stderr_has("--route local");
}

/// The loop is bounded: when every re-review still asks for changes, it stops after --rounds
/// rounds, says where things stand, and the gate keeps blocking.
#[test]
fn the_fix_loop_stops_after_its_rounds() {
    use crate::support::openai::FakeOpenAi;
    let repo = TestRepo::with_generation();
    let api = FakeAnthropic::start(vec![
        Reply::RequestChanges,
        Reply::RequestChanges,
        Reply::RequestChanges,
    ]);
    repo.review(&api, &["hybrid/port"]).failure();
    let local = FakeOpenAi::start(vec![
        PORT_ZERO_FIX.into(),
        "<<<<<<< EDIT src/port.rs\n        Ok(0) => Err(\"port 0 is not allowed\".to_string()),\n=======\n        Ok(0) => Err(\"port 0 is reserved\".to_string()),\n>>>>>>> END\n".into(),
    ]);
    fix_port(&repo, &api, &local, &["--rounds", "2"])
        .failure()
        .stderr_has("round 1: fix")
        .stderr_has("round 2: fix")
        .stderr_has("still not approved after 2 rounds");
    assert_eq!(api.answered().len(), 3, "one review and two re-reviews");
    assert_eq!(local.requests().len(), 2);
    assert_eq!(
        repo.git(&["rev-list", "--count", "main..hybrid/port"])
            .trim(),
        "3"
    );
    repo.try_git(&["merge", "--no-ff", "-m", "m", "hybrid/port"])
        .blocked();
}

/// A fix routed to Claude alone never opens the local model: a local engine that cannot be
/// opened (here: an OpenAI-compatible backend with no model named) does not stop it, and what
/// stops it is said (no key for Claude).
#[test]
fn a_fix_routed_to_claude_never_loads_the_local_model() {
    let repo = TestRepo::with_generation();
    let api = FakeAnthropic::start(vec![Reply::RequestChanges]);
    repo.review(&api, &["hybrid/port"]).failure();
    let fix = |route: &str| {
        repo.hybrid(&[
            "fix",
            "hybrid/port",
            "--backend",
            "openai",
            "--route",
            route,
        ])
    };
    fix("cloud")
        .failure()
        .stderr_has("are Claude's to fix")
        .stderr_lacks("--model");
    // Routed to the local model, the same engine is opened and says what is missing.
    fix("local").failure().stderr_has("--model");
}
