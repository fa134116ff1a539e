//! Agent Trace: trace records (`version`, `id`, `timestamp`, `vcs`, `tool`, `files` → `conversations`
//! → `ranges`, each conversation's `contributor` with its `type` and `model_id`), and the note its
//! command-line tool attaches under `refs/notes/agent-trace` (payload version `2.0`, whose inline
//! `ledger.files.<path>.line_attributions` hold AI ranges with their `model_id`). A note may hold
//! one record, an array of them, or one per line.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Attribution, line_range};
use crate::store::{self, Store};

/// The Agent Trace version our records follow.
const VERSION: &str = "0.1.0";

pub(super) fn parse(note: &str) -> Result<Vec<Attribution>, String> {
    let values: Vec<Value> = match serde_json::from_str::<Value>(note) {
        Ok(Value::Array(items)) => items,
        Ok(value) => vec![value],
        // One record per line (JSON Lines).
        Err(_) => note
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).map_err(|e| format!("not JSON: {e}")))
            .collect::<Result<_, _>>()?,
    };
    let mut out = Vec::new();
    for value in &values {
        if value.get("ledger").is_some() || value.get("trace_ids").is_some() {
            out.extend(ledger(value)?);
        } else if value.get("files").is_some() {
            out.extend(record(value)?);
        } else {
            return Err("neither a trace record (files) nor a note payload (ledger)".into());
        }
    }
    Ok(out)
}

fn number(v: &Value, field: &str) -> Result<u64, String> {
    v.get(field)
        .and_then(Value::as_u64)
        .ok_or_else(|| format!("a range without a whole-number {field}"))
}

fn ranges(list: Option<&Value>) -> Result<Vec<(&Value, BTreeSet<u32>)>, String> {
    list.and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let lines = line_range(number(r, "start_line")?, number(r, "end_line")?)?;
            Ok((r, lines.collect()))
        })
        .collect()
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_string)
}

/// A trace record: every range of every conversation, attributed to its contributor (a range's
/// own contributor overrides the conversation's). `ai` and `mixed` are an AI's work.
fn record(value: &Value) -> Result<Vec<Attribution>, String> {
    let version = value.get("version").and_then(Value::as_str).unwrap_or("");
    if !version.starts_with("0.") {
        return Err(format!(
            "trace record version {version:?} is not one this binary reads (0.x)"
        ));
    }
    let tool = text(value.pointer("/tool/name"));
    let files = value
        .get("files")
        .and_then(Value::as_array)
        .ok_or("files is not a list")?;
    let mut out = Vec::new();
    for file in files {
        let path = text(file.get("path")).ok_or("a file without a path")?;
        for conversation in file
            .get("conversations")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let contributor = conversation.get("contributor");
            for (range, lines) in ranges(conversation.get("ranges"))? {
                let who = range.get("contributor").or(contributor);
                let kind = who.and_then(|c| c.get("type")).and_then(Value::as_str);
                out.push(Attribution {
                    path: path.clone(),
                    lines,
                    ai: matches!(kind, Some("ai" | "mixed")),
                    tool: tool.clone(),
                    model: text(who.and_then(|c| c.get("model_id"))),
                });
            }
        }
    }
    Ok(out)
}

/// The command-line tool's note payload: its inline ledger's AI ranges (the tool that wrote them
/// is not in the note). A note without a ledger names no lines.
fn ledger(value: &Value) -> Result<Vec<Attribution>, String> {
    let Some(files) = value.pointer("/ledger/files").and_then(Value::as_object) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (path, file) in files {
        for (range, lines) in ranges(file.get("line_attributions"))? {
            out.push(Attribution {
                path: path.clone(),
                lines,
                ai: range.get("type").and_then(Value::as_str) == Some("ai"),
                tool: None,
                model: text(range.get("model_id")),
            });
        }
    }
    Ok(out)
}

/// Our generations as Agent Trace records, one per generation (those read from another tool's
/// notes stay theirs): the lines each recorded as ranges of the commit it made, its model as the
/// contributor, `git-hybrid` as the tool. The record's id is derived from the generation's, so
/// exporting twice gives the same records.
pub fn export(store: &Store) -> Result<Vec<Value>, store::Error> {
    let mut out = Vec::new();
    for (g, at) in store.generation_records(false)? {
        if g.kind == "agent-trace" || g.kind == "git-ai" {
            continue;
        }
        let mut by_path: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
        for (_, path, line) in &g.lines {
            if *line > 0 {
                by_path
                    .entry(String::from_utf8_lossy(path).into_owned())
                    .or_default()
                    .insert(*line);
            }
        }
        let files: Vec<Value> = by_path
            .into_iter()
            .map(|(path, lines)| {
                json!({
                    "path": path,
                    "conversations": [{
                        "contributor": {"type": "ai", "model_id": g.model},
                        "ranges": runs(&lines)
                            .into_iter()
                            .map(|(start, end)| json!({"start_line": start, "end_line": end}))
                            .collect::<Vec<_>>(),
                    }],
                })
            })
            .collect();
        out.push(json!({
            "version": VERSION,
            "id": uuid_for(&g.id),
            "timestamp": rfc3339(at),
            "vcs": {"type": "git", "revision": g.result_commit},
            "tool": {"name": "git-hybrid", "version": env!("CARGO_PKG_VERSION")},
            "files": files,
            "metadata": {"dev.git-hybrid": {
                "generation": g.id,
                "kind": g.kind,
                "spec": g.spec_path,
                "branch": g.branch,
                "base": g.base_commit,
                "change_id": g.change_id,
            }},
        }));
    }
    Ok(out)
}

/// Consecutive line numbers as (start, end) runs.
fn runs(lines: &BTreeSet<u32>) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> = Vec::new();
    for &n in lines {
        match out.last_mut() {
            Some((_, end)) if *end + 1 == n => *end = n,
            _ => out.push((n, n)),
        }
    }
    out
}

/// A UUID (version 8: derived, not random) for a generation id.
fn uuid_for(id: &str) -> String {
    let digest = Sha256::digest(format!("git-hybrid agent-trace {id}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = crate::digest::hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// Seconds since the epoch as an RFC 3339 UTC timestamp. Written here rather than pulling in a
/// date crate for one format: the civil-from-days conversion is a few lines of arithmetic.
fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_records_and_the_cli_payload() {
        let record = r#"{"version": "0.1.0", "id": "550e8400-e29b-41d4-a716-446655440000",
          "timestamp": "2026-01-23T14:30:00Z", "vcs": {"type": "git", "revision": "a1b2"},
          "tool": {"name": "cursor", "version": "2.4.0"},
          "files": [{"path": "src/p.ts", "conversations": [
            {"contributor": {"type": "ai", "model_id": "openai/gpt-4o"},
             "ranges": [{"start_line": 2, "end_line": 4, "content_hash": "murmur3:9f2e8a1b"},
                        {"start_line": 9, "end_line": 9, "contributor": {"type": "human"}}]}]}]}"#;
        let found = parse(record).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].lines, [2, 3, 4].into());
        assert_eq!(found[0].tool.as_deref(), Some("cursor"));
        assert_eq!(found[0].model.as_deref(), Some("openai/gpt-4o"));
        assert!(found[0].ai && !found[1].ai);
        let payload = r#"{"version": "2.0", "trace_ids": ["t1"], "ledger_hash": "sha256:00",
          "stats": {"ai_lines": 2},
          "ledger": {"files": {"a.py": {"line_attributions": [
            {"start_line": 1, "end_line": 2, "type": "ai", "trace_id": "t1", "model_id": "ollama/qwen"}]}}}}"#;
        let found = parse(payload).unwrap();
        assert_eq!(
            (found[0].path.as_str(), found[0].model.as_deref()),
            ("a.py", Some("ollama/qwen"))
        );
        let lines = format!(
            "{}\n{}\n",
            record.replace('\n', " "),
            payload.replace('\n', " ")
        );
        assert_eq!(parse(&lines).unwrap().len(), 3);
        assert!(parse("{\"version\": \"0.1.0\", \"files\": [{\"path\": \"a\", \"conversations\": [{\"ranges\": [{\"start_line\": 3, \"end_line\": 1}]}]}]}").is_err());
        assert!(parse("{}").is_err());
    }

    #[test]
    fn timestamps_ids_and_runs() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_767_225_600), "2026-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_827_696), "2000-02-29T12:34:56Z");
        let id = uuid_for("g-1");
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "8");
        assert_eq!(id, uuid_for("g-1"));
        assert_eq!(
            runs(&[1, 2, 3, 7, 9, 10].into()),
            vec![(1, 3), (7, 7), (9, 10)]
        );
    }
}
