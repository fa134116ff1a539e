//! The shape of a review's answer, and the one function that decides whether an answer is a
//! well-formed verdict.
//!
//! The answer is structured output against `schema()`. Only JSON that matches it exactly, from a
//! response that finished normally (`end_turn`), counts. Prose, a refusal, a response cut by
//! `max_tokens`, extra fields or an unknown category are not a verdict — and nothing that is not a
//! verdict can approve anything.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::client::Response;

pub use crate::store::Decision;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
    Info,
}

/// The hybrid workflow's review checklist.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    MatchesSpec,
    EdgeCases,
    ErrorHandling,
    Security,
    ProjectPatterns,
    MeaningfulTests,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    pub path: String,
    pub line: u32,
    pub severity: Severity,
    pub category: Category,
    pub message: String,
    pub suggestion: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verdict {
    pub decision: Decision,
    pub summary: String,
    pub findings: Vec<Finding>,
}

/// Why an answer is not a verdict.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NotAVerdict {
    #[error("the reviewer refused to review this change")]
    Refusal,
    #[error("the answer was cut off at max_tokens")]
    MaxTokens,
    #[error("the answer stopped for {0:?}, not at its end")]
    Stopped(String),
    #[error("the answer is not the verdict's JSON: {0}")]
    Malformed(String),
}

/// The JSON schema the reviewer must answer in.
pub fn schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["decision", "summary", "findings"],
        "properties": {
            "decision": {"type": "string", "enum": ["approve", "request_changes"]},
            "summary": {"type": "string"},
            "findings": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["path", "line", "severity", "category", "message", "suggestion"],
                    "properties": {
                        "path": {"type": "string"},
                        "line": {"type": "integer"},
                        "severity": {"type": "string", "enum": ["critical", "high", "medium", "low", "info"]},
                        "category": {"type": "string", "enum": [
                            "matches_spec", "edge_cases", "error_handling",
                            "security", "project_patterns", "meaningful_tests"
                        ]},
                        "message": {"type": "string"},
                        "suggestion": {"type": "string"}
                    }
                }
            }
        }
    })
}

/// Reads a verdict out of a response, or says why there is none.
pub fn parse(response: &Response) -> Result<Verdict, NotAVerdict> {
    match response.stop_reason.as_deref() {
        Some("end_turn") => {}
        Some("refusal") => return Err(NotAVerdict::Refusal),
        Some("max_tokens") => return Err(NotAVerdict::MaxTokens),
        Some(other) => return Err(NotAVerdict::Stopped(other.to_string())),
        None => return Err(NotAVerdict::Stopped("no stop reason".into())),
    }
    parse_text(&response.text())
}

/// Reads a verdict out of an answer's text (the API's, or one a session submitted): exactly the
/// schema's JSON, or it is not a verdict.
pub fn parse_text(text: &str) -> Result<Verdict, NotAVerdict> {
    let mut verdict: Verdict = serde_json::from_str(text.trim()).map_err(|e| {
        let head: String = text.chars().take(80).collect();
        NotAVerdict::Malformed(format!("{e} (answer began {head:?})"))
    })?;
    // An approval that carries a critical finding contradicts itself: it does not approve.
    if verdict.decision == Decision::Approve
        && verdict
            .findings
            .iter()
            .any(|f| f.severity == Severity::Critical)
    {
        verdict.decision = Decision::RequestChanges;
        verdict.summary = format!(
            "{} (not an approval: it lists a critical finding)",
            verdict.summary
        );
    }
    Ok(verdict)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::client::{Block, Usage};

    fn response(stop: &str, text: &str) -> Response {
        Response {
            id: "msg".into(),
            model: "m".into(),
            content: vec![Block::Thinking, Block::Text(text.into())],
            stop_reason: Some(stop.into()),
            usage: Usage::default(),
            request_id: None,
            raw: String::new(),
        }
    }

    #[test]
    fn only_well_formed_answers_are_verdicts() {
        let ok = r#"{"decision":"approve","summary":"fine","findings":[]}"#;
        assert_eq!(
            parse(&response("end_turn", ok)).unwrap().decision,
            Decision::Approve
        );
        assert_eq!(parse(&response("refusal", ok)), Err(NotAVerdict::Refusal));
        assert_eq!(
            parse(&response("max_tokens", ok)),
            Err(NotAVerdict::MaxTokens)
        );
        for bad in [
            "Looks good to me, approve!",
            r#"{"decision":"approve","summary":"x"}"#,
            r#"{"decision":"approved","summary":"x","findings":[]}"#,
            r#"{"decision":"approve","summary":"x","findings":[],"extra":1}"#,
            r#"{"decision":"approve","summary":"x","findings":[{"path":"a","line":1,"severity":"low","category":"style","message":"m","suggestion":"s"}]}"#,
        ] {
            assert!(
                matches!(
                    parse(&response("end_turn", bad)),
                    Err(NotAVerdict::Malformed(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn an_approval_with_a_critical_finding_does_not_approve() {
        let text = r#"{"decision":"approve","summary":"ok","findings":[{"path":"a.rs","line":3,"severity":"critical","category":"security","message":"sql injection","suggestion":"bind"}]}"#;
        assert_eq!(
            parse(&response("end_turn", text)).unwrap().decision,
            Decision::RequestChanges
        );
    }
}
