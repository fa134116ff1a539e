//! The record files: what a generation and a verdict look like on the records ref, and the one
//! reader that every path into the store goes through (sync, a server's check of a push, CI).
//!
//! The reader trusts nothing it reads: a file bigger than a record can be, a name that is not
//! what the content says, fields that contradict each other (an approval of lines its request
//! did not carry), a fingerprint or id that is not well-formed — each is refused with the reason,
//! and nothing of it reaches a store.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::change::Fingerprint;
use crate::store::{
    Decision, FindingRow, GenerationRecord, SentLines, StoredVerdict, VerdictRecord, Via,
};

/// The largest record file read: a generation of about 100,000 lines. Anything bigger is
/// refused unread, so a hostile ref cannot make a hook read gigabytes.
pub const MAX_RECORD_BYTES: usize = 8 << 20;
/// The largest signature file read (an SSH signature is well under 1 KiB).
const MAX_SIGNATURE_BYTES: usize = 16 << 10;
/// A signature sits beside the file it signs, under the same name plus this.
pub const SIGNATURE_SUFFIX: &str = ".sig";

/// A path as a record keeps it: text when it is UTF-8, else its bytes in hex.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub(super) enum RecordPath {
    Text(String),
    Bytes { hex: String },
}

impl RecordPath {
    pub(super) fn of(bytes: &[u8]) -> RecordPath {
        match std::str::from_utf8(bytes) {
            Ok(text) => RecordPath::Text(text.to_string()),
            Err(_) => RecordPath::Bytes {
                hex: crate::digest::hex(bytes),
            },
        }
    }

    pub(super) fn bytes(&self) -> Option<Vec<u8>> {
        match self {
            RecordPath::Text(t) => Some(t.as_bytes().to_vec()),
            RecordPath::Bytes { hex } => (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
                .collect(),
        }
    }
}

pub(super) fn fp_hex(fp: Fingerprint) -> String {
    format!("{:016x}", fp as u64)
}

pub(super) fn fp_parse(hex: &str) -> Option<Fingerprint> {
    (hex.len() == 16)
        .then(|| u64::from_str_radix(hex, 16).ok().map(|v| v as i64))
        .flatten()
}

/// A generation as a file: its lines by fingerprint, path and number, and the parameters the
/// model ran with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct GenerationFile {
    pub version: u32,
    pub id: String,
    pub kind: String,
    pub model: Option<String>,
    pub spec_path: Option<String>,
    pub branch: Option<String>,
    pub base_commit: Option<String>,
    pub result_commit: String,
    pub change_id: String,
    /// (fingerprint, path, line)
    pub lines: Vec<(String, RecordPath, u32)>,
    /// The exact identity of every line it added or removed (version 2 on; none in version 1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edits: Vec<String>,
    /// Token fingerprints of its new text (version 3 on): how it is found after a formatter.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tokens: Vec<String>,
    /// What the model ran with (sampling, attempts…), for the audit trail; absent for adopted
    /// output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<serde_json::Value>,
    pub recorded_by: String,
    pub recorded_at: i64,
}

/// A verdict as a file: exactly the fingerprints its requests carried, and which of them it
/// approved (all of them for an approval, none otherwise).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct VerdictFile {
    pub version: u32,
    pub change_id: String,
    pub decision: Decision,
    pub model: String,
    pub request_id: Option<String>,
    pub summary: String,
    pub complete: bool,
    pub base_commit: Option<String>,
    pub tip_commit: Option<String>,
    pub target: String,
    pub parts: u32,
    pub findings: Vec<FindingRow>,
    pub seen: Vec<String>,
    pub approved: Vec<String>,
    /// Exact identities of the texts and edits its requests carried (version 2 on), and which
    /// of them it approved: all for an approval, none otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seen_exact: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approved_exact: Vec<String>,
    /// `mcp` for a review answered in an MCP client's session (version 3 on); absent: the API.
    #[serde(default, skip_serializing_if = "is_api")]
    pub via: Via,
    /// A session review's client and model, as the client reported them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    pub recorded_by: String,
    pub recorded_at: i64,
}

fn is_api(via: &Via) -> bool {
    *via == Via::Api
}

/// The record format written: 2 added the exact identities (`edits`, `seen_exact`,
/// `approved_exact`); version 1 files are still read.
pub(super) const RECORD_VERSION: u32 = 2;
/// The newest verdict format: 3 added how a verdict was made (`via`, `client`). A verdict is
/// written in the oldest format that holds it, so an API review stays readable by binaries that
/// predate session reviews — and one made in a session is refused by them (they would count it
/// as an API review) rather than believed.
pub(super) const VERDICT_VERSION: u32 = 3;
/// The newest generation format: 3 added token fingerprints (`tokens`). A generation is
/// written in the oldest format that holds it, so one without tokens (cloud output, attributed
/// lines) stays readable by binaries that predate them.
pub(super) const GENERATION_VERSION: u32 = 3;

pub(super) fn generation_file(g: &GenerationRecord, recorded_at: i64, by: &str) -> GenerationFile {
    GenerationFile {
        version: if g.tokens.is_empty() {
            RECORD_VERSION
        } else {
            GENERATION_VERSION
        },
        id: g.id.clone(),
        kind: g.kind.clone(),
        model: g.model.clone(),
        spec_path: g.spec_path.clone(),
        branch: g.branch.clone(),
        base_commit: g.base_commit.clone(),
        result_commit: g.result_commit.clone(),
        change_id: g.change_id.clone(),
        lines: g
            .lines
            .iter()
            .map(|(fp, path, line)| (fp_hex(*fp), RecordPath::of(path), *line))
            .collect(),
        edits: {
            let mut edits: Vec<String> = g.edits.iter().map(|e| fp_hex(*e)).collect();
            edits.sort();
            edits.dedup();
            edits
        },
        tokens: {
            let mut tokens: Vec<String> = g.tokens.iter().map(|t| fp_hex(*t)).collect();
            tokens.sort();
            tokens.dedup();
            tokens
        },
        params: g.stats.as_ref().map(|(_, _, _, params)| {
            serde_json::from_str(params)
                .unwrap_or_else(|_| serde_json::Value::String(params.clone()))
        }),
        recorded_by: by.to_string(),
        recorded_at,
    }
}

/// A verdict as it travels: the reviewer's prose (its summary, each finding's message and
/// suggestion) stays in the clone that made it, because it may quote output that was never
/// pushed; what travels is the decision, where each finding is and how severe, and the
/// fingerprints.
pub(super) fn verdict_file(v: &StoredVerdict, by: &str) -> VerdictFile {
    let mut seen: Vec<String> = v.seen.fingerprints().map(fp_hex).collect();
    seen.sort();
    let mut seen_exact: Vec<String> = v.seen.exact().map(fp_hex).collect();
    seen_exact.sort();
    let approves = v.row.decision == Decision::Approve;
    VerdictFile {
        version: if v.row.via == Via::Api {
            RECORD_VERSION
        } else {
            VERDICT_VERSION
        },
        change_id: v.row.change_id.clone(),
        decision: v.row.decision,
        model: v.row.model.clone(),
        request_id: v.row.request_id.clone(),
        summary: String::new(),
        complete: v.row.complete,
        base_commit: v.row.base_commit.clone(),
        tip_commit: v.row.tip_commit.clone(),
        target: v.row.target.clone().unwrap_or_default(),
        parts: v.parts,
        findings: v
            .findings
            .iter()
            .map(|f| FindingRow {
                message: String::new(),
                suggestion: String::new(),
                ..f.clone()
            })
            .collect(),
        approved: if approves { seen.clone() } else { Vec::new() },
        seen,
        approved_exact: if approves {
            seen_exact.clone()
        } else {
            Vec::new()
        },
        seen_exact,
        via: v.row.via,
        client: v.row.client.clone(),
        recorded_by: by.to_string(),
        recorded_at: v.row.created_at,
    }
}

/// A verdict file's name: the digest of its bytes, so the same verdict is the same file.
pub(super) fn verdict_key(bytes: &[u8]) -> String {
    crate::digest::hex(&Sha256::digest(bytes))
}

/// How many hex digits of its content's digest a generation file's name carries.
const GENERATION_DIGEST_HEX: usize = 32;

/// The path a generation record is written at: `generations/<id>@<digest of the file>.json`.
/// Named by content as well as id, so a record someone else pushed first under the same id (ids
/// of adopted ranges are predictable) never takes the author's place: both files stand, and the
/// generation is the union of their lines.
pub(super) fn generation_path(id: &str, bytes: &[u8]) -> String {
    let digest = verdict_key(bytes);
    format!("generations/{id}@{}.json", &digest[..GENERATION_DIGEST_HEX])
}

/// A generation file's name: the id, and the content digest it claims (none in the older
/// `generations/<id>.json` form).
pub(super) fn generation_name(name: &str) -> (&str, Option<&str>) {
    match name.rsplit_once('@') {
        Some((id, digest)) => (id, Some(digest)),
        None => (name, None),
    }
}

/// What a path on the records ref holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind<'a> {
    /// `generations/<id>@<digest>.json` (or `generations/<id>.json`, as older versions named
    /// them): the name without the folder and `.json`.
    Generation(&'a str),
    /// `verdicts/<digest>.json`
    Verdict(&'a str),
    /// `<record path>.sig`
    Signature,
    /// Anything else: not a record.
    Other,
}

pub(super) fn kind(path: &str) -> Kind<'_> {
    match path.strip_suffix(SIGNATURE_SUFFIX) {
        Some(signed) if record_kind(signed) != Kind::Other => Kind::Signature,
        Some(_) => Kind::Other,
        None => record_kind(path),
    }
}

fn record_kind(path: &str) -> Kind<'_> {
    let named = |folder: &str| {
        path.strip_prefix(folder)
            .and_then(|p| p.strip_suffix(".json"))
            .filter(|name| !name.is_empty() && !name.contains('/'))
    };
    if let Some(id) = named("generations/") {
        Kind::Generation(id)
    } else if let Some(key) = named("verdicts/") {
        Kind::Verdict(key)
    } else {
        Kind::Other
    }
}

/// One record read back, checked.
pub(super) enum Record {
    Generation {
        record: GenerationRecord,
        at: i64,
        by: String,
    },
    Verdict {
        record: VerdictRecord,
        at: i64,
        by: String,
    },
}

fn is_hex(text: &str, lengths: &[usize]) -> bool {
    lengths.contains(&text.len()) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_change_id(text: &str) -> bool {
    text.strip_prefix("hc1-").is_some_and(|h| is_hex(h, &[64]))
}

fn is_commit(text: &str) -> bool {
    is_hex(text, &[40, 64])
}

/// An author as a record names one: what an allowed-signers file can list.
fn is_author(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 256
        && !text.starts_with('-')
        && !text.chars().any(|c| c.is_control())
}

/// Reads the file at `path` (one of the record kinds), refusing anything malformed, oversized,
/// misnamed or self-contradictory. `Ok(None)` for a path that is not a record.
pub(super) fn read(path: &str, bytes: &[u8]) -> Result<Option<Record>, String> {
    let kind = kind(path);
    if kind == Kind::Signature {
        if bytes.len() > MAX_SIGNATURE_BYTES {
            return Err(format!(
                "{} bytes is too large for a signature",
                bytes.len()
            ));
        }
        return if bytes.starts_with(b"-----BEGIN SSH SIGNATURE-----") {
            Ok(None)
        } else {
            Err("it is not an SSH signature".into())
        };
    }
    if matches!(kind, Kind::Other) {
        return Ok(None);
    }
    if bytes.len() > MAX_RECORD_BYTES {
        return Err(format!(
            "{} bytes is more than a record can hold ({MAX_RECORD_BYTES})",
            bytes.len()
        ));
    }
    match kind {
        Kind::Generation(name) => {
            let (id, digest) = generation_name(name);
            if let Some(digest) = digest
                && (digest.len() != GENERATION_DIGEST_HEX
                    || !verdict_key(bytes).starts_with(digest))
            {
                return Err("its name is not the digest of its content".into());
            }
            let f: GenerationFile = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
            check_generation(&f, id)?;
            let lines = f
                .lines
                .iter()
                .map(|(fp, path, line)| Some((fp_parse(fp)?, path.bytes()?, *line)))
                .collect::<Option<Vec<_>>>()
                .ok_or("a fingerprint or path in it is not well-formed")?;
            let edits = f
                .edits
                .iter()
                .map(|e| fp_parse(e))
                .collect::<Option<Vec<_>>>()
                .ok_or("an edit in it is not well-formed")?;
            let tokens = f
                .tokens
                .iter()
                .map(|t| fp_parse(t))
                .collect::<Option<Vec<_>>>()
                .ok_or("a token fingerprint in it is not well-formed")?;
            Ok(Some(Record::Generation {
                at: f.recorded_at,
                by: f.recorded_by.clone(),
                record: GenerationRecord {
                    id: f.id,
                    kind: f.kind,
                    model: f.model,
                    spec_path: f.spec_path,
                    branch: f.branch,
                    base_commit: f.base_commit,
                    result_commit: f.result_commit,
                    change_id: f.change_id,
                    lines,
                    edits,
                    tokens,
                    job_id: None,
                    stats: None,
                    check: None,
                },
            }))
        }
        Kind::Verdict(key) => {
            // The name is the digest of the content: a file edited after the fact is refused.
            if verdict_key(bytes) != key {
                return Err("its name is not the digest of its content".into());
            }
            let f: VerdictFile = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
            let seen = check_verdict(&f)?;
            Ok(Some(Record::Verdict {
                at: f.recorded_at,
                by: f.recorded_by.clone(),
                record: VerdictRecord {
                    change_id: f.change_id,
                    decision: f.decision,
                    model: f.model,
                    request_id: f.request_id,
                    raw_response: None,
                    summary: f.summary,
                    complete: f.complete,
                    base_commit: f.base_commit,
                    tip_commit: f.tip_commit,
                    target: f.target,
                    parts: f.parts,
                    findings: f.findings,
                    seen,
                    via: f.via,
                    client: f.client,
                },
            }))
        }
        Kind::Signature | Kind::Other => Ok(None),
    }
}

fn check_generation(f: &GenerationFile, name: &str) -> Result<(), String> {
    if !(1..=GENERATION_VERSION).contains(&f.version) {
        return Err(format!(
            "record version {} is not one this git-hybrid reads (it reads 1 to {GENERATION_VERSION}): upgrade git-hybrid",
            f.version
        ));
    }
    if f.version < GENERATION_VERSION && !f.tokens.is_empty() {
        return Err(format!(
            "a version {} record cannot carry token fingerprints",
            f.version
        ));
    }
    if f.id != name {
        return Err(format!("it says it is generation {:?}, not {name:?}", f.id));
    }
    if f.id.len() > 128
        || !f
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err("its id is not well-formed".into());
    }
    if !is_change_id(&f.change_id) {
        return Err("its change id is not well-formed".into());
    }
    if !is_commit(&f.result_commit) || f.base_commit.as_deref().is_some_and(|c| !is_commit(c)) {
        return Err("a commit id in it is not well-formed".into());
    }
    if !is_author(&f.recorded_by) {
        return Err("it names no author (recorded_by)".into());
    }
    Ok(())
}

/// Checks a verdict's fields against each other; returns the lines its requests carried. An
/// approval approves exactly what it saw: a file whose `approved` says otherwise is forged.
fn check_verdict(f: &VerdictFile) -> Result<SentLines, String> {
    if !(1..=VERDICT_VERSION).contains(&f.version) {
        return Err(format!(
            "record version {} is not one this git-hybrid reads (it reads 1 to {VERDICT_VERSION}): upgrade git-hybrid",
            f.version
        ));
    }
    if f.version < VERDICT_VERSION && (f.via != Via::Api || f.client.is_some()) {
        return Err(format!(
            "a version {} record cannot say how its verdict was made",
            f.version
        ));
    }
    if !is_change_id(&f.change_id) {
        return Err("its change id is not well-formed".into());
    }
    if !is_author(&f.recorded_by) {
        return Err("it names no author (recorded_by)".into());
    }
    let parse = |list: &[String]| {
        list.iter()
            .map(|h| fp_parse(h))
            .collect::<Option<std::collections::BTreeSet<Fingerprint>>>()
            .ok_or("a fingerprint in it is not well-formed")
    };
    let none = std::collections::BTreeSet::new();
    let mut carried = Vec::new();
    for (seen, approved) in [(&f.seen, &f.approved), (&f.seen_exact, &f.approved_exact)] {
        let seen = parse(seen)?;
        let approved = parse(approved)?;
        let expected = if f.decision == Decision::Approve {
            &seen
        } else {
            &none
        };
        if &approved != expected {
            return Err(if f.decision == Decision::Approve {
                "it approves lines its review did not see".into()
            } else {
                "it approves lines, yet its decision is not approve".into()
            });
        }
        carried.push(seen);
    }
    let exact = carried.pop().unwrap_or_default();
    let lines = carried.pop().unwrap_or_default();
    Ok(SentLines::from_parts(lines, exact))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_and_paths_round_trip() {
        for fp in [0i64, -1, i64::MIN, i64::MAX, 42] {
            assert_eq!(fp_parse(&fp_hex(fp)), Some(fp));
        }
        assert_eq!(fp_parse("abc"), None);
        for path in [&b"src/lib.rs"[..], b"caf\xe9.txt"] {
            assert_eq!(RecordPath::of(path).bytes().as_deref(), Some(path));
        }
    }

    #[test]
    fn kinds_of_paths() {
        assert_eq!(kind("generations/g1.json"), Kind::Generation("g1"));
        assert_eq!(kind("verdicts/ab.json"), Kind::Verdict("ab"));
        assert_eq!(kind("verdicts/ab.json.sig"), Kind::Signature);
        assert_eq!(kind("generations/a/b.json"), Kind::Other);
        assert_eq!(kind("notes.txt.sig"), Kind::Other);
        assert_eq!(kind("verdicts/.json"), Kind::Other);
        assert_eq!(kind("verdicts/ab.json.sig.sig"), Kind::Other);
        assert_eq!(generation_name("g-1@abc"), ("g-1", Some("abc")));
        assert_eq!(generation_name("g-1"), ("g-1", None));
    }

    /// A generation file named by a digest that is not its content's is refused.
    #[test]
    fn generation_names_carry_their_content_digest() {
        let bytes = serde_json::to_vec(&serde_json::json!({"version": 1})).unwrap();
        let path = generation_path("g-1", &bytes);
        assert!(path.starts_with("generations/g-1@") && path.ends_with(".json"));
        // Well-named, so what is refused is the (incomplete) content, not the name.
        let named = read(&path, &bytes).err().unwrap_or_default();
        assert!(!named.contains("digest"), "{named}");
        let other = generation_path("g-1", b"something else");
        let misnamed = read(&other, &bytes).err().unwrap_or_default();
        assert!(
            misnamed.contains("not the digest of its content"),
            "{misnamed}"
        );
    }

    /// A generation with token fingerprints is written as format 3 and read back whole; one
    /// without stays format 2 (older binaries read it); tokens in an older format are forged.
    #[test]
    fn token_fingerprints_travel_in_format_3_only() {
        let mut g = GenerationRecord {
            id: "g-1".into(),
            kind: "adopt".into(),
            model: None,
            spec_path: None,
            branch: None,
            base_commit: None,
            result_commit: "a".repeat(40),
            change_id: format!("hc1-{}", "b".repeat(64)),
            lines: vec![(7, b"src/a.rs".to_vec(), 3)],
            edits: vec![9],
            tokens: Vec::new(),
            job_id: None,
            stats: None,
            check: None,
        };
        let write = |g: &GenerationRecord| {
            let bytes = serde_json::to_vec(&generation_file(g, 0, "dev@example.com")).unwrap();
            (generation_path(&g.id, &bytes), bytes)
        };
        let (_, plain) = write(&g);
        assert_eq!(
            serde_json::from_slice::<GenerationFile>(&plain)
                .unwrap()
                .version,
            2
        );
        g.tokens = vec![11, -5];
        let (path, bytes) = write(&g);
        match read(&path, &bytes) {
            Ok(Some(Record::Generation { record, .. })) => {
                let mut tokens = record.tokens.clone();
                tokens.sort();
                assert_eq!(tokens, vec![-5, 11]);
            }
            _ => panic!("a format 3 generation is read"),
        }
        let mut older: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        older["version"] = 2.into();
        let bytes = serde_json::to_vec(&older).unwrap();
        let refused = read(&generation_path("g-1", &bytes), &bytes).err();
        assert!(refused.unwrap_or_default().contains("cannot carry token"));
    }

    fn verdict(decision: Decision, seen: &[&str], approved: &[&str]) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "version": 1, "change_id": format!("hc1-{}", "a".repeat(64)), "decision": decision.as_str(),
            "model": "m", "request_id": null, "summary": "", "complete": true,
            "base_commit": null, "tip_commit": null, "target": "t", "parts": 1, "findings": [],
            "seen": seen, "approved": approved, "recorded_by": "a@example.com", "recorded_at": 0
        }))
        .unwrap()
    }

    #[test]
    fn forged_and_oversized_records_are_refused() {
        let fp = fp_hex(7);
        let other = fp_hex(8);
        let read_verdict = |bytes: Vec<u8>| {
            let path = format!("verdicts/{}.json", verdict_key(&bytes));
            read(&path, &bytes).map(|r| r.is_some())
        };
        assert_eq!(
            read_verdict(verdict(Decision::Approve, &[&fp], &[&fp])),
            Ok(true)
        );
        assert!(read_verdict(verdict(Decision::Approve, &[&fp], &[&fp, &other])).is_err());
        assert!(read_verdict(verdict(Decision::RequestChanges, &[&fp], &[&fp])).is_err());
        assert!(read_verdict(verdict(Decision::Approve, &["zz"], &["zz"])).is_err());
        let bytes = verdict(Decision::Approve, &[&fp], &[&fp]);
        assert!(read("verdicts/0000.json", &bytes).is_err(), "misnamed");
        let huge = vec![b' '; MAX_RECORD_BYTES + 1];
        assert!(read("generations/g.json", &huge).is_err());
        assert!(read("generations/g.json", b"{not json").is_err());
        assert!(read("verdicts/x.json.sig", b"hello").is_err());
        assert_eq!(read("README", b"anything").map(|r| r.is_some()), Ok(false));
    }

    /// Version 2 carries exact identities; an approval of one its requests did not carry is
    /// forged, and a version newer than this binary reads says to upgrade.
    #[test]
    fn exact_identities_are_checked_like_fingerprints() {
        let (fp, edit, other) = (fp_hex(7), fp_hex(9), fp_hex(10));
        let with_exact = |version: u32, seen: &[&str], approved: &[&str]| {
            let mut v: serde_json::Value =
                serde_json::from_slice(&verdict(Decision::Approve, &[&fp], &[&fp])).unwrap();
            v["version"] = version.into();
            v["seen_exact"] = serde_json::json!(seen);
            v["approved_exact"] = serde_json::json!(approved);
            let bytes = serde_json::to_vec(&v).unwrap();
            let path = format!("verdicts/{}.json", verdict_key(&bytes));
            read(&path, &bytes)
        };
        match with_exact(2, &[&edit], &[&edit]) {
            Ok(Some(Record::Verdict { record, .. })) => {
                assert!(record.seen.carried(9) && record.seen.contains(7));
            }
            _ => panic!("a well-formed version 2 verdict is read"),
        }
        assert!(with_exact(2, &[&edit], &[&edit, &other]).is_err());
        let newer = with_exact(VERDICT_VERSION + 1, &[&edit], &[&edit]).err();
        assert!(newer.unwrap_or_default().contains("upgrade git-hybrid"));
    }
}
