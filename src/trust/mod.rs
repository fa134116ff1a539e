//! Signatures on records: who vouches for a record, and whom the committed policy believes.
//!
//! A record is signed as git signs with SSH (`gpg.format = ssh`, `user.signingkey`): an
//! `ssh-keygen -Y sign` signature over the record file's bytes, in this project's own namespace
//! so a signature made for a commit or a tag can never be replayed as one on a record. It is
//! checked as git checks one against an `allowed_signers` file in git's format, for the identity
//! the record names as its author: in-process with the `ssh-key` crate for the plain form of the
//! file (thousands of approvals on a cold view must not cost a process each), and by
//! `ssh-keygen -Y verify` itself for anything else the file may say. Signing is always
//! `ssh-keygen`, as git does it. Signature parsing is no place for code of our own.
//! This module never decides what the gate allows; it only answers "did this signer sign these
//! bytes". It must never read or print private key material.

mod root;
mod signers;

pub use root::{Error as RootError, UnsignedChange, unsigned_changes};

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

/// The namespace records are signed in (`ssh-keygen -n`).
pub const NAMESPACE: &str = "git-hybrid-record";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("ssh-keygen could not be run: {0}")]
    Spawn(#[source] std::io::Error),
    #[error("ssh-keygen could not sign with {key}: {message}")]
    Sign { key: String, message: String },
    #[error("cannot write a temporary file for ssh-keygen: {0}")]
    Temp(#[source] std::io::Error),
    #[error(transparent)]
    Policy(#[from] crate::config::Error),
    // The path stays out of the message: it reaches pushers; `doctor` on the server names it.
    #[error("the server's hybrid.allowedSigners file cannot be read: {source}")]
    Pinned {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// What a server or CI says when it refuses because approvals must be signed.
pub fn requirement(origin: &str) -> String {
    format!(
        "approvals count here only when signed by a signer {origin} lists (git config gpg.format ssh; user.signingkey)"
    )
}

/// When the policy wants signed approvals and git here does not sign: what to tell the user
/// before a server or CI refuses their approvals.
pub fn unsigned_warning(
    repo: &crate::git::Repo,
    settings: &crate::config::Settings,
) -> Option<String> {
    let file = settings.allowed_signers.as_ref()?;
    SigningKey::of(repo).is_none().then(|| {
        format!(
            "the policy counts only approvals signed by a signer {} lists, and git here does not sign (git config gpg.format ssh; git config user.signingkey <key>)",
            file.path
        )
    })
}

/// The key records are signed with: git's own SSH signing setup.
#[derive(Clone, Debug)]
pub struct SigningKey {
    /// A key file (private, or public with the private half in ssh-agent), or a public key
    /// given literally (`key::ssh-ed25519 …`), which ssh-agent must hold.
    key: KeySource,
}

#[derive(Clone, Debug)]
enum KeySource {
    File(PathBuf),
    Literal(String),
}

impl SigningKey {
    /// The key git would sign commits with, when git is set up for SSH signing
    /// (`gpg.format = ssh` and `user.signingkey`); `None` otherwise.
    pub fn from_git_config(config: &git2::Config) -> Option<SigningKey> {
        let format = config.get_string("gpg.format").ok()?;
        if !format.eq_ignore_ascii_case("ssh") {
            return None;
        }
        let value = config.get_string("user.signingkey").ok()?;
        let value = value.trim();
        let key = if let Some(literal) = value.strip_prefix("key::") {
            KeySource::Literal(literal.to_string())
        } else if value.starts_with("ssh-") || value.starts_with("ecdsa-") {
            // Older git accepted a literal key without the prefix.
            KeySource::Literal(value.to_string())
        } else if let Some(rest) = value.strip_prefix("~/") {
            KeySource::File(crate::config::home_dir().join(rest))
        } else {
            KeySource::File(PathBuf::from(value))
        };
        Some(SigningKey { key })
    }

    /// The key a repository's git config signs with, if it signs with SSH.
    pub fn of(repo: &crate::git::Repo) -> Option<SigningKey> {
        SigningKey::from_git_config(&repo.git.config().ok()?)
    }

    /// What the key is, for messages (a path, or the start of a literal key).
    pub fn describe(&self) -> String {
        match &self.key {
            KeySource::File(path) => path.display().to_string(),
            KeySource::Literal(text) => text.chars().take(24).collect::<String>() + "…",
        }
    }

    /// An armored SSH signature over `data`.
    pub fn sign(&self, data: &[u8]) -> Result<String, Error> {
        let mut command = Command::new("ssh-keygen");
        command.args(["-q", "-Y", "sign", "-n", NAMESPACE]);
        // Held until ssh-keygen is done: a literal key lives in a temporary file meanwhile.
        let _literal;
        match &self.key {
            KeySource::File(path) => {
                command.arg("-f").arg(path);
            }
            KeySource::Literal(text) => {
                let file = temp_with(text.as_bytes())?;
                command.arg("-U").arg("-f").arg(file.path());
                _literal = file;
            }
        }
        let output = run_with_stdin(&mut command, data)?;
        let signature = String::from_utf8_lossy(&output.stdout).into_owned();
        if !output.status.success() || !signature.contains("BEGIN SSH SIGNATURE") {
            return Err(Error::Sign {
                key: self.describe(),
                message: String::from_utf8_lossy(&output.stderr).trim().to_string(),
            });
        }
        Ok(signature)
    }
}

/// An `allowed_signers` file (git's format: `<principals> [options] <key type> <key>` per line),
/// as the committed policy names it.
pub struct AllowedSigners {
    file: tempfile::NamedTempFile,
    /// The same file read for checks in-process.
    read: signers::Signers,
    digest: String,
    /// Where it came from (`main:.hybrid/allowed_signers`), for messages.
    pub origin: String,
}

impl std::fmt::Debug for AllowedSigners {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AllowedSigners")
            .field("origin", &self.origin)
            .field("digest", &self.digest)
            .finish()
    }
}

impl AllowedSigners {
    /// The file the committed policy names, as the default branch has it.
    pub fn of_policy(
        repo: &crate::git::Repo,
        file: &crate::config::SignersFile,
    ) -> Result<AllowedSigners, Error> {
        let (bytes, origin) = file.read(repo)?;
        AllowedSigners::from_text(&bytes, origin)
    }

    /// Whose approvals a server believes: the file its own `git config hybrid.allowedSigners`
    /// names (pinned by the server's admin, out of any push's reach), else the one the
    /// committed policy names; `None` when neither does.
    pub fn for_server(
        repo: &crate::git::Repo,
        settings: &crate::config::Settings,
    ) -> Result<Option<AllowedSigners>, Error> {
        let pinned = repo
            .git
            .config()
            .and_then(|c| c.get_path("hybrid.allowedSigners"))
            .ok();
        if let Some(path) = pinned {
            let bytes = std::fs::read(&path).map_err(|source| Error::Pinned {
                path: path.display().to_string(),
                source,
            })?;
            // Said to pushers: the server's own paths stay on the server.
            let origin = "the server's hybrid.allowedSigners".to_string();
            return AllowedSigners::from_text(&bytes, origin).map(Some);
        }
        settings
            .allowed_signers
            .as_ref()
            .map(|file| AllowedSigners::of_policy(repo, file))
            .transpose()
    }

    /// The file's text, kept in a temporary file for ssh-keygen.
    pub fn from_text(text: &[u8], origin: String) -> Result<AllowedSigners, Error> {
        Ok(AllowedSigners {
            file: temp_with(text)?,
            read: signers::Signers::parse(text),
            digest: crate::digest::hex(&Sha256::digest(text)),
            origin,
        })
    }

    /// A digest of the file's bytes: what a view of the records built under it is named by, so
    /// a change of signers never reuses what an earlier list believed.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// Whether `signature` is a good signature over `data`, in this project's namespace, by a
    /// key the file lists for `identity`. Anything else — a bad or foreign signature, an
    /// unlisted key, another identity's key, ssh-keygen failing to run — is `false`.
    pub fn verifies(&self, data: &[u8], signature: &[u8], identity: &str) -> bool {
        // An identity that could be read as an option or a pattern is nobody.
        if identity.is_empty()
            || identity.starts_with('-')
            || identity.contains(|c: char| c.is_whitespace() || c == '*' || c == '?' || c == ',')
        {
            return false;
        }
        match self.read.verify(NAMESPACE, data, signature, identity) {
            signers::Verdict::Good => return true,
            signers::Verdict::Bad => return false,
            signers::Verdict::Ask => {}
        }
        let Ok(sig) = temp_with(signature) else {
            return false;
        };
        let mut command = Command::new("ssh-keygen");
        command
            .args(["-Y", "verify", "-n", NAMESPACE, "-f"])
            .arg(self.file.path())
            .arg("-I")
            .arg(identity)
            .arg("-s")
            .arg(sig.path());
        run_with_stdin(&mut command, data).is_ok_and(|o| o.status.success())
    }

    pub fn path(&self) -> &Path {
        self.file.path()
    }
}

fn temp_with(bytes: &[u8]) -> Result<tempfile::NamedTempFile, Error> {
    let mut file = tempfile::NamedTempFile::new().map_err(Error::Temp)?;
    file.write_all(bytes).map_err(Error::Temp)?;
    file.flush().map_err(Error::Temp)?;
    Ok(file)
}

fn run_with_stdin(command: &mut Command, data: &[u8]) -> Result<std::process::Output, Error> {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(Error::Spawn)?;
    if let Some(mut stdin) = child.stdin.take() {
        // ssh-keygen reads all of its input before it writes: no deadlock on small records.
        let _ = stdin.write_all(data);
    }
    child.wait_with_output().map_err(Error::Spawn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keygen(dir: &Path, name: &str) -> (PathBuf, String) {
        keygen_of(dir, name, "ed25519")
    }

    fn keygen_of(dir: &Path, name: &str, kind: &str) -> (PathBuf, String) {
        let key = dir.join(name);
        let status = Command::new("ssh-keygen")
            .args(["-q", "-t", kind, "-N", "", "-C", name, "-f"])
            .arg(&key)
            .status()
            .unwrap();
        assert!(status.success());
        let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
        (key, public.trim().to_string())
    }

    #[test]
    fn signs_and_verifies_only_for_the_listed_identity() {
        let dir = tempfile::tempdir().unwrap();
        let (alice, alice_pub) = keygen(dir.path(), "alice");
        let (mallory, _) = keygen(dir.path(), "mallory");
        let signers = AllowedSigners::from_text(
            format!("alice@example.com {alice_pub}\n").as_bytes(),
            "test".into(),
        )
        .unwrap();
        let sign = |key: &Path| {
            SigningKey {
                key: KeySource::File(key.to_path_buf()),
            }
            .sign(b"record")
            .unwrap()
        };
        let good = sign(&alice);
        assert!(signers.verifies(b"record", good.as_bytes(), "alice@example.com"));
        assert!(!signers.verifies(b"record!", good.as_bytes(), "alice@example.com"));
        assert!(!signers.verifies(b"record", good.as_bytes(), "bob@example.com"));
        assert!(!signers.verifies(b"record", good.as_bytes(), "*"));
        let forged = sign(&mallory);
        assert!(!signers.verifies(b"record", forged.as_bytes(), "alice@example.com"));
        assert!(!signers.verifies(b"record", b"not a signature", "alice@example.com"));
        // A signature in git's own namespace is not a record's.
        let mut git_ns = Command::new("ssh-keygen");
        git_ns
            .args(["-q", "-Y", "sign", "-n", "git", "-f"])
            .arg(&alice);
        let commit_sig = run_with_stdin(&mut git_ns, b"record").unwrap().stdout;
        assert!(!signers.verifies(b"record", &commit_sig, "alice@example.com"));
    }

    /// The in-process check answers what `ssh-keygen -Y verify` answers, for every key type git
    /// signs with and for scoped lines; lines it does not read are left to ssh-keygen.
    #[test]
    fn in_process_checks_agree_with_ssh_keygen() {
        let dir = tempfile::tempdir().unwrap();
        let openssh_says = |signers: &str, data: &[u8], sig: &[u8], identity: &str| {
            let file = temp_with(signers.as_bytes()).unwrap();
            let sig = temp_with(sig).unwrap();
            let mut command = Command::new("ssh-keygen");
            command
                .args(["-Y", "verify", "-n", NAMESPACE, "-f"])
                .arg(file.path())
                .args(["-I", identity, "-s"])
                .arg(sig.path());
            run_with_stdin(&mut command, data).is_ok_and(|o| o.status.success())
        };
        let (other, _) = keygen(dir.path(), "other");
        for kind in ["ed25519", "rsa", "ecdsa"] {
            let (key, public) = keygen_of(dir.path(), kind, kind);
            let sign = |key: &Path| {
                SigningKey {
                    key: KeySource::File(key.to_path_buf()),
                }
                .sign(b"record")
                .unwrap()
            };
            let good = sign(&key);
            let forged = sign(&other);
            for text in [
                format!("alice@example.com {public}\n"),
                format!("bob@example.com,alice@example.com namespaces=\"{NAMESPACE}\" {public}\n"),
                format!("alice@example.com namespaces=\"git\" {public}\n"),
                format!("alice@* {public}\n"),
            ] {
                let signers = AllowedSigners::from_text(text.as_bytes(), "test".into()).unwrap();
                for (data, sig, identity) in [
                    (&b"record"[..], good.as_bytes(), "alice@example.com"),
                    (b"record!", good.as_bytes(), "alice@example.com"),
                    (b"record", good.as_bytes(), "bob@example.com"),
                    (b"record", forged.as_bytes(), "alice@example.com"),
                ] {
                    assert_eq!(
                        signers.verifies(data, sig, identity),
                        openssh_says(&text, data, sig, identity),
                        "{kind}: {text} {identity}"
                    );
                }
            }
        }
    }
}
