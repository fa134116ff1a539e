//! Exact identities of lines and edits: what an approval covers, as opposed to what detection
//! finds.
//!
//! Detection may be fuzzy (see `fingerprint`); approval never is. An approval covers a line only
//! as the request showed it — the text a reviewer read, byte for byte — and an edit (a line added
//! or removed) only with the lines it sat between. Both are hashed from the *shown* text: the line
//! as a request renders it (its terminator dropped, bytes that are not UTF-8 as U+FFFD), so the
//! same function serves the request text (what was sent) and a candidate change (what arrives).
//! The hash inputs are part of what records carry: never change them without a new prefix.

use std::borrow::Cow;

use sha2::{Digest, Sha256};

use super::{Fingerprint, Tag};

/// A line as a request shows it: lossy UTF-8, line terminator (and a CR before it) dropped.
pub fn shown(bytes: &[u8]) -> Cow<'_, str> {
    match String::from_utf8_lossy(bytes) {
        Cow::Borrowed(s) => Cow::Borrowed(s.trim_end_matches(['\n', '\r'])),
        Cow::Owned(s) => Cow::Owned(s.trim_end_matches(['\n', '\r']).to_string()),
    }
}

/// The exact identity of one line's text, wherever it sits.
pub fn text_hash(text: &str) -> Fingerprint {
    let digest = Sha256::new()
        .chain_update(b"ht1\0")
        .chain_update(text.as_bytes())
        .finalize();
    first_eight(&digest)
}

/// One line a change adds or removes, identified exactly: its file, its text, and the lines on
/// either side of it on its own side of the diff (the new file for an added line, the old file
/// for a removed one; `None` at the start or end of the file).
pub fn edit_hash(
    path: &str,
    removed: bool,
    prev: Option<&str>,
    text: &str,
    next: Option<&str>,
) -> Fingerprint {
    let mut h = Sha256::new();
    h.update(b"he1\0");
    h.update([if removed { b'-' } else { b'+' }]);
    let mut put = |part: Option<&str>| match part {
        Some(p) => {
            h.update([1u8]);
            h.update((p.len() as u64).to_be_bytes());
            h.update(p.as_bytes());
        }
        None => h.update([0u8]),
    };
    put(Some(path));
    put(prev);
    put(Some(text));
    put(next);
    first_eight(&h.finalize())
}

fn first_eight(digest: &[u8]) -> Fingerprint {
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// One edit of a hunk, exactly identified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HunkEdit {
    /// Position of the line within the hunk's lines.
    pub index: usize,
    pub removed: bool,
    /// [`edit_hash`] of the line.
    pub edit: Fingerprint,
    /// [`text_hash`] of the line.
    pub text: Fingerprint,
}

/// The edits of one hunk given as its lines' tags and shown texts. Every edit of a hunk has its
/// neighbours inside the hunk (context surrounds every edit), so a neighbour missing on a side
/// means the start or end of the file.
pub fn hunk_edits(old_path: &str, new_path: &str, lines: &[(Tag, Cow<'_, str>)]) -> Vec<HunkEdit> {
    let mut out = Vec::new();
    for (index, (tag, text)) in lines.iter().enumerate() {
        let removed = match tag {
            Tag::Context => continue,
            Tag::Removed => true,
            Tag::Added => false,
        };
        // The neighbours on the line's own side: the old file holds context and removed lines,
        // the new file context and added ones.
        let same_side = |t: &Tag| *t == Tag::Context || (*t == Tag::Removed) == removed;
        let prev = lines[..index]
            .iter()
            .rev()
            .find(|(t, _)| same_side(t))
            .map(|(_, s)| s.as_ref());
        let next = lines[index + 1..]
            .iter()
            .find(|(t, _)| same_side(t))
            .map(|(_, s)| s.as_ref());
        let path = if removed { old_path } else { new_path };
        out.push(HunkEdit {
            index,
            removed,
            edit: edit_hash(path, removed, prev, text, next),
            text: text_hash(text),
        });
    }
    out
}

/// The hunks of a file as a request renders it (`@@` hunk headers, then each line behind its
/// sign): each line's tag and shown text. Anything before the first hunk header is the file's
/// header and notes.
pub fn rendered_hunks(rendered: &str) -> Vec<Vec<(Tag, Cow<'_, str>)>> {
    let mut hunks: Vec<Vec<(Tag, Cow<'_, str>)>> = Vec::new();
    for line in rendered.split('\n') {
        if line.starts_with("@@") {
            hunks.push(Vec::new());
            continue;
        }
        let Some(hunk) = hunks.last_mut() else {
            continue;
        };
        let mut chars = line.chars();
        let tag = match chars.next() {
            Some(' ') => Tag::Context,
            Some('-') => Tag::Removed,
            Some('+') => Tag::Added,
            _ => continue,
        };
        hunk.push((tag, Cow::Borrowed(chars.as_str())));
    }
    hunks
}

/// The edits of a file as a request renders it (see [`rendered_hunks`]).
pub fn rendered_edits(old_path: &str, new_path: &str, rendered: &str) -> Vec<HunkEdit> {
    rendered_hunks(rendered)
        .iter()
        .flat_map(|hunk| hunk_edits(old_path, new_path, hunk))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edits(old: &[u8], new: &[u8]) -> Vec<HunkEdit> {
        super::super::text_hunks(old, new)
            .iter()
            .flat_map(|h| {
                let lines: Vec<_> = h.lines.iter().map(|l| (l.tag, shown(&l.bytes))).collect();
                hunk_edits("f", "f", &lines)
            })
            .collect()
    }

    #[test]
    fn whitespace_and_order_matter() {
        let base = b"a\nrm -rf $D/tmp\nb\n";
        let spaced = edits(base, b"a\nrm -rf $D /tmp\nb\n");
        let tabbed = edits(base, b"a\nrm -rf $D\t/tmp\nb\n");
        assert_eq!(spaced.len(), 2);
        assert_ne!(spaced[1].edit, tabbed[1].edit);
        assert_ne!(spaced[1].text, tabbed[1].text);
        // The same line between other neighbours is another edit, the same text.
        let moved = edits(b"x\ny\n", b"x\nrm -rf $D /tmp\ny\n");
        assert_eq!(moved[0].text, spaced[1].text);
        assert_ne!(moved[0].edit, spaced[1].edit);
    }

    /// What a request renders and what a change holds identify the same edits.
    #[test]
    fn rendered_and_computed_agree() {
        let (old, new) = (
            &b"one\ntwo\nthree\r\nfour\n"[..],
            &b"one\n2\nthree\r\nfour\nfive\n"[..],
        );
        let mut rendered = String::from("--- a/f\n+++ b/f\n(a note)\n");
        for h in super::super::hunks_with_context(old, new, 6) {
            super::super::render::unified(&h, &mut rendered);
        }
        let ids = |e: Vec<HunkEdit>| -> Vec<_> {
            e.into_iter().map(|x| (x.removed, x.edit, x.text)).collect()
        };
        assert_eq!(
            ids(rendered_edits("f", "f", &rendered)),
            ids(edits(old, new))
        );
        assert_eq!(rendered_edits("f", "f", &rendered).len(), 3);
    }
}
