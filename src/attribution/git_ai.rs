//! git-ai's authorship log (`refs/notes/ai`, schema `authorship/3.x`): an attestation section —
//! a file path on its own line, then indented `<id> <ranges>` lines (`1-5,7,9-12`) — a line
//! `---`, and JSON whose `prompts` (and `sessions`) name each id's agent (`agent_id.tool`,
//! `agent_id.model`) and whose `humans` name the ids of people (`h_…`).

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Attribution, line_range};

pub(super) fn parse(note: &str) -> Result<Vec<Attribution>, String> {
    // A note written on Windows keeps its CRLF line ends; the divider is still a line `---`.
    let note = &note.replace("\r\n", "\n");
    let (attestations, metadata) = note
        .split_once("\n---\n")
        .or_else(|| note.strip_suffix("\n---").map(|a| (a, "")))
        .ok_or("no `---` line between the attestations and the metadata")?;
    let metadata: Value = if metadata.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(metadata).map_err(|e| format!("its metadata is not JSON: {e}"))?
    };
    if let Some(version) = metadata.get("schema_version").and_then(Value::as_str)
        && !version.starts_with("authorship/3.")
    {
        return Err(format!(
            "schema {version} is not one this binary reads (authorship/3.x)"
        ));
    }
    let mut out = Vec::new();
    let mut path: Option<String> = None;
    for line in attestations.lines().filter(|l| !l.trim().is_empty()) {
        if !line.starts_with(' ') && !line.starts_with('\t') {
            path = Some(unquote(line.trim_end()));
            continue;
        }
        let file = path
            .clone()
            .ok_or_else(|| format!("an attestation before any file: {line:?}"))?;
        let (id, ranges) = line
            .trim()
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("not `<id> <ranges>`: {line:?}"))?;
        let mut lines = BTreeSet::new();
        for part in ranges.trim().split(',') {
            let (start, end) = part.split_once('-').unwrap_or((part, part));
            let number = |n: &str| {
                n.trim()
                    .parse::<u64>()
                    .map_err(|_| format!("{part:?} is not a line range"))
            };
            lines.extend(line_range(number(start)?, number(end)?)?);
        }
        let (ai, tool, model) = agent(&metadata, id);
        out.push(Attribution {
            path: file,
            lines,
            ai,
            tool,
            model,
        });
    }
    Ok(out)
}

/// Who an attestation id names: a person (`h_…`, or listed under `humans`), else an agent with
/// the tool and model its prompt or session says. An id the metadata does not explain is still
/// an AI's (it is in an AI authorship log), with no tool or model.
fn agent(metadata: &Value, id: &str) -> (bool, Option<String>, Option<String>) {
    if id.starts_with("h_") || metadata.pointer(&format!("/humans/{id}")).is_some() {
        return (false, None, None);
    }
    let session = id.split("::").next().unwrap_or(id);
    let agent = metadata
        .get("prompts")
        .and_then(|p| p.get(id))
        .or_else(|| metadata.get("sessions").and_then(|s| s.get(session)))
        .and_then(|entry| entry.get("agent_id"));
    let field = |name: &str| {
        agent
            .and_then(|a| a.get(name))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    (true, field("tool"), field("model"))
}

/// A path as git-ai writes one: quoted (with `\"` and `\\`) when it has spaces or quotes.
fn unquote(text: &str) -> String {
    match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(inner) => inner.replace("\\\"", "\"").replace("\\\\", "\\"),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_authorship_log() {
        let note = r#"src/main.rs
  abcd1234abcd1234 1-3,7
  h_0123456789abcd 4-6
"docs/with space.md"
  s_a76964380084ef::t_a3a130d3e145e3 2
---
{
  "schema_version": "authorship/3.0.0",
  "base_commit_sha": "ae20f6f29e22293875cbfa6e6252db59360d960a",
  "prompts": {
    "abcd1234abcd1234": {"agent_id": {"tool": "aider", "id": "x", "model": "ollama/qwen2.5-coder"}}
  },
  "humans": {"h_0123456789abcd": {"author": "A Person"}},
  "sessions": {"s_a76964380084ef": {"agent_id": {"tool": "claude", "model": "claude-opus-5"}}}
}"#;
        let found = parse(note).unwrap();
        assert_eq!(found.len(), 3);
        assert_eq!(found[0].lines, [1, 2, 3, 7].into());
        assert_eq!(
            (
                found[0].ai,
                found[0].tool.as_deref(),
                found[0].model.as_deref()
            ),
            (true, Some("aider"), Some("ollama/qwen2.5-coder"))
        );
        assert!(!found[1].ai);
        assert_eq!(found[2].path, "docs/with space.md");
        assert_eq!(found[2].tool.as_deref(), Some("claude"));
        let crlf = parse(&note.replace('\n', "\r\n")).unwrap();
        assert_eq!(crlf, found);
        assert!(parse("src/a.rs\n  x 1-2\n").is_err(), "no divider");
        assert!(parse("src/a.rs\n  x 0-2\n---\n{}").is_err());
        assert!(parse("  x 1\n---\n{}").is_err(), "no file");
        assert!(parse("a\n  x 1\n---\n{\"schema_version\":\"authorship/9.0.0\"}").is_err());
    }
}
