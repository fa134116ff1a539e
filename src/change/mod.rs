//! The canonical change: what differs between two trees (or a tree and an index), its change id
//! (`hc1-…`), and the added lines that provenance fingerprints.
//!
//! This module owns the one serialization that change ids are computed from (ARCHITECTURE §3). It reads
//! blob contents itself and diffs them with `similar`; it must never read `git diff` text, apply
//! content filters, or consult the user's diff settings, because the id has to be the same on every
//! machine and under every git configuration. Changing what goes into the id changes every stored
//! id: the test vectors in `tests/` exist to make that impossible to do silently.

pub mod embedded;
pub mod exact;
mod fingerprint;
pub mod lfs;
pub mod notebook;
pub mod render;
pub mod text;
pub mod tokens;

pub use fingerprint::{Fingerprint, blob_fingerprint, fingerprint};

use std::collections::BTreeMap;
use std::fmt;

use git2::{Delta, DiffOptions, Index, Oid, Repository, Tree};
use sha2::{Digest, Sha256};
use similar::{Algorithm, ChangeTag, TextDiff};

/// How many bytes of a blob git looks at to decide it is binary; we use the same rule.
const BINARY_SNIFF_BYTES: usize = 8000;
/// Context lines around each hunk. Part of the id: never change it.
const CONTEXT_LINES: usize = 3;
/// The id format's version; a future format gets a new prefix so ids never collide.
pub const ID_PREFIX: &str = "hc1-";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("could not list the changed paths: {}", .0.message())]
    Diff(#[source] git2::Error),
    #[error("could not read blob {oid} for {path}: {}", source.message())]
    Blob {
        oid: Oid,
        path: String,
        #[source]
        source: git2::Error,
    },
}

/// A change id: SHA-256 over the canonical serialization.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChangeId([u8; 32]);

impl ChangeId {
    /// The first 12 hex digits, for human output.
    pub fn short(&self) -> String {
        let full = self.to_string();
        full[..ID_PREFIX.len() + 12].to_string()
    }
}

impl fmt::Display for ChangeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(ID_PREFIX)?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ChangeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// One side of a file record. `mode` is git's file mode (0o100644, 0o100755, 0o120000, 0o160000).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileSide {
    pub path: Vec<u8>,
    pub mode: u32,
    pub id: Oid,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tag {
    Context,
    Removed,
    Added,
}

impl Tag {
    /// The sign a unified diff puts before the line.
    pub fn sign(self) -> char {
        self.byte() as char
    }

    fn byte(self) -> u8 {
        match self {
            Tag::Context => b' ',
            Tag::Removed => b'-',
            Tag::Added => b'+',
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub tag: Tag,
    /// The exact bytes, line terminator included when there was one.
    pub bytes: Vec<u8>,
    /// 1-based line number in the new file (for context and added lines); display only.
    pub new_line: Option<u32>,
    /// 1-based line number in the old file (for context and removed lines); display only.
    pub old_line: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hunk {
    pub lines: Vec<Line>,
}

impl Hunk {
    /// The unified-diff header, `@@ -start,count +start,count @@`; a side with no lines starts
    /// at 0 (only an empty file has none, since context surrounds every edit).
    pub fn header(&self) -> String {
        let side = |number: fn(&Line) -> Option<u32>| {
            let mut numbers = self.lines.iter().filter_map(number);
            let first = numbers.next();
            (first.unwrap_or(0), first.map_or(0, |_| 1 + numbers.count()))
        };
        let (old_start, old_count) = side(|l| l.old_line);
        let (new_start, new_count) = side(|l| l.new_line);
        format!("@@ -{old_start},{old_count} +{new_start},{new_count} @@")
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// Text content diffed line by line; no hunks when only the path or mode changed.
    Text(Vec<Hunk>),
    /// Binary files, symlinks and submodules: identified by their object ids only.
    Opaque,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileChange {
    pub old: Option<FileSide>,
    pub new: Option<FileSide>,
    pub body: Body,
    /// For an opaque record whose new content still reads as text (a stray NUL, UTF-16, a
    /// symlink or binary file replaced by text): that text's lines, diffed against the old side
    /// read the same way. Not part of the change id (which stays ARCHITECTURE §3's), but every line in
    /// it is fingerprinted, checked by the gate and shown to the reviewer.
    pub decoded: Option<Decoded>,
}

/// Text read out of content the change id treats as opaque, or out of a Git LFS pointer's
/// object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    pub encoding: text::Encoding,
    pub hunks: Vec<Hunk>,
    /// For a Git LFS file: whether its new content could be read (see [`lfs`]).
    pub lfs: Option<lfs::Seen>,
}

impl FileChange {
    /// The path this record sorts and displays by: the new path, or the old one for a deletion.
    pub fn path(&self) -> &[u8] {
        self.new
            .as_ref()
            .or(self.old.as_ref())
            .map(|s| s.path.as_slice())
            .unwrap_or_default()
    }

    pub fn display_path(&self) -> String {
        String::from_utf8_lossy(self.path()).into_owned()
    }

    /// The hunks whose lines are checked and reviewed: the text body, or the text decoded out of
    /// an opaque one.
    pub fn text_hunks(&self) -> &[Hunk] {
        match (&self.body, &self.decoded) {
            (_, Some(decoded)) => &decoded.hunks,
            (Body::Text(hunks), None) => hunks,
            (Body::Opaque, None) => &[],
        }
    }

    /// A binary regular file whose new content is local output can only be recognised by its blob
    /// id; this is that id when this record brings such content in.
    pub fn added_opaque_blob(&self) -> Option<Oid> {
        match (&self.body, &self.new) {
            (Body::Opaque, Some(new)) if is_regular(new.mode) => {
                let unchanged = self.old.as_ref().is_some_and(|o| o.id == new.id);
                (!unchanged).then_some(new.id)
            }
            _ => None,
        }
    }
}

/// A line this change adds, as provenance and the gate see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddedLine<'a> {
    pub path: &'a [u8],
    pub line: u32,
    pub bytes: &'a [u8],
}

/// A run of consecutive lines a change adds to one file (removed lines between them do not
/// break it; a line the file keeps does): the text token fingerprints are taken of.
#[derive(Clone, Debug)]
pub struct AddedRun<'a> {
    pub path: &'a [u8],
    pub lines: Vec<AddedLine<'a>>,
}

/// One line a change adds or removes: where it sits (the new file for an added line, the old
/// file for a removed one) and its exact identities.
#[derive(Clone, Debug)]
pub struct Edit<'a> {
    pub path: &'a [u8],
    pub line: u32,
    pub removed: bool,
    pub bytes: &'a [u8],
    /// [`exact::edit_hash`]: the line with its neighbours.
    pub edit: Fingerprint,
    /// [`exact::text_hash`]: the line's text alone.
    pub text: Fingerprint,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Change {
    /// Sorted by path bytes; the order the id is computed in.
    pub files: Vec<FileChange>,
    /// The tree the change starts from, when it starts from one: what the destination already
    /// shows. Not part of the id; the gate reads it to tell new output from lines already there.
    pub base: Option<Oid>,
}

impl Change {
    /// The changes between two trees; `None` stands for the empty tree (an unborn branch).
    ///
    /// Walked here rather than with libgit2's tree diff, which visits every entry of both trees
    /// (5 ms on 20,000 files): subtrees with the same id are skipped whole, so the cost follows
    /// the size of the change, not of the repository.
    pub fn between_trees(
        repo: &Repository,
        old: Option<&Tree<'_>>,
        new: Option<&Tree<'_>>,
    ) -> Result<Change, Error> {
        let mut pairs = Vec::new();
        walk_trees(
            repo,
            old.map(Tree::id),
            new.map(Tree::id),
            &mut Vec::new(),
            &mut pairs,
        )
        .map_err(Error::Diff)?;
        Ok(Change {
            base: old.map(Tree::id),
            ..Self::from_pairs(repo, pairs)?
        })
    }

    /// Two blobs as one file's change (a replace ref that swaps one blob for another), under a
    /// path that only names them.
    pub fn between_blobs(repo: &Repository, old: Oid, new: Oid) -> Result<Change, Error> {
        let side = |id: Oid| FileSide {
            path: format!("(replaced blob {old})").into_bytes(),
            mode: 0o100644,
            id,
        };
        Self::from_pairs(repo, vec![(Some(side(old)), Some(side(new)))])
    }

    /// The changes from a tree to an index: what `git commit` would record.
    pub fn tree_to_index(
        repo: &Repository,
        old: Option<&Tree<'_>>,
        index: &Index,
    ) -> Result<Change, Error> {
        let mut opts = DiffOptions::new();
        // We only need the list of paths and object ids; content is read and classified by us,
        // so libgit2 must not load blobs to sniff them. As in `walk_trees`, a file that became a
        // symlink is one record, and a file that became a directory is a deletion plus additions.
        opts.skip_binary_check(true)
            .include_typechange(true)
            .ignore_submodules(false);
        let diff = repo
            .diff_tree_to_index(old, Some(index), Some(&mut opts))
            .map_err(Error::Diff)?;
        let side = |f: git2::DiffFile<'_>| FileSide {
            path: f.path_bytes().unwrap_or_default().to_vec(),
            mode: u32::from(f.mode()),
            id: f.id(),
        };
        let pairs = diff
            .deltas()
            .filter_map(|delta| {
                let (old, new) = (side(delta.old_file()), side(delta.new_file()));
                match delta.status() {
                    Delta::Added => Some((None, Some(new))),
                    Delta::Deleted => Some((Some(old), None)),
                    Delta::Unmodified | Delta::Ignored | Delta::Untracked => None,
                    _ => Some((Some(old), Some(new))),
                }
            })
            .collect();
        Ok(Change {
            base: old.map(Tree::id),
            ..Self::from_pairs(repo, pairs)?
        })
    }

    /// Builds the change from changed paths: `(None, new)` added, `(old, None)` deleted,
    /// `(old, new)` modified in content, mode or type.
    fn from_pairs(repo: &Repository, pairs: Vec<Pair>) -> Result<Change, Error> {
        let mut records = Vec::new();
        let mut added: BTreeMap<Oid, Vec<FileSide>> = BTreeMap::new();
        let mut deleted: BTreeMap<Oid, Vec<FileSide>> = BTreeMap::new();
        for pair in pairs {
            match pair {
                (None, Some(new)) => added.entry(new.id).or_default().push(new),
                (Some(old), None) => deleted.entry(old.id).or_default().push(old),
                pair => records.push(pair),
            }
        }
        // Exact-content renames: pair deleted and added paths holding the same blob, in path
        // order so the pairing never depends on the order paths were found in.
        for (oid, mut adds) in added {
            let mut dels = deleted.remove(&oid).unwrap_or_default();
            adds.sort_by(|a, b| a.path.cmp(&b.path));
            dels.sort_by(|a, b| a.path.cmp(&b.path));
            let mut dels = dels.into_iter();
            for add in adds {
                records.push((dels.next(), Some(add)));
            }
            records.extend(dels.map(|d| (Some(d), None)));
        }
        records.extend(deleted.into_values().flatten().map(|d| (Some(d), None)));

        let mut files = records
            .into_iter()
            .map(|(old, new)| file_change(repo, old, new))
            .collect::<Result<Vec<_>, _>>()?;
        files.sort_by(|a, b| {
            a.path().cmp(b.path()).then_with(|| {
                let old = |f: &FileChange| f.old.as_ref().map(|s| s.path.clone());
                old(a).cmp(&old(b))
            })
        });
        Ok(Change { files, base: None })
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The change id (ARCHITECTURE §3): SHA-256 over, in this order,
    ///
    /// ```text
    /// "hc1\0"
    /// per file, sorted by (path, old path) bytes:
    ///   "F"
    ///   old side, new side: 0x00 when absent, else 0x01 · bytes(path) · mode (u32 BE)
    ///   body: "B" · bytes(old blob id) · bytes(new blob id)          binary, symlink, submodule
    ///      or "T" · hunk count (u64 BE) · per hunk: line count (u64 BE)
    ///                · per line: tag (' ', '-', '+') · bytes(exact line bytes)
    /// bytes(x) = length (u64 BE) · x
    /// ```
    ///
    /// Line numbers are not in it, so the same edit on a shifted base keeps its id.
    pub fn id(&self) -> ChangeId {
        let mut h = Sha256::new();
        h.update(b"hc1\0");
        for file in &self.files {
            h.update(b"F");
            for side in [&file.old, &file.new] {
                match side {
                    Some(s) => {
                        h.update([1u8]);
                        put_bytes(&mut h, &s.path);
                        h.update(s.mode.to_be_bytes());
                    }
                    None => h.update([0u8]),
                }
            }
            match &file.body {
                Body::Opaque => {
                    h.update(b"B");
                    for side in [&file.old, &file.new] {
                        let id = side.as_ref().map(|s| s.id.as_bytes()).unwrap_or_default();
                        put_bytes(&mut h, id);
                    }
                }
                Body::Text(hunks) => {
                    h.update(b"T");
                    h.update((hunks.len() as u64).to_be_bytes());
                    for hunk in hunks {
                        h.update((hunk.lines.len() as u64).to_be_bytes());
                        for line in &hunk.lines {
                            h.update([line.tag.byte()]);
                            put_bytes(&mut h, &line.bytes);
                        }
                    }
                }
            }
        }
        ChangeId(h.finalize().into())
    }

    /// Every text line this change adds, in file order.
    pub fn added_lines(&self) -> impl Iterator<Item = AddedLine<'_>> {
        self.files.iter().flat_map(|f| {
            let path = f.path();
            f.text_hunks()
                .iter()
                .flat_map(|h| &h.lines)
                .filter(|l| l.tag == Tag::Added)
                .map(move |l| AddedLine {
                    path,
                    line: l.new_line.unwrap_or(0),
                    bytes: &l.bytes,
                })
        })
    }

    /// Every run of consecutive added lines, file by file.
    pub fn added_runs(&self) -> Vec<AddedRun<'_>> {
        self.runs(Tag::Added)
    }

    /// Every run of consecutive removed lines, file by file (line numbers in the old file):
    /// what a move or a re-wrap takes away, which the gate does not count as arriving.
    pub fn removed_runs(&self) -> Vec<AddedRun<'_>> {
        self.runs(Tag::Removed)
    }

    /// Runs of consecutive `tag` lines; lines of the other side between them do not break a
    /// run, a line both sides keep does.
    fn runs(&self, tag: Tag) -> Vec<AddedRun<'_>> {
        let mut out: Vec<AddedRun<'_>> = Vec::new();
        for f in &self.files {
            let path = f.path();
            for hunk in f.text_hunks() {
                let mut run: Vec<AddedLine<'_>> = Vec::new();
                for l in &hunk.lines {
                    if l.tag == tag {
                        run.push(AddedLine {
                            path,
                            line: if tag == Tag::Added {
                                l.new_line
                            } else {
                                l.old_line
                            }
                            .unwrap_or(0),
                            bytes: &l.bytes,
                        });
                    } else if l.tag == Tag::Context && !run.is_empty() {
                        out.push(AddedRun {
                            path,
                            lines: std::mem::take(&mut run),
                        });
                    }
                }
                if !run.is_empty() {
                    out.push(AddedRun { path, lines: run });
                }
            }
        }
        out
    }

    /// Every line this change adds or removes, exactly identified (see [`exact`]): what the
    /// gate compares with a generation's own edits and with what approved requests carried.
    pub fn edits(&self) -> Vec<Edit<'_>> {
        let mut out = Vec::new();
        for f in &self.files {
            let old_path = f.old.as_ref().map_or(f.path(), |s| s.path.as_slice());
            let new_path = f.new.as_ref().map_or(f.path(), |s| s.path.as_slice());
            let (old_shown, new_shown) = (
                String::from_utf8_lossy(old_path),
                String::from_utf8_lossy(new_path),
            );
            for hunk in f.text_hunks() {
                let lines: Vec<_> = hunk
                    .lines
                    .iter()
                    .map(|l| (l.tag, exact::shown(&l.bytes)))
                    .collect();
                for e in exact::hunk_edits(&old_shown, &new_shown, &lines) {
                    let line = &hunk.lines[e.index];
                    out.push(Edit {
                        path: if e.removed { old_path } else { new_path },
                        line: if e.removed {
                            line.old_line
                        } else {
                            line.new_line
                        }
                        .unwrap_or(0),
                        removed: e.removed,
                        bytes: &line.bytes,
                        edit: e.edit,
                        text: e.text,
                    });
                }
            }
        }
        out
    }

    /// The fingerprints of everything this change adds, with where it sits: one per non-trivial
    /// added line, and one per binary file brought in (line 0), which has no lines to match.
    pub fn fingerprints(&self) -> Vec<(Fingerprint, &[u8], u32)> {
        let mut out: Vec<_> = self
            .added_lines()
            .filter_map(|l| Some((fingerprint(l.bytes)?, l.path, l.line)))
            .collect();
        out.extend(self.files.iter().filter_map(|f| {
            let blob = f.added_opaque_blob()?;
            Some((blob_fingerprint(&blob), f.path(), 0))
        }));
        out
    }

    /// Lines added and removed, for summaries.
    pub fn line_counts(&self) -> (usize, usize) {
        let mut counts = (0, 0);
        for f in &self.files {
            for l in f.text_hunks().iter().flat_map(|h| &h.lines) {
                match l.tag {
                    Tag::Added => counts.0 += 1,
                    Tag::Removed => counts.1 += 1,
                    Tag::Context => {}
                }
            }
        }
        counts
    }
}

/// Length-prefixed so that no two different changes serialize to the same bytes.
fn put_bytes(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_be_bytes());
    h.update(bytes);
}

/// One changed path before rename detection: (old side, new side).
type Pair = (Option<FileSide>, Option<FileSide>);

const TREE_MODE: u32 = 0o040000;

/// Appends the changed non-tree entries under `prefix` between two trees (by id; `None` is the
/// empty tree), descending only into subtrees whose ids differ.
fn walk_trees(
    repo: &Repository,
    old: Option<Oid>,
    new: Option<Oid>,
    prefix: &mut Vec<u8>,
    out: &mut Vec<Pair>,
) -> Result<(), git2::Error> {
    if old == new {
        return Ok(());
    }
    let entries = |id: Option<Oid>| -> Result<BTreeMap<Vec<u8>, (u32, Oid)>, git2::Error> {
        let Some(id) = id else {
            return Ok(BTreeMap::new());
        };
        let tree = repo.find_tree(id)?;
        Ok(tree
            .iter()
            .map(|e| (e.name_bytes().to_vec(), (e.filemode() as u32, e.id())))
            .collect())
    };
    let (old_entries, new_entries) = (entries(old)?, entries(new)?);
    let names: std::collections::BTreeSet<&Vec<u8>> =
        old_entries.keys().chain(new_entries.keys()).collect();
    for name in names {
        let (o, n) = (old_entries.get(name), new_entries.get(name));
        if o == n {
            continue;
        }
        let base = prefix.len();
        prefix.extend_from_slice(name);
        let tree = |e: Option<&(u32, Oid)>| e.filter(|(m, _)| *m == TREE_MODE).map(|(_, id)| *id);
        let (old_tree, new_tree) = (tree(o), tree(n));
        if old_tree.is_some() || new_tree.is_some() {
            prefix.push(b'/');
            walk_trees(repo, old_tree, new_tree, prefix, out)?;
            prefix.pop();
        }
        let file = |e: Option<&(u32, Oid)>| {
            e.filter(|(m, _)| *m != TREE_MODE)
                .map(|(mode, id)| FileSide {
                    path: prefix.clone(),
                    mode: *mode,
                    id: *id,
                })
        };
        let (old_file, new_file) = (file(o), file(n));
        if old_file.is_some() || new_file.is_some() {
            out.push((old_file, new_file));
        }
        prefix.truncate(base);
    }
    Ok(())
}

fn is_regular(mode: u32) -> bool {
    mode & 0o170000 == 0o100000
}

/// Regular files and symlinks are blobs; a gitlink names a commit, which has no content here.
fn is_blob(mode: u32) -> bool {
    is_regular(mode) || mode & 0o170000 == 0o120000
}

fn is_binary(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(BINARY_SNIFF_BYTES)].contains(&0)
}

fn file_change(
    repo: &Repository,
    old: Option<FileSide>,
    new: Option<FileSide>,
) -> Result<FileChange, Error> {
    let read = |side: &Option<FileSide>| -> Result<Option<git2::Blob<'_>>, Error> {
        match side {
            Some(s) if is_blob(s.mode) => {
                repo.find_blob(s.id)
                    .map(Some)
                    .map_err(|source| Error::Blob {
                        oid: s.id,
                        path: String::from_utf8_lossy(&s.path).into_owned(),
                        source,
                    })
            }
            _ => Ok(None),
        }
    };
    let regular = [&old, &new]
        .iter()
        .all(|s| s.as_ref().is_none_or(|s| is_regular(s.mode)));
    let same_content = matches!((&old, &new), (Some(o), Some(n)) if o.id == n.id);
    if regular && same_content {
        // A rename or a mode change: the content is the same, so there is nothing to diff.
        return Ok(FileChange {
            old,
            new,
            body: Body::Text(Vec::new()),
            decoded: None,
        });
    }
    if same_content {
        // A symlink or gitlink renamed: nothing new to read.
        return Ok(FileChange {
            old,
            new,
            body: Body::Opaque,
            decoded: None,
        });
    }
    let (old_blob, new_blob) = (read(&old)?, read(&new)?);
    let old_bytes = old_blob.as_ref().map(|b| b.content()).unwrap_or_default();
    let new_bytes = new_blob.as_ref().map(|b| b.content()).unwrap_or_default();
    if regular && let Some(decoded) = lfs_decoded(repo, old_bytes, new_bytes) {
        let body = if !is_binary(old_bytes) && !is_binary(new_bytes) {
            Body::Text(text_hunks(old_bytes, new_bytes))
        } else {
            Body::Opaque
        };
        return Ok(FileChange {
            old,
            new,
            body,
            decoded: Some(decoded),
        });
    }
    if regular && !is_binary(old_bytes) && !is_binary(new_bytes) {
        // A notebook's lines are its cells' sources, and a JSON or YAML string's escaped line
        // breaks are line breaks: output pasted into a cell or a string is found, and
        // reviewed, as the code it is. The id still diffs the file as stored.
        let decoded =
            viewed_texts(&old, &new, old_bytes, new_bytes).map(|((o, n), encoding)| Decoded {
                encoding,
                hunks: text_hunks(&o, &n),
                lfs: None,
            });
        return Ok(FileChange {
            old,
            new,
            body: Body::Text(text_hunks(old_bytes, new_bytes)),
            decoded,
        });
    }
    // Opaque for the id; read as text anyway when the new content allows it, so that output
    // saved with a NUL, as UTF-16 or over a symlink is still seen line by line.
    let decoded = new_blob.as_ref().and_then(|_| {
        let (new_text, encoding) = text::decode(new_bytes)?;
        let old_text = old_blob
            .as_ref()
            .and_then(|_| text::decode(old_bytes))
            .map(|(t, _)| t)
            .unwrap_or_default();
        Some(Decoded {
            encoding,
            hunks: text_hunks(&old_text, &new_text),
            lfs: None,
        })
    });
    Ok(FileChange {
        old,
        new,
        body: Body::Opaque,
        decoded,
    })
}

/// The old and the new side's text.
pub type TextPair = (Vec<u8>, Vec<u8>);

/// Content as text: itself when git would call it text, else its decoded text (UTF-16…) when
/// it reads as text at all.
fn readable_bytes(bytes: &[u8]) -> Option<Vec<u8>> {
    if is_binary(bytes) {
        text::decode(bytes).map(|(t, _)| t)
    } else {
        Some(bytes.to_vec())
    }
}

/// The two sides of a file read through Git LFS, when either is a pointer.
fn lfs_texts(repo: &Repository, old: &[u8], new: &[u8]) -> Option<(TextPair, lfs::Seen)> {
    let (old_shown, new_shown) = (lfs::shown(repo, old), lfs::shown(repo, new));
    if old_shown == lfs::Shown::Plain && new_shown == lfs::Shown::Plain {
        return None;
    }
    let side = |shown: &lfs::Shown, bytes: &[u8]| match shown {
        lfs::Shown::Plain => readable_bytes(bytes).unwrap_or_default(),
        lfs::Shown::Content(t) | lfs::Shown::OidOnly(t) => t.clone(),
    };
    let seen = if matches!(new_shown, lfs::Shown::OidOnly(_)) {
        lfs::Seen::OidOnly
    } else {
        lfs::Seen::Whole
    };
    Some(((side(&old_shown, old), side(&new_shown, new)), seen))
}

fn lfs_decoded(repo: &Repository, old: &[u8], new: &[u8]) -> Option<Decoded> {
    let ((old_text, new_text), seen) = lfs_texts(repo, old, new)?;
    Some(Decoded {
        encoding: text::Encoding::Utf8,
        hunks: text_hunks(&old_text, &new_text),
        lfs: Some(seen),
    })
}

/// Both sides of a file read through a view of what it holds, when one applies: a notebook's
/// cells, a JSON or YAML file's strings with their line breaks. A side that is absent is
/// `None`.
fn viewed_texts(
    old: &Option<FileSide>,
    new: &Option<FileSide>,
    old_bytes: &[u8],
    new_bytes: &[u8],
) -> Option<(TextPair, text::Encoding)> {
    let path = new.as_ref().or(old.as_ref())?.path.as_slice();
    let (old, new) = (
        old.as_ref().map(|_| old_bytes),
        new.as_ref().map(|_| new_bytes),
    );
    if notebook::is_notebook(path) {
        return notebook_texts(old, new).map(|t| (t, text::Encoding::Notebook));
    }
    if embedded::applies(path) {
        return embedded_texts(old, new).map(|t| (t, text::Encoding::Embedded));
    }
    None
}

/// Both sides of a notebook as its cells' sources, when the new side (if any) parses as one; a
/// side that is absent or not a notebook reads as empty.
fn notebook_texts(old: Option<&[u8]>, new: Option<&[u8]>) -> Option<TextPair> {
    let new_cells = match new {
        Some(bytes) => notebook::cells(bytes)?,
        None => Vec::new(),
    };
    let old_cells = old.and_then(notebook::cells).unwrap_or_default();
    Some((old_cells, new_cells))
}

/// Both sides of a JSON or YAML file with their strings' line breaks decoded, when either side
/// holds such a string; a side without one reads as itself.
fn embedded_texts(old: Option<&[u8]>, new: Option<&[u8]>) -> Option<TextPair> {
    let (old_view, new_view) = (
        old.and_then(embedded::expanded),
        new.and_then(embedded::expanded),
    );
    if old_view.is_none() && new_view.is_none() {
        return None;
    }
    let or_itself = |view: Option<Vec<u8>>, bytes: Option<&[u8]>| {
        view.unwrap_or_else(|| bytes.unwrap_or_default().to_vec())
    };
    Some((or_itself(old_view, old), or_itself(new_view, new)))
}

/// The text both sides of a record were diffed as: the blobs themselves for a text body, the
/// decoded text for an opaque one that reads as text; `None` when there is no text to show.
pub fn readable_text(repo: &Repository, f: &FileChange) -> Result<Option<TextPair>, Error> {
    let blob = |side: &Option<FileSide>| -> Result<Option<Vec<u8>>, Error> {
        match side {
            Some(s) if is_blob(s.mode) => repo
                .find_blob(s.id)
                .map(|b| Some(b.content().to_vec()))
                .map_err(|source| Error::Blob {
                    oid: s.id,
                    path: String::from_utf8_lossy(&s.path).into_owned(),
                    source,
                }),
            _ => Ok(None),
        }
    };
    if f.decoded.as_ref().is_some_and(|d| d.lfs.is_some()) {
        let (old, new) = (
            blob(&f.old)?.unwrap_or_default(),
            blob(&f.new)?.unwrap_or_default(),
        );
        return Ok(lfs_texts(repo, &old, &new).map(|(texts, _)| texts));
    }
    if f.decoded.as_ref().is_some_and(|d| {
        matches!(
            d.encoding,
            text::Encoding::Notebook | text::Encoding::Embedded
        )
    }) {
        let (old, new) = (
            blob(&f.old)?.unwrap_or_default(),
            blob(&f.new)?.unwrap_or_default(),
        );
        return Ok(viewed_texts(&f.old, &f.new, &old, &new).map(|(texts, _)| texts));
    }
    match (&f.body, &f.decoded) {
        (Body::Text(hunks), _) if hunks.is_empty() => Ok(None),
        (Body::Text(_), _) => Ok(Some((
            blob(&f.old)?.unwrap_or_default(),
            blob(&f.new)?.unwrap_or_default(),
        ))),
        (Body::Opaque, Some(_)) => {
            let read = |bytes: Option<Vec<u8>>| {
                bytes
                    .and_then(|b| text::decode(&b))
                    .map(|(t, _)| t)
                    .unwrap_or_default()
            };
            Ok(Some((read(blob(&f.old)?), read(blob(&f.new)?))))
        }
        (Body::Opaque, None) => Ok(None),
    }
}

/// Myers with fixed settings; `similar` is pinned exactly in Cargo.toml because its output is part
/// of the id.
pub fn text_hunks(old: &[u8], new: &[u8]) -> Vec<Hunk> {
    hunks_with_context(old, new, CONTEXT_LINES)
}

/// The one line diff every view uses: the change id's hunks (3 lines of context) and the wider
/// ones the reviewer reads differ only in `context`.
pub fn hunks_with_context(old: &[u8], new: &[u8], context: usize) -> Vec<Hunk> {
    let diff = TextDiff::configure()
        .algorithm(Algorithm::Myers)
        .diff_lines(old, new);
    diff.grouped_ops(context)
        .iter()
        .map(|group| Hunk {
            lines: group
                .iter()
                .flat_map(|op| diff.iter_changes(op))
                .map(|c| Line {
                    tag: match c.tag() {
                        ChangeTag::Equal => Tag::Context,
                        ChangeTag::Delete => Tag::Removed,
                        ChangeTag::Insert => Tag::Added,
                    },
                    bytes: c.value().to_vec(),
                    new_line: c.new_index().map(|i| i as u32 + 1),
                    old_line: c.old_index().map(|i| i as u32 + 1),
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunks_keep_exact_bytes() {
        let hunks = text_hunks(b"a\r\nb\n", b"a\r\nb");
        let lines: Vec<_> = hunks[0]
            .lines
            .iter()
            .map(|l| (l.tag, l.bytes.clone()))
            .collect();
        assert_eq!(
            lines,
            vec![
                (Tag::Context, b"a\r\n".to_vec()),
                (Tag::Removed, b"b\n".to_vec()),
                (Tag::Added, b"b".to_vec()),
            ]
        );
    }

    #[test]
    fn binary_sniff_matches_git() {
        assert!(is_binary(b"ab\0c"));
        assert!(!is_binary(b"plain text\n"));
        let mut late = vec![b'a'; BINARY_SNIFF_BYTES];
        late.push(0);
        assert!(!is_binary(&late), "git only looks at the first 8000 bytes");
    }
}
