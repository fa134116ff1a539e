//! Line fingerprints: how provenance recognises local output wherever it turns up.
//!
//! Detection is fuzzy on purpose: all ASCII whitespace is dropped before hashing, so re-indented,
//! re-wrapped-in-place or pasted-into-another-file output still matches. Lines too trivial to
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
    let normalized: Vec<u8> = line
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
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
