//! Batch reviews: submitted through the fake Message Batches API, collected by custom id,
//! priced at half, and never approving what an immediate review would not.

use crate::support::TestRepo;
use crate::support::anthropic::{FakeAnthropic, KEY, Reply};

/// `new()` plus two adopted generated branches, hybrid/port and hybrid/two.
fn two_generations() -> TestRepo {
    let repo = TestRepo::with_generation();
    repo.git(&["checkout", "-q", "-b", "hybrid/two"]);
    repo.write(
        "src/two.rs",
        "pub fn double_the_value(value: u64) -> Option<u64> {\n    value.checked_mul(2)\n}\n",
    );
    repo.git(&["add", "src/two.rs"]);
    repo.git(&["commit", "-q", "-m", "add double (generated)"]);
    repo.hybrid(&["adopt", "hybrid/two", "--model", "qwen2.5-coder-7b"])
        .success();
    repo.git(&["checkout", "-q", "main"]);
    repo
}

/// Two reviews in one batch; the results come back in the reverse order and are matched by
/// custom id; each is priced at half; only the approved one opens the gate.
#[test]
fn a_batch_review_is_collected_by_custom_id_at_half_price() {
    let repo = two_generations();
    // Results are answered last request first: hybrid/two gets the approval.
    let api = FakeAnthropic::start(vec![Reply::Approve, Reply::RequestChanges]);
    repo.hybrid_with_api(&api, &["review", "--batch", "hybrid/port", "hybrid/two"])
        .success()
        .stderr_has(
            "submitted hybrid/port, hybrid/two for review at half price: batch msgbatch_fake_",
        )
        .stderr_has("git hybrid review --collect");
    let created = api.batches_created();
    assert_eq!(created.len(), 1);
    let requests = created[0]["requests"].as_array().unwrap();
    let ids: Vec<&str> = requests
        .iter()
        .map(|r| r["custom_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["r0-p0", "r1-p0"]);
    assert!(requests.iter().all(|r| r["params"].get("stream").is_none()));
    assert!(
        requests[1]["params"]
            .to_string()
            .contains("double_the_value")
    );
    // What left the machine is audited at submission.
    assert_eq!(
        repo.count("SELECT COUNT(*) FROM requests WHERE outcome LIKE 'batch msgbatch_fake_%'"),
        1
    );

    // In flight: the gate still blocks, pending says where the reviews are, no second batch.
    repo.hybrid(&["verify", "main..hybrid/two"]).failure();
    repo.hybrid(&["pending"])
        .success()
        .stdout_has("in review batch msgbatch_fake_")
        .stdout_has("its review is waiting in batch");
    let json: serde_json::Value =
        serde_json::from_str(&repo.hybrid(&["pending", "--json"]).stdout()).unwrap();
    assert!(
        json[0]["in_batch"]
            .as_str()
            .unwrap()
            .starts_with("msgbatch_fake_")
    );
    repo.hybrid_with_api(&api, &["review", "--batch", "hybrid/two"])
        .success()
        .stderr_has("is already in batch");
    assert_eq!(api.batches_created().len(), 1);

    // First look: still running (exit 1 so that `--collect && merge` waits).
    repo.hybrid_with_api(&api, &["review", "--collect"])
        .failure()
        .stderr_has("still running");
    // Ended: each verdict where it belongs.
    let run = repo.hybrid_with_api(&api, &["review", "--collect"]);
    run.failure()
        .stderr_has("reviewed hybrid/two")
        .stdout_has("approved: the gate now lets change")
        .stderr_has("reviewed hybrid/port")
        .stdout_has("Port 0 is accepted.");
    assert_eq!(
        repo.count(
            "SELECT COUNT(*) FROM verdicts WHERE target = 'hybrid/two' AND decision = 'approve'"
        ),
        1
    );
    assert_eq!(
        repo.count("SELECT COUNT(*) FROM verdicts WHERE target = 'hybrid/port' AND decision = 'request_changes'"),
        1
    );
    // Half price, by hand from the rows (claude-opus-5-5: $/Mtok 4 in, 20 out, 5 cache write,
    // 0.20 cache read).
    let conn = repo.sqlite();
    let mut stmt = conn
        .prepare("SELECT input_tokens, output_tokens, cache_write_tokens, cache_read_tokens, usd, batch, phase FROM usage")
        .unwrap();
    let rows: Vec<(i64, i64, i64, i64, f64, bool, String)> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 2);
    for (i, o, w, r, usd, batch, phase) in rows {
        let full = (i as f64 * 4.0 + o as f64 * 20.0 + w as f64 * 5.0 + r as f64 * 0.2) / 1e6;
        assert!((usd - full / 2.0).abs() < 1e-12, "{usd} vs {full}");
        assert!(batch);
        assert_eq!(phase, "review");
    }

    repo.hybrid(&["verify", "main..hybrid/port"]).failure();
    repo.git(&["merge", "-q", "--ff-only", "hybrid/two"]);
    // Collected once: nothing in flight any more, and collecting again writes nothing.
    repo.hybrid_with_api(&api, &["review", "--collect"])
        .success()
        .stderr_has("no review batches in flight");
    repo.hybrid(&["pending"])
        .success()
        .stderr_lacks("in review batch");
    assert_eq!(repo.count("SELECT COUNT(*) FROM verdicts"), 2);
}

/// A request the batch never ran leaves no verdict and says to review again; a batch the API no
/// longer knows is marked lost; `--wait` polls until the batch ends, and says so in a log.
#[test]
fn what_a_batch_did_not_run_approves_nothing() {
    let repo = TestRepo::with_generation();
    let api = FakeAnthropic::start(vec![Reply::Expired]);
    api.set_batch_looks(3);
    repo.hybrid_with_api(&api, &["review", "--batch", "hybrid/port"])
        .success();
    repo.hybrid_with_api(&api, &["review", "--collect", "--wait"])
        .failure()
        // Off a terminal the wait is not silent: a line whenever where it stands changes.
        .stderr_has("0 of 1 requests done; waiting")
        .stdout_has("not reviewed: the batch did not run this request: expired")
        .stderr_has("review it again: git hybrid review --batch hybrid/port");
    assert_eq!(repo.count("SELECT COUNT(*) FROM verdicts"), 0);
    repo.try_git(&["merge", "--no-ff", "-m", "m", "hybrid/port"])
        .blocked();
    let looks = api
        .log()
        .iter()
        .filter(|l| l.method == "GET" && !l.url.ends_with("/results"))
        .count();
    assert_eq!(looks, 4, "three looks in progress, the fourth ended");

    // An errored request is no verdict either; then the API forgets the batch.
    let api = FakeAnthropic::start(vec![Reply::overloaded()]);
    repo.hybrid_with_api(&api, &["review", "--batch", "hybrid/port"])
        .success();
    repo.hybrid_with_api(&api, &["review", "--collect", "--wait"])
        .failure()
        .stderr_has("overloaded_error");
    assert_eq!(repo.count("SELECT COUNT(*) FROM verdicts"), 0);
    repo.hybrid_with_api(&api, &["review", "--batch", "hybrid/port"])
        .success();
    let other = FakeAnthropic::start(vec![]);
    repo.hybrid_with_api(&other, &["review", "--collect"])
        .failure()
        .stderr_has("lost")
        .stderr_has("git hybrid review --batch hybrid/port");
    assert_eq!(
        repo.count("SELECT COUNT(*) FROM review_batches WHERE state = 'lost'"),
        1
    );
    // Without a key, nothing is sent and the message says what to set.
    repo.hybrid(&["review", "--batch", "hybrid/port"])
        .failure()
        .stderr_has("ANTHROPIC_API_KEY");
    // Several targets need --batch.
    repo.hybrid(&["review", "hybrid/port", "main"])
        .failure()
        .stderr_has("add --batch");
}

/// The fake's batch endpoint refuses what the real one refuses.
#[test]
fn the_fake_batch_api_refuses_malformed_batches() {
    use serde_json::json;
    let api = FakeAnthropic::start(vec![]);
    let params = json!({"model": "claude-opus-5-5", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]});
    let path = "/v1/messages/batches";
    let post = |body: serde_json::Value| crate::review::post_at(&api, path, Some(KEY), &body);
    let ok = json!({"requests": [{"custom_id": "r0-p0", "params": params}]});
    assert_eq!(post(ok.clone()).0, 200);
    assert_eq!(crate::review::post_at(&api, path, None, &ok).0, 401);
    let mut streamed = params.clone();
    streamed["stream"] = json!(true);
    let mut hot = params.clone();
    hot["temperature"] = json!(0.5);
    for (body, says) in [
        (json!({"requests": []}), "requests"),
        (
            json!({"requests": [{"custom_id": "r0-p0", "params": streamed}]}),
            "streaming is not supported",
        ),
        (
            json!({"requests": [{"custom_id": "a b", "params": params}]}),
            "custom_id",
        ),
        (
            json!({"requests": [{"custom_id": "x", "params": params}, {"custom_id": "x", "params": params}]}),
            "duplicate",
        ),
        (
            json!({"requests": [{"custom_id": "x", "params": hot}]}),
            "requests.0.params.temperature",
        ),
        (json!({"requests": [], "priority": 1}), "priority"),
    ] {
        let (status, answer) = post(body.clone());
        assert_eq!(status, 400, "{body}");
        assert!(answer.contains(says), "{answer}");
    }
}
