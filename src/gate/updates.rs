//! What git tells a hook about the refs it moves: `<old> <new> <ref>` lines (reference-transaction,
//! pre-receive) and pre-push's `<local ref> <local id> <remote ref> <remote id>` lines, reduced
//! to the [`RefUpdate`]s the gate judges. It only parses; it never reads the repository.

use git2::Oid;

/// A hook input line this version does not understand.
#[derive(Debug, thiserror::Error)]
#[error("malformed hook input line {line:?}: {why}")]
pub struct InputError {
    pub line: String,
    pub why: &'static str,
}

/// One line of reference-transaction or pre-push input, reduced to what the gate needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RefUpdate {
    pub refname: String,
    pub old: Option<Oid>,
    pub new: Option<Oid>,
    /// `ref:<target>` as the old value: the ref was a symbolic ref to `target`.
    pub old_target: Option<String>,
    /// `ref:<target>` as the new value: the ref becomes a symbolic ref to `target`.
    pub new_target: Option<String>,
}

impl RefUpdate {
    /// Neither a new id nor a new target: the ref goes away (or git writes its new value
    /// elsewhere, as a rename does).
    pub fn is_deletion(&self) -> bool {
        self.new.is_none() && self.new_target.is_none()
    }
}

/// Parses `<old> <new> <ref>` lines. A zero id is `None` (creation or deletion); a symbolic-ref
/// value (`ref:<target>`) is kept as the target.
pub fn parse_ref_updates(input: &str) -> Result<Vec<RefUpdate>, InputError> {
    let mut out = Vec::new();
    for line in input.lines().filter(|l| !l.trim().is_empty()) {
        let mut parts = line.splitn(3, ' ');
        let (Some(old), Some(new), Some(refname)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(InputError {
                line: line.into(),
                why: "expected '<old> <new> <ref>'",
            });
        };
        let value = |v: &str| -> Result<(Option<Oid>, Option<String>), InputError> {
            match v.strip_prefix("ref:") {
                Some(target) => Ok((None, Some(target.to_string()))),
                None => Ok((parse_oid(v, line)?, None)),
            }
        };
        let ((old, old_target), (new, new_target)) = (value(old)?, value(new)?);
        out.push(RefUpdate {
            refname: refname.to_string(),
            old,
            new,
            old_target,
            new_target,
        });
    }
    Ok(out)
}

fn parse_oid(hex: &str, line: &str) -> Result<Option<Oid>, InputError> {
    let oid = Oid::from_str(hex).map_err(|_| InputError {
        line: line.into(),
        why: "not an object id",
    })?;
    Ok((!oid.is_zero()).then_some(oid))
}

/// pre-push's lines; the remote ref's name is what the gate judges, the remote's id its old value.
pub fn parse_push_updates(input: &str) -> Result<Vec<RefUpdate>, InputError> {
    let mut updates = Vec::new();
    for line in input.lines().filter(|l| !l.trim().is_empty()) {
        let parts: Vec<&str> = line.split(' ').collect();
        let [_, local, remote_ref, remote] = parts[..] else {
            return Err(InputError {
                line: line.into(),
                why: "expected '<local ref> <local id> <remote ref> <remote id>'",
            });
        };
        updates.push(RefUpdate {
            refname: remote_ref.to_string(),
            old: parse_oid(remote, line)?,
            new: parse_oid(local, line)?,
            ..RefUpdate::default()
        });
    }
    Ok(updates)
}
