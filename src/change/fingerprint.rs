//! Line fingerprints: how provenance recognises local output wherever it turns up.
//!
//! Detection is fuzzy on purpose: all whitespace (ASCII and Unicode: no-break, ideographic and
//! the other spaces), control characters and invisible format characters are dropped before
//! hashing, so re-indented, re-wrapped-in-place, pasted-into-another-file output, or output with
//! a stray NUL or a zero-width space slipped in, still matches. Lines too trivial to
//! say anything about who wrote them (blank, punctuation only, very short) get no fingerprint,
//! otherwise every `}` a human types would look like local output. The hash is part of what the
//! store keeps, so its input and algorithm must never change without a new prefix.

use sha2::{Digest, Sha256};

/// A normalized line shorter than this says too little to attribute it to anyone.
const MIN_SIGNIFICANT_BYTES: usize = 8;

/// A 64-bit fingerprint, stored in SQLite as a signed integer.
pub type Fingerprint = i64;

/// The fingerprint of one line, or `None` when the line is trivial.
pub fn fingerprint(line: &[u8]) -> Option<Fingerprint> {
    let normalized = normalize(line);
    let has_word = normalized
        .iter()
        .any(|b| b.is_ascii_alphanumeric() || *b >= 0x80);
    if normalized.len() < MIN_SIGNIFICANT_BYTES || !has_word {
        return None;
    }
    let digest = Sha256::new()
        .chain_update(b"hf1\0")
        .chain_update(&normalized)
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    Some(i64::from_be_bytes(first))
}

/// The line without what a reader cannot see. Valid UTF-8 is read as characters; invalid bytes
/// are kept as they are, so text in other 8-bit encodings still has a stable fingerprint. For
/// ASCII text this is exactly "drop ASCII whitespace and control bytes".
fn normalize(line: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(line.len());
    if line.is_ascii() {
        out.extend(
            line.iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace() && !b.is_ascii_control()),
        );
        return out;
    }
    for chunk in line.utf8_chunks() {
        for c in chunk.valid().chars() {
            if !invisible(c) {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
        out.extend_from_slice(chunk.invalid());
    }
    out
}

/// Whitespace, control characters, and format characters that render as nothing (zero-width
/// spaces and joiners, word joiner, soft hyphen, BOM, Mongolian vowel separator).
fn invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(c, '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
}

/// Binary content cannot be split into lines; a binary blob is recognised by its object id.
pub fn blob_fingerprint(oid: &git2::Oid) -> Fingerprint {
    let digest = Sha256::new()
        .chain_update(b"hb1\0")
        .chain_update(oid.as_bytes())
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_does_not_matter() {
        assert_eq!(
            fingerprint(b"    let total = a + b;\n"),
            fingerprint(b"\tlet total=a+b;\r\n")
        );
    }

    #[test]
    fn unicode_whitespace_and_invisibles_do_not_matter() {
        let plain = fingerprint(b"let total = a + b;");
        for variant in [
            "let\u{00A0}total = a + b;",
            "let\u{3000}total\u{2003}= a + b;",
            "let total\u{200B} = a + b;\u{FEFF}",
            "let total = a\0 + b;",
        ] {
            assert_eq!(fingerprint(variant.as_bytes()), plain, "{variant:?}");
        }
        // Invalid UTF-8 keeps its bytes: Latin-1 text still fingerprints, and differently.
        assert!(fingerprint(b"let caf\xe9 = menu_du_jour();").is_some());
        assert_ne!(
            fingerprint(b"let caf\xe9 = menu_du_jour();"),
            fingerprint(b"let caf\xe8 = menu_du_jour();")
        );
    }

    #[test]
    fn content_does() {
        assert_ne!(
            fingerprint(b"let total = a + b;"),
            fingerprint(b"let total = a - b;")
        );
    }

    #[test]
    fn trivial_lines_are_skipped() {
        for line in [
            &b""[..],
            b"   \n",
            b"}\n",
            b"});\n",
            b"x += 1;",
            b"/* ----------- */",
        ] {
            assert_eq!(
                fingerprint(line),
                None,
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
        assert!(fingerprint(b"return None;").is_some());
    }
}
