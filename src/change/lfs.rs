//! Git LFS pointers: a file git stores as a three-line pointer while its content lives in
//! `.git/lfs/objects`. The change id stays over what git stores (the pointer); what the gate
//! checks and the reviewer reads is the pointer's `oid` line followed by the object's content,
//! read from the local object store and verified against the oid.
//!
//! The `oid` line names the content by its SHA-256, so it is what identifies LFS output where
//! the object is not present (a server, a clone that skipped smudging). The pointer's other
//! lines (`version …`, `size …`) are the same boilerplate in every LFS file and are never
//! checked or recorded: otherwise one pending LFS output would flag every human LFS file.

use std::path::PathBuf;

use git2::Repository;
use sha2::{Digest, Sha256};

/// The first line of every pointer (the spec's version URL).
const VERSION_LINE: &[u8] = b"version https://git-lfs.github.com/spec/v1\n";
/// Pointers are small; anything larger is not one.
const MAX_POINTER_BYTES: usize = 1024;

/// A parsed pointer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pointer {
    /// 64 lowercase hex digits.
    pub oid: String,
    pub size: u64,
}

impl Pointer {
    /// The line that stands for the content wherever it is checked.
    pub fn oid_line(&self) -> String {
        format!("oid sha256:{}\n", self.oid)
    }
}

/// The pointer `bytes` hold, if they are one.
pub fn pointer(bytes: &[u8]) -> Option<Pointer> {
    if bytes.len() > MAX_POINTER_BYTES || !bytes.starts_with(VERSION_LINE) {
        return None;
    }
    let text = std::str::from_utf8(bytes).ok()?;
    let mut oid = None;
    let mut size = None;
    for line in text.lines().skip(1) {
        if let Some(hex) = line.strip_prefix("oid sha256:") {
            let hex = hex.trim();
            if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            oid = Some(hex.to_ascii_lowercase());
        } else if let Some(n) = line.strip_prefix("size ") {
            size = n.trim().parse().ok();
        }
    }
    Some(Pointer {
        oid: oid?,
        size: size?,
    })
}

/// What the local object store holds for `p`: `Some` only when the file is there and its
/// content is what the pointer names.
pub fn object(repo: &Repository, p: &Pointer) -> Option<Vec<u8>> {
    let path: PathBuf = repo
        .commondir()
        .join("lfs/objects")
        .join(&p.oid[..2])
        .join(&p.oid[2..4])
        .join(&p.oid);
    let bytes = std::fs::read(path).ok()?;
    let matches =
        bytes.len() as u64 == p.size && crate::digest::hex(&Sha256::digest(&bytes)) == p.oid;
    matches.then_some(bytes)
}

/// How much of an LFS file's new content the gate and the reviewer can read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// The object is here and reads as text (or the new side is not a pointer).
    Whole,
    /// Only the oid line: the object is not here, or is not text.
    OidOnly,
}

/// How one side of an LFS file reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Shown {
    /// Not a pointer: the bytes themselves.
    Plain,
    /// The oid line, then the object's text.
    Content(Vec<u8>),
    /// The oid line alone: the object is not here, or is not text.
    OidOnly(Vec<u8>),
}

impl Shown {
    pub fn text<'a>(&'a self, plain: &'a [u8]) -> &'a [u8] {
        match self {
            Shown::Plain => plain,
            Shown::Content(t) | Shown::OidOnly(t) => t,
        }
    }
}

/// How `bytes` (one side of a file) read for checking and review.
pub fn shown(repo: &Repository, bytes: &[u8]) -> Shown {
    let Some(p) = pointer(bytes) else {
        return Shown::Plain;
    };
    let mut text = p.oid_line().into_bytes();
    match object(repo, &p).and_then(|content| super::readable_bytes(&content)) {
        Some(content) => {
            text.extend_from_slice(&content);
            Shown::Content(text)
        }
        None => Shown::OidOnly(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_parse_strictly() {
        let oid = "a".repeat(64);
        let good =
            format!("version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize 12\n");
        assert_eq!(
            pointer(good.as_bytes()),
            Some(Pointer {
                oid: oid.clone(),
                size: 12
            })
        );
        assert_eq!(pointer(b"oid sha256:aa\nsize 1\n"), None);
        let short = good.replace(&oid, "abc");
        assert_eq!(pointer(short.as_bytes()), None);
    }
}
