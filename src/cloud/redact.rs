//! What must not leave the machine, and what must not pass unseen.
//!
//! Secrets are replaced by `[REDACTED:<rule>]` before any text is sent, with gitleaks-style rules:
//! well-known token shapes, private key blocks, and generic `secret = "…"` assignments whose value
//! looks random (Shannon entropy). Invisible and bidirectional control characters (Trojan Source,
//! Unicode tag characters) are found locally, so they are reported whatever the reviewer says.
//! This module never logs what it finds, only where and which rule.

use std::sync::OnceLock;

use regex::Regex;

/// A secret-shaped token, by rule name.
struct Rule {
    name: &'static str,
    pattern: Regex,
    /// For generic assignments: the value group must look random.
    min_entropy: Option<f64>,
}

fn rules() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| {
        let rule = |name, pattern: &str, min_entropy| Rule {
            name,
            // The patterns are constants; a typo in one is a bug caught by the tests below.
            pattern: Regex::new(pattern).unwrap_or_else(|e| panic!("rule {name}: {e}")),
            min_entropy,
        };
        vec![
            rule(
                "private-key",
                r"-----BEGIN[A-Z ]*PRIVATE KEY( BLOCK)?-----[\s\S]*?(-----END[A-Z ]*PRIVATE KEY( BLOCK)?-----|\z)",
                None,
            ),
            rule("aws-access-key", r"\b(A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b", None),
            rule(
                "aws-secret-key",
                r#"(?i)aws.{0,20}(secret|private).{0,20}?['"=:\s]([A-Za-z0-9/+]{40})\b"#,
                None,
            ),
            rule("anthropic-key", r"\bsk-ant-[A-Za-z0-9_\-]{20,}", None),
            rule("openai-key", r"\bsk-(proj-|svcacct-)?[A-Za-z0-9_\-]{20,}", None),
            rule("github-token", r"\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})", None),
            rule("slack-token", r"\bxox[baprs]-[A-Za-z0-9\-]{10,}", None),
            rule("google-api-key", r"\bAIza[0-9A-Za-z_\-]{35}\b", None),
            rule("stripe-key", r"\b(sk|rk)_live_[0-9A-Za-z]{20,}", None),
            rule(
                "generic-secret",
                r#"(?i)(password|passwd|secret|token|api[_\-]?key|auth[_\-]?key|access[_\-]?key|credential)s?["']?\s*[:=]\s*["']?([A-Za-z0-9+/=_\-!@#$%^&*~.]{12,})"#,
                Some(3.5),
            ),
        ]
    })
}

/// Bits per character of the text's own character distribution.
fn entropy(text: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    let mut total = 0.0;
    for c in text.chars() {
        *counts.entry(c).or_insert(0.0) += 1.0;
        total += 1.0;
    }
    counts
        .values()
        .map(|n: &f64| {
            let p = n / total;
            -p * p.log2()
        })
        .sum()
}

/// Text with secrets replaced, and the rules that fired (one entry per secret).
pub fn redact(text: &str) -> (String, Vec<&'static str>) {
    let mut out = text.to_string();
    let mut fired = Vec::new();
    for rule in rules() {
        let mut result = String::with_capacity(out.len());
        let mut last = 0;
        for caps in rule.pattern.captures_iter(&out) {
            let whole = caps.get(0).map(|m| m.range()).unwrap_or(0..0);
            // Generic rules replace only the value; token rules the whole token.
            let range = match rule.min_entropy {
                // Random values have digits and spread-out characters; identifiers such as
                // `config.api_key` do not.
                Some(min) => match caps.get(caps.len() - 1) {
                    Some(value)
                        if entropy(value.as_str()) >= min
                            && value.as_str().chars().any(|c| c.is_ascii_digit()) =>
                    {
                        value.range()
                    }
                    _ => continue,
                },
                None => whole,
            };
            result.push_str(&out[last..range.start]);
            result.push_str(&format!("[REDACTED:{}]", rule.name));
            last = range.end;
            fired.push(rule.name);
        }
        result.push_str(&out[last..]);
        out = result;
    }
    (out, fired)
}

/// An invisible or direction-changing character where code is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hidden {
    pub column: usize,
    pub codepoint: char,
    pub what: &'static str,
}

/// Characters that make code read differently from how it runs (Trojan Source, CVE-2021-42574),
/// or that hide text from a reviewer.
pub fn hidden_characters(line: &str) -> Vec<Hidden> {
    line.chars()
        .enumerate()
        .filter_map(|(column, c)| {
            let what = match c {
                '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => "bidirectional control",
                '\u{200E}' | '\u{200F}' | '\u{061C}' => "direction mark",
                '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' => {
                    "invisible character"
                }
                '\u{E0000}'..='\u{E007F}' => "Unicode tag character",
                _ => return None,
            };
            Some(Hidden {
                column: column + 1,
                codepoint: c,
                what,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_compile_and_redact_known_shapes() {
        let cases = [
            ("key = AKIAIOSFODNN7EXAMPLE", "aws-access-key"),
            (
                "ANTHROPIC_API_KEY=sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345",
                "anthropic-key",
            ),
            (
                "token: ghp_0123456789abcdefghijABCDEFGHIJ0123456789",
                "github-token",
            ),
            (
                "openai = \"sk-proj-Ab3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI\"",
                "openai-key",
            ),
            ("db_password = \"q8X!z2#Lm9@pR4vT\"", "generic-secret"),
        ];
        for (text, rule) in cases {
            let (out, fired) = redact(text);
            assert!(fired.contains(&rule), "{text} -> {fired:?}");
            assert!(out.contains(&format!("[REDACTED:{rule}]")), "{out}");
        }
        let key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1\nabc\n-----END RSA PRIVATE KEY-----\nafter";
        let (out, fired) = redact(key);
        assert_eq!(fired, vec!["private-key"]);
        assert_eq!(out, "[REDACTED:private-key]\nafter");
    }

    #[test]
    fn ordinary_code_is_left_alone() {
        for text in [
            "let password = read_password()?;",
            "token = next_token(&mut lexer)",
            "if secret_len > 0 { return Err(e); }",
            "api_key = config.api_key.clone()",
        ] {
            assert_eq!(redact(text).0, text);
        }
    }

    #[test]
    fn finds_trojan_source_and_tags() {
        let line =
            "if access_level != \"user\u{202E} \u{2066}// Check if admin\u{2069} \u{2066}\" {";
        let found = hidden_characters(line);
        assert_eq!(found.len(), 4);
        assert_eq!(found[0].what, "bidirectional control");
        assert_eq!(
            hidden_characters("a\u{E0041}b")[0].what,
            "Unicode tag character"
        );
        assert!(hidden_characters("plain ascii and é ü ß").is_empty());
    }
}
