//! Other tools' attribution notes as local output: git-ai's authorship logs (`refs/notes/ai`)
//! and Agent Trace (`refs/notes/agent-trace`: its records, and its command-line tool's note
//! payload), written here in those tools' documented formats with `git notes`, read by
//! `adopt --from`, narrowed by the committed policy to the local tools and models — and ours
//! exported as Agent Trace records that read back the same.

use crate::support::{Run, TestRepo};

const LOCAL: &str = "pub fn local_sum(values: &[u64]) -> u64 {\n    values.iter().copied().fold(0, u64::wrapping_add)\n}\n";
const CLOUD: &str =
    "pub fn cloud_max(values: &[u64]) -> Option<u64> {\n    values.iter().copied().max()\n}\n";
const HUMAN: &str = "pub fn human_len(values: &[u64]) -> usize {\n    values.len() + 0\n}\n";

/// main with a policy that gates only the local tool and models; `work` adds three files, one
/// by a local model, one by a cloud model, one by a human.
fn session(policy: &str) -> (TestRepo, String) {
    let repo = TestRepo::new();
    repo.write(".hybrid.toml", policy);
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "policy"]);
    repo.git(&["checkout", "-q", "-b", "work"]);
    repo.write("src/local.rs", LOCAL);
    repo.write("src/cloud.rs", CLOUD);
    repo.write("src/human.rs", HUMAN);
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "one session, three authors"]);
    let commit = repo.rev("HEAD");
    repo.git(&["checkout", "-q", "main"]);
    (repo, commit)
}

fn add_note(repo: &TestRepo, notes_ref: &str, commit: &str, text: &str) {
    repo.write(".git/note.txt", text);
    repo.git(&[
        "notes",
        &format!("--ref={notes_ref}"),
        "add",
        "-F",
        ".git/note.txt",
        commit,
    ]);
}

/// The merge of `work` is blocked on exactly the local model's lines.
#[track_caller]
fn only_local_lines_block(repo: &TestRepo) {
    let run: Run = repo.try_git(&["merge", "--no-ff", "-q", "-m", "merge", "work"]);
    run.failure()
        .stderr_has("hybrid: blocked:")
        .stderr_has("src/local.rs: 2 lines (1-2)")
        .stderr_lacks("src/cloud.rs")
        .stderr_lacks("src/human.rs");
    repo.git(&["merge", "--abort"]);
}

#[test]
fn git_ai_notes_become_local_output_for_the_tools_the_policy_names() {
    let (repo, commit) = session("[adopt]\ntools = [\"aider\"]\n");
    add_note(
        &repo,
        "ai",
        &commit,
        &format!(
            "src/local.rs\n  aaaa1111bbbb2222 1-3\nsrc/cloud.rs\n  cccc3333dddd4444 1-3\nsrc/human.rs\n  h_0123456789abcd 1-3\n---\n{}",
            serde_json::json!({
                "schema_version": "authorship/3.0.0",
                "git_ai_version": "1.3.4",
                "base_commit_sha": commit,
                "prompts": {
                    "aaaa1111bbbb2222": {"agent_id": {"tool": "aider", "id": "s1", "model": "ollama/qwen2.5-coder:7b"},
                                         "human_author": "Human Dev", "total_additions": 3, "total_deletions": 0,
                                         "accepted_lines": 3, "overriden_lines": 0},
                    "cccc3333dddd4444": {"agent_id": {"tool": "claude", "id": "s2", "model": "claude-opus-4-5"},
                                         "human_author": "Human Dev", "total_additions": 3, "total_deletions": 0,
                                         "accepted_lines": 3, "overriden_lines": 0}
                },
                "humans": {"h_0123456789abcd": {"author": "Human Dev"}}
            })
        ),
    );
    // Before adopting, nothing is known: the merge passes the gate (and is undone here).
    let before = repo.rev("main");
    repo.git(&["merge", "--no-ff", "-q", "-m", "merge", "work"]);
    repo.git(&["reset", "-q", "--hard", &before]);
    repo.hybrid(&["adopt", "--from", "git-ai", "main..work"])
        .success()
        .stderr_has("read 1 git-ai note in main..work: 1 generation recorded, 2 lines of local output; 6 attributed lines left out");
    only_local_lines_block(&repo);
    // Again: nothing new.
    repo.hybrid(&["adopt", "--from", "git-ai", "main..work"])
        .success()
        .stderr_has("0 generations recorded");
}

#[test]
fn agent_trace_notes_become_local_output_for_the_models_the_policy_names() {
    let (repo, commit) = session("[adopt]\nmodels = [\"ollama/*\"]\n");
    let record = serde_json::json!({
        "version": "0.1.0",
        "id": "550e8400-e29b-41d4-a716-446655440000",
        "timestamp": "2026-01-23T14:30:00Z",
        "vcs": {"type": "git", "revision": commit},
        "tool": {"name": "continue", "version": "1.0.0"},
        "files": [
            {"path": "src/local.rs", "conversations": [{
                "url": "file:///tmp/session.jsonl",
                "contributor": {"type": "ai", "model_id": "ollama/qwen2.5-coder:7b"},
                "ranges": [{"start_line": 1, "end_line": 3, "content_hash": "murmur3:9f2e8a1b"}]}]},
            {"path": "src/cloud.rs", "conversations": [{
                "contributor": {"type": "ai", "model_id": "anthropic/claude-opus-4-5-20251101"},
                "ranges": [{"start_line": 1, "end_line": 3}]}]},
            {"path": "src/human.rs", "conversations": [{
                "contributor": {"type": "human"},
                "ranges": [{"start_line": 1, "end_line": 3}]}]}
        ],
        "metadata": {"confidence": 0.95}
    });
    add_note(&repo, "agent-trace", &commit, &record.to_string());
    repo.hybrid(&["adopt", "--from", "agent-trace", "main..work"])
        .success()
        .stderr_has("1 generation recorded, 2 lines of local output; 6 attributed lines left out");
    only_local_lines_block(&repo);
}

#[test]
fn the_agent_trace_command_line_notes_are_read_too() {
    let (repo, commit) = session("[adopt]\nmodels = [\"ollama/*\"]\n");
    let payload = serde_json::json!({
        "version": "2.0",
        "trace_ids": ["t-1", "t-2"],
        "ledger_hash": "sha256:0123abcd",
        "stats": {"ai_lines": 6, "total_changed_lines": 9},
        "ledger": {"files": {
            "src/local.rs": {"line_attributions": [
                {"start_line": 1, "end_line": 3, "type": "ai", "trace_id": "t-1", "model_id": "ollama/qwen2.5-coder:7b"}]},
            "src/cloud.rs": {"line_attributions": [
                {"start_line": 1, "end_line": 3, "type": "ai", "trace_id": "t-2", "model_id": "anthropic/claude-opus-4-5"}]}
        }}
    });
    add_note(&repo, "agent-trace", &commit, &payload.to_string());
    repo.hybrid(&["adopt", "--from", "agent-trace", "work"])
        .success()
        .stderr_has("2 lines of local output; 3 attributed lines left out");
    only_local_lines_block(&repo);
}

#[test]
fn notes_that_are_missing_or_malformed_record_nothing() {
    let (repo, commit) = session("[adopt]\ntools = [\"aider\"]\n");
    repo.hybrid(&["adopt", "--from", "git-ai", "main..work"])
        .failure()
        .stderr_has("no git-ai notes (refs/notes/ai) on the commits of main..work")
        .stderr_has("git fetch origin 'refs/notes/ai:refs/notes/ai'");
    add_note(
        &repo,
        "ai",
        &commit,
        "src/local.rs\n  aaaa 0-999999999\n---\n{}",
    );
    repo.hybrid(&["adopt", "--from", "git-ai", "main..work"])
        .failure()
        .stderr_has(&format!("the git-ai note on {commit} cannot be read"));
    assert_eq!(repo.count("SELECT COUNT(*) FROM generations"), 0);
    repo.git(&["merge", "--no-ff", "-q", "-m", "merge", "work"]);
}

/// Our generations as Agent Trace records: well-formed, and read back by `adopt --from` as the
/// same lines.
#[test]
fn generations_export_as_agent_trace_records_that_read_back() {
    let repo = TestRepo::with_generation();
    let run = repo.hybrid(&["export"]);
    run.success()
        .stderr_has("1 generation as Agent Trace records");
    let record: serde_json::Value = serde_json::from_str(run.stdout().trim()).unwrap();
    assert_eq!(record["version"], "0.1.0");
    assert_eq!(record["tool"]["name"], "git-hybrid");
    assert_eq!(record["vcs"]["revision"], repo.rev("hybrid/port"));
    assert_eq!(record["files"][0]["path"], "src/port.rs");
    let conversation = &record["files"][0]["conversations"][0];
    assert_eq!(conversation["contributor"]["type"], "ai");
    assert_eq!(conversation["contributor"]["model_id"], "qwen2.5-coder-7b");
    assert_eq!(record["timestamp"].as_str().unwrap().len(), 20);
    let lines_in_record: u64 = conversation["ranges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["end_line"].as_u64().unwrap() - r["start_line"].as_u64().unwrap() + 1)
        .sum();
    let recorded = repo.count("SELECT COUNT(*) FROM generation_lines") as u64;
    assert_eq!(lines_in_record, recorded);
    // Read back from a note, as another tool would find it.
    add_note(
        &repo,
        "agent-trace",
        &repo.rev("hybrid/port"),
        &record.to_string(),
    );
    repo.hybrid(&["adopt", "--from", "agent-trace", "hybrid/port"])
        .success()
        .stderr_has(&format!(
            "{recorded} lines of local output; 0 attributed lines left out"
        ));
}
