//! What must not leave the machine, and what must not pass unseen.
//!
//! Secrets are replaced by `[REDACTED:<rule>]` before any text is sent, with gitleaks-style rules:
//! well-known token shapes (cloud providers, package registries, AI APIs, chat webhooks, JWTs…),
//! private key blocks, credentials inside URLs and connection strings, and generic
//! `secret = "…"` assignments whose value looks random (Shannon entropy). A line a rule changed
//! or swallowed was not sent as written, so no approval ever covers it (see `review`). Invisible and bidirectional control characters (Trojan Source,
//! Unicode tag characters) are found locally, so they are reported whatever the reviewer says.
//! This module never logs what it finds, only where and which rule.

use std::sync::OnceLock;

use regex::Regex;

/// A secret-shaped token, by rule name.
struct Rule {
    name: &'static str,
    pattern: Regex,
    part: Part,
}

/// What of a match is the secret.
#[derive(Clone, Copy)]
enum Part {
    /// The whole match (a token with a recognisable shape).
    Whole,
    /// One capture group (the password in a URL, the value after `AccountKey=`).
    Group(usize),
    /// Whichever capture group took part (patterns with alternatives).
    FirstGroup,
    /// The last capture group, and only when it looks random: at least this many bits of
    /// Shannon entropy per character and a digit (generic `secret = "…"` assignments).
    Random(f64),
}

/// The rule families of gitleaks-class scanners (learned from their published rule sets, written
/// here from the token formats), plus credentials inside connection strings and URLs. A rule is
/// added with a sample in `tests/data/secrets.txt`; look-alikes that must survive go in
/// `tests/data/not-secrets.txt`.
const RULES: &[(&str, &str, Part)] = &[
    (
        "private-key",
        r"-----BEGIN[A-Z ]*PRIVATE KEY( BLOCK)?-----[\s\S]*?(-----END[A-Z ]*PRIVATE KEY( BLOCK)?-----|\z)",
        Part::Whole,
    ),
    (
        "age-secret-key",
        r"\bAGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}\b",
        Part::Whole,
    ),
    (
        "aws-access-key",
        r"\b(A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b",
        Part::Whole,
    ),
    (
        "aws-secret-key",
        r#"(?i)aws.{0,20}(secret|private).{0,20}?['"=:\s]([A-Za-z0-9/+]{40})\b"#,
        Part::Group(2),
    ),
    (
        "anthropic-key",
        r"\bsk-ant-[A-Za-z0-9_\-]{20,}",
        Part::Whole,
    ),
    (
        "openai-key",
        r"\bsk-(proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}",
        Part::Whole,
    ),
    (
        "github-token",
        r"\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})",
        Part::Whole,
    ),
    (
        "gitlab-token",
        r"\bgl(pat|dt|ptt|rt|cbt|imt|agent|oas|ft|soat)-[A-Za-z0-9_\-]{20,}",
        Part::Whole,
    ),
    (
        "slack-token",
        r"\bxox[baprse]-[A-Za-z0-9\-]{10,}",
        Part::Whole,
    ),
    (
        "slack-app-token",
        r"\bxapp-\d-[A-Z0-9]+-\d+-[a-z0-9]{32,}",
        Part::Whole,
    ),
    (
        "slack-webhook",
        r"https://hooks\.slack\.com/(services|workflows|triggers)/[A-Za-z0-9+/_\-]{20,}",
        Part::Whole,
    ),
    (
        "discord-webhook",
        r"https://(ptb\.|canary\.)?discord(app)?\.com/api/webhooks/\d+/[A-Za-z0-9_\-]{60,}",
        Part::Whole,
    ),
    ("google-api-key", r"\bAIza[0-9A-Za-z_\-]{35}\b", Part::Whole),
    (
        "google-oauth-secret",
        r"\bGOCSPX-[A-Za-z0-9_\-]{28}\b",
        Part::Whole,
    ),
    (
        "google-oauth-token",
        r"\bya29\.[0-9A-Za-z_\-]{20,}",
        Part::Whole,
    ),
    (
        "stripe-key",
        r"\b(sk|rk|pk)_(live|test)_[0-9A-Za-z]{20,}",
        Part::Whole,
    ),
    (
        "stripe-webhook-secret",
        r"\bwhsec_[0-9A-Za-z]{24,}",
        Part::Whole,
    ),
    ("npm-token", r"\bnpm_[A-Za-z0-9]{36}\b", Part::Whole),
    (
        "pypi-token",
        r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,}",
        Part::Whole,
    ),
    ("rubygems-key", r"\brubygems_[a-f0-9]{48}\b", Part::Whole),
    ("nuget-key", r"\boy2[a-z0-9]{43}\b", Part::Whole),
    ("clojars-token", r"\bCLOJARS_[a-z0-9]{60}\b", Part::Whole),
    (
        "dockerhub-token",
        r"\bdckr_pat_[A-Za-z0-9_\-]{27,}",
        Part::Whole,
    ),
    ("huggingface-token", r"\bhf_[A-Za-z0-9]{30,}\b", Part::Whole),
    ("replicate-token", r"\br8_[A-Za-z0-9]{37}\b", Part::Whole),
    ("groq-key", r"\bgsk_[A-Za-z0-9]{48,}\b", Part::Whole),
    ("perplexity-key", r"\bpplx-[A-Za-z0-9]{40,}\b", Part::Whole),
    ("xai-key", r"\bxai-[A-Za-z0-9]{60,}\b", Part::Whole),
    (
        "jwt",
        r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{16,}",
        Part::Whole,
    ),
    (
        "sendgrid-key",
        r"\bSG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}\b",
        Part::Whole,
    ),
    ("mailgun-key", r"\bkey-[0-9a-f]{32}\b", Part::Whole),
    ("mailchimp-key", r"\b[0-9a-f]{32}-us\d{1,2}\b", Part::Whole),
    ("twilio-key", r"\bSK[0-9a-f]{32}\b", Part::Whole),
    (
        "square-token",
        r"\b(sq0atp|sq0csp|EAAA)[0-9A-Za-z_\-]{22,}",
        Part::Whole,
    ),
    (
        "shopify-token",
        r"\bshp(at|ca|pa|ss)_[a-fA-F0-9]{32}\b",
        Part::Whole,
    ),
    (
        "digitalocean-token",
        r"\bdo[opr]_v1_[a-f0-9]{64}\b",
        Part::Whole,
    ),
    (
        "databricks-token",
        r"\bdapi[a-f0-9]{32}(-\d)?\b",
        Part::Whole,
    ),
    (
        "doppler-token",
        r"\bdp\.(pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,}",
        Part::Whole,
    ),
    ("linear-key", r"\blin_api_[A-Za-z0-9]{40}\b", Part::Whole),
    (
        "postman-key",
        r"\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}\b",
        Part::Whole,
    ),
    (
        "grafana-token",
        r"\b(glc_[A-Za-z0-9+/]{32,}={0,2}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})",
        Part::Whole,
    ),
    (
        "newrelic-key",
        r"\bNR(AK|II|JS)-[A-Za-z0-9]{27}\b",
        Part::Whole,
    ),
    (
        "sentry-token",
        r"\b(sntrys|sntryu)_[A-Za-z0-9+/=_\-]{40,}",
        Part::Whole,
    ),
    (
        "vault-token",
        r"\bhv[sbr]\.[A-Za-z0-9_\-]{24,}",
        Part::Whole,
    ),
    (
        "terraform-token",
        r"\b[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=\-]{60,}",
        Part::Whole,
    ),
    ("dropbox-token", r"\bsl\.[A-Za-z0-9_\-]{120,}", Part::Whole),
    ("alibaba-key", r"\bLTAI[A-Za-z0-9]{20}\b", Part::Whole),
    (
        "telegram-bot-token",
        r"\b\d{8,10}:AA[0-9A-Za-z_\-]{33}\b",
        Part::Whole,
    ),
    ("facebook-token", r"\bEAA[A-Za-z0-9]{90,}", Part::Whole),
    (
        "planetscale-token",
        r"\bpscale_(tkn|pw|oauth)_[A-Za-z0-9_.\-]{32,}",
        Part::Whole,
    ),
    ("supabase-token", r"\bsbp_[a-f0-9]{40}\b", Part::Whole),
    ("pulumi-token", r"\bpul-[a-f0-9]{40}\b", Part::Whole),
    (
        "flyio-token",
        r"\bFlyV1 fm\d_[A-Za-z0-9+/=_\-]{40,}",
        Part::Whole,
    ),
    (
        "cloudflare-origin-key",
        r"\bv1\.0-[a-f0-9]{24}-[a-f0-9]{146}\b",
        Part::Whole,
    ),
    (
        "azure-storage-key",
        r"(?i)(AccountKey|SharedAccessKey)\s*=\s*([A-Za-z0-9+/]{40,}={0,2})",
        Part::Group(2),
    ),
    (
        "azure-sas-signature",
        r"[?&]sig=([A-Za-z0-9%+/]{30,}={0,2})",
        Part::Group(1),
    ),
    (
        "azure-ad-client-secret",
        r"\b[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{31,34}\b",
        Part::Whole,
    ),
    (
        "url-credentials",
        // Any userinfo shape: an empty user (`redis://:pw@host`), a percent-encoded or raw
        // password (a raw one may hold `/`, `:` or `#`), an IPv6 host (`@[::1]`).
        r"(?i)\b[a-z][a-z0-9+.\-]{1,20}://[^\s:/@'\x22]{0,64}:([^\s@'\x22]{3,128})@[^\s/'\x22]",
        Part::Group(1),
    ),
    (
        "authorization-header",
        r"(?i)\bauthorization\x22?\s*[:=]\s*\x22?(basic|bearer|token)\s+([A-Za-z0-9+/=_.~\-]{12,})",
        Part::Group(2),
    ),
    (
        "password-in-connection-string",
        r"(?i)[;'\x22]\s*(?:password|pwd)=([^;\s'\x22]{4,})|\b(?:password|pwd)=([^;\s'\x22]{4,});",
        Part::FirstGroup,
    ),
    (
        "generic-secret",
        r#"(?i)(password|passwd|pwd|passphrase|secret|token|api[_\-]?key|auth[_\-]?key|access[_\-]?key|client[_\-]?secret|private[_\-]?key|credential)s?["']?\s*[:=]\s*["']?([A-Za-z0-9+/=_\-!@#$%^&*~.]{12,})"#,
        Part::Random(3.5),
    ),
];

fn rules() -> &'static [Rule] {
    static COMPILED: OnceLock<Vec<Rule>> = OnceLock::new();
    COMPILED.get_or_init(|| {
        RULES
            .iter()
            .map(|(name, pattern, part)| Rule {
                name,
                // The patterns are constants; a typo in one is a bug the tests below catch.
                pattern: Regex::new(pattern).unwrap_or_else(|e| panic!("rule {name}: {e}")),
                part: *part,
            })
            .collect()
    })
}

/// How many rule families redaction knows (for reports).
pub fn rule_count() -> usize {
    RULES.len()
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
            let range = match rule.part {
                Part::Whole => whole,
                Part::Group(n) => match caps.get(n) {
                    Some(m) => m.range(),
                    None => continue,
                },
                Part::FirstGroup => match caps.iter().skip(1).flatten().next() {
                    Some(m) => m.range(),
                    None => continue,
                },
                // Random values have digits and spread-out characters; identifiers such as
                // `config.api_key` do not.
                Part::Random(min) => match caps.get(caps.len() - 1) {
                    Some(value)
                        if entropy(value.as_str()) >= min
                            && value.as_str().chars().any(|c| c.is_ascii_digit()) =>
                    {
                        value.range()
                    }
                    _ => continue,
                },
            };
            if range.start < last {
                continue;
            }
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

    /// The corpus: every secret kind is caught (recall), and no look-alike is touched (false
    /// redactions). Both numbers are printed for the record.
    #[test]
    fn corpus_recall_and_false_redactions() {
        let mut missed = Vec::new();
        let mut kinds = 0;
        for row in include_str!("../../tests/data/secrets.txt").lines() {
            if row.starts_with('#') || row.is_empty() {
                continue;
            }
            let mut fields = row.splitn(3, '\t');
            let (Some(kind), Some(secret), Some(template)) =
                (fields.next(), fields.next(), fields.next())
            else {
                panic!("malformed corpus row {row:?}");
            };
            kinds += 1;
            let text = template.replace("\\n", "\n").replace("{}", secret);
            let (out, _) = redact(&text);
            if out.contains(secret) {
                missed.push(format!("{kind}: {out}"));
            }
        }
        let mut touched = Vec::new();
        let mut lines = 0;
        for line in include_str!("../../tests/data/not-secrets.txt").lines() {
            if line.starts_with('#') {
                continue;
            }
            lines += 1;
            let (out, fired) = redact(line);
            if out != line {
                touched.push(format!("{fired:?}: {line}"));
            }
        }
        eprintln!(
            "redaction corpus: {} of {kinds} secret kinds caught; {} of {lines} look-alike lines falsely redacted",
            kinds - missed.len(),
            touched.len()
        );
        assert!(kinds >= 50 && lines >= 200, "the corpus shrank");
        assert!(missed.is_empty(), "missed:\n{}", missed.join("\n"));
        assert!(
            touched.is_empty(),
            "falsely redacted:\n{}",
            touched.join("\n")
        );
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
