//! Checking a record's signature in-process: an allowed-signers file read into keys, and
//! OpenSSH's `sshsig` format verified with the `ssh-key` crate — tens of microseconds where an
//! `ssh-keygen -Y verify` process costs milliseconds, which is what keeps a cold view of
//! thousands of signed approvals (a server, a CI clone) fast.
//!
//! Only the plain form of git's allowed-signers file is read here: principals without
//! wildcards, no options but `namespaces=`. A file with anything else (`cert-authority`,
//! `valid-after`, patterns) is checked entry by entry by `ssh-keygen` itself, as git would: the
//! caller falls back when [`Verdict::Ask`] comes back, so no rule of OpenSSH's is approximated.

use ssh_key::{PublicKey, SshSig};

/// One line of an allowed-signers file, read.
#[derive(Debug)]
struct Entry {
    principals: Vec<String>,
    /// `namespaces="…"`, when given.
    namespaces: Option<Vec<String>>,
    key: PublicKey,
}

/// What the in-process check concluded.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    Good,
    Bad,
    /// Something only `ssh-keygen` decides (a pattern, a certificate authority, a validity
    /// window, a line this reader does not understand).
    Ask,
}

/// An allowed-signers file as this module reads it; `None` entries when a line needs OpenSSH.
#[derive(Debug)]
pub(super) struct Signers {
    entries: Option<Vec<Entry>>,
}

impl Signers {
    pub(super) fn parse(text: &[u8]) -> Signers {
        let entries = std::str::from_utf8(text).ok().and_then(|text| {
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(entry)
                .collect::<Option<Vec<_>>>()
        });
        Signers { entries }
    }

    /// Whether `signature` (armored sshsig) is a good signature over `data` in `namespace` by a
    /// key listed for `identity`.
    pub(super) fn verify(
        &self,
        namespace: &str,
        data: &[u8],
        signature: &[u8],
        identity: &str,
    ) -> Verdict {
        let Some(entries) = &self.entries else {
            return Verdict::Ask;
        };
        let Ok(sig) = SshSig::from_pem(signature) else {
            return Verdict::Bad;
        };
        if sig.namespace() != namespace {
            return Verdict::Bad;
        }
        let listed = entries.iter().any(|e| {
            e.principals.iter().any(|p| p == identity)
                && e.namespaces
                    .as_ref()
                    .is_none_or(|ns| ns.iter().any(|n| n == namespace))
                && e.key.key_data() == sig.public_key()
        });
        if !listed {
            return Verdict::Bad;
        }
        match PublicKey::from(sig.public_key().clone()).verify(namespace, data, &sig) {
            Ok(()) => Verdict::Good,
            Err(_) => Verdict::Bad,
        }
    }
}

/// One line, or `None` when it needs OpenSSH to be read.
fn entry(line: &str) -> Option<Entry> {
    let fields = split_fields(line)?;
    let (principals, rest) = fields.split_first()?;
    if principals.contains(['*', '?', '!']) {
        return None;
    }
    let principals: Vec<String> = principals.split(',').map(str::to_string).collect();
    // A key type opens the key; anything before it is the options field.
    let (options, key) = match rest {
        [kind, data, ..] if is_key_type(kind) => (None, format!("{kind} {data}")),
        [options, kind, data, ..] if is_key_type(kind) => {
            (Some(options.as_str()), format!("{kind} {data}"))
        }
        _ => return None,
    };
    let mut namespaces = None;
    if let Some(options) = options {
        for option in split_options(options)? {
            let value = option.strip_prefix("namespaces=")?;
            namespaces = Some(
                value
                    .trim_matches('"')
                    .split(',')
                    .map(str::to_string)
                    .collect(),
            );
        }
    }
    Some(Entry {
        principals,
        namespaces,
        key: PublicKey::from_openssh(&key).ok()?,
    })
}

fn is_key_type(field: &str) -> bool {
    field.starts_with("ssh-") || field.starts_with("ecdsa-") || field.starts_with("sk-")
}

/// Whitespace-separated fields; a double-quoted run (an option's value) is one field's part.
fn split_fields(line: &str) -> Option<Vec<String>> {
    split_outside_quotes(line, char::is_whitespace)
        .map(|fields| fields.into_iter().filter(|f| !f.is_empty()).collect())
}

/// The options field's comma-separated options, commas inside quotes kept.
fn split_options(field: &str) -> Option<Vec<String>> {
    split_outside_quotes(field, |c| c == ',')
}

/// `text` split at every character `separator` accepts outside double quotes; `None` when a
/// quote is left open.
fn split_outside_quotes(text: &str, separator: impl Fn(char) -> bool) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in text.chars() {
        if c == '"' {
            quoted = !quoted;
            current.push(c);
        } else if separator(c) && !quoted {
            out.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    out.push(current);
    (!quoted).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_plain_form_is_read_here() {
        let key =
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHcnXrkSWRsyUaJYBsSgclt1NufoJ7OhQ6VCNqEZ+MPS";
        let plain = Signers::parse(format!("a@x,b@x {key} comment\n# note\n\n").as_bytes());
        assert_eq!(plain.entries.as_ref().map(Vec::len), Some(1));
        let scoped =
            Signers::parse(format!("a@x namespaces=\"git,git-hybrid-record\" {key}\n").as_bytes());
        let ns = &scoped.entries.as_ref().unwrap()[0].namespaces;
        assert_eq!(
            ns.as_deref(),
            Some(&["git".to_string(), "git-hybrid-record".to_string()][..])
        );
        for needs_openssh in [
            format!("*@x {key}"),
            format!("a@x cert-authority {key}"),
            format!("a@x valid-after=\"20260101\" {key}"),
            "a@x not-a-key".to_string(),
        ] {
            assert!(
                Signers::parse(needs_openssh.as_bytes()).entries.is_none(),
                "{needs_openssh}"
            );
        }
    }
}
