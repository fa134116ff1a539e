//! Reads the tree a commit is about to record straight from the index's cache-tree (`TREE`)
//! extension, without loading the index.
//!
//! Written by hand on purpose: before it runs pre-commit, `git commit` brings the cache-tree up to
//! date and writes its tree objects, so the index already names the exact tree the commit will
//! get. Loading the index through libgit2 instead checksums the whole file and builds a map of
//! every entry — 7.5 ms on a 20,000-file repository, more than `git diff --cached` costs in all —
//! only for the diff to walk all 20,000 entries again. Here the entries are skipped by their
//! lengths and only the root of the cache-tree is read. Anything unexpected (another index
//! version, a split index, an invalidated root, a tree that is not in the object database) returns
//! `None`, and the caller falls back to the full index diff, so this can only ever be a shortcut.

use std::path::Path;

use git2::{Oid, Repository};

const HEADER: usize = 12;
/// ctime, mtime, dev, ino, mode, uid, gid, size: ten 32-bit fields.
const STAT_BYTES: usize = 40;
const EXTENDED_FLAG: u16 = 0x4000;
const NAME_MASK: u16 = 0x0fff;

/// The root tree the index's cache-tree names, when it is valid and present in `repo`.
pub fn staged_root_tree(repo: &Repository, index_path: &Path) -> Option<Oid> {
    let data = std::fs::read(index_path).ok()?;
    let oid_len = match repo.object_format() {
        git2::ObjectFormat::Sha1 => 20,
        #[allow(unreachable_patterns)]
        _ => return None,
    };
    let oid = root_from_index(&data, oid_len)?;
    let oid = Oid::from_bytes(oid).ok()?;
    // git writes the cache-tree's objects when it updates it; if this one is missing, the
    // extension is not to be trusted.
    repo.find_tree(oid).ok().map(|t| t.id())
}

fn be32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

fn be16(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

/// The root cache-tree entry's object id, from the raw bytes of an index file.
fn root_from_index(data: &[u8], oid_len: usize) -> Option<&[u8]> {
    if data.get(..4)? != b"DIRC" {
        return None;
    }
    let version = be32(data, 4)?;
    if !(2..=3).contains(&version) {
        // Version 4 prefix-compresses paths; rare enough to leave to libgit2.
        return None;
    }
    let entries = be32(data, 8)? as usize;
    let mut at = HEADER;
    for _ in 0..entries {
        let flags_at = at + STAT_BYTES + oid_len;
        let flags = be16(data, flags_at)?;
        let mut name_at = flags_at + 2;
        if flags & EXTENDED_FLAG != 0 {
            if version < 3 {
                return None;
            }
            name_at += 2;
        }
        let name_len = match (flags & NAME_MASK) as usize {
            // Names this long are not stored in the flags: find the terminating NUL.
            0x0fff => data.get(name_at..)?.iter().position(|&b| b == 0)?,
            n => n,
        };
        // Entries are padded with 1 to 8 NULs to a multiple of 8 bytes.
        let entry_len = (name_at - at + name_len + 8) & !7;
        at += entry_len;
    }
    let trailer = data.len().checked_sub(oid_len)?;
    while at + 8 <= trailer {
        let signature = data.get(at..at + 4)?;
        let size = be32(data, at + 4)? as usize;
        let body = data.get(at + 8..(at + 8).checked_add(size)?)?;
        match signature {
            b"TREE" => return root_entry(body, oid_len),
            // A split index keeps its entries elsewhere; leave it to libgit2.
            b"link" => return None,
            _ => at += 8 + size,
        }
    }
    None
}

/// The first cache-tree entry is the root: `"" NUL <entries> SP <subtrees> LF <oid>`; an
/// entry count of -1 means git invalidated it.
fn root_entry(body: &[u8], oid_len: usize) -> Option<&[u8]> {
    if *body.first()? != 0 {
        return None;
    }
    let newline = body.iter().position(|&b| b == b'\n')?;
    let counts = std::str::from_utf8(&body[1..newline]).ok()?;
    let (entry_count, _) = counts.split_once(' ')?;
    if entry_count.parse::<i64>().ok()? < 0 {
        return None;
    }
    body.get(newline + 1..newline + 1 + oid_len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(repo: &Repository, path: &[u8], content: &[u8]) -> git2::IndexEntry {
        super::super::index_entry(path, 0o100644, repo.blob(content).unwrap(), content.len())
    }

    #[test]
    fn reads_the_root_tree_libgit2_would_write() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init_bare(dir.path()).unwrap();
        let path = dir.path().join("test-index");
        let mut index = git2::Index::open(&path).unwrap();
        // A path longer than the 12-bit length field: stored NUL-terminated.
        let long = format!("{}/file.txt", "d".repeat(5000));
        for (p, c) in [
            ("a.txt", "a\n"),
            ("dir/b.txt", "b\n"),
            (long.as_str(), "c\n"),
        ] {
            index
                .add(&entry(&repo, p.as_bytes(), c.as_bytes()))
                .unwrap();
        }
        // write_tree_to fills the cache-tree; write() stores it in the TREE extension.
        let tree = index.write_tree_to(&repo).unwrap();
        index.write().unwrap();
        assert_eq!(staged_root_tree(&repo, &path), Some(tree));
        // After a change the root is invalid: no shortcut.
        index.add(&entry(&repo, b"a.txt", b"changed\n")).unwrap();
        index.write().unwrap();
        assert_eq!(staged_root_tree(&repo, &path), None);
    }

    #[test]
    fn garbage_is_no_shortcut() {
        assert_eq!(root_from_index(b"", 20), None);
        assert_eq!(root_from_index(b"DIRC\0\0\0\x02\0\0\0\x05", 20), None);
        assert_eq!(root_from_index(&[0xff; 100], 20), None);
    }
}
