//! Settings: defaults < `~/.config/git-hybrid/config.toml` < the repository's committed
//! `.hybrid.toml` < `git config hybrid.*` < `GIT_HYBRID_*` environment, resolved once into one
//! typed value (DESIGN §10).
//!
//! This module owns reading and merging those layers. It must never read secrets (they come only
//! from the environment, where the code that needs them reads them) and never guess: a file that
//! does not parse is an error with its path, so the gate fails closed instead of running with a
//! policy nobody wrote.

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub const POLICY_FILE: &str = ".hybrid.toml";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid ref pattern {pattern:?} in {origin}: {message}")]
    Pattern {
        pattern: String,
        origin: String,
        message: String,
    },
    #[error("cannot read git config: {}", .0.message())]
    GitConfig(#[source] git2::Error),
}

/// The gate's part of a config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct GateLayer {
    protected: Option<Vec<String>>,
    quarantine: Option<Vec<String>>,
    default_branch: Option<String>,
}

/// A config file. Sections other issues add are ignored here rather than rejected, so an older
/// binary still reads a newer policy file's gate section.
#[derive(Debug, Default, Deserialize)]
struct FileLayer {
    #[serde(default)]
    gate: GateLayer,
}

/// A compiled ref pattern: `*` matches within and across `/`, as in `refs/heads/*`.
#[derive(Clone, Debug)]
pub struct RefPattern(glob::Pattern);

impl RefPattern {
    fn parse(pattern: &str, origin: &str) -> Result<RefPattern, Error> {
        glob::Pattern::new(pattern)
            .map(RefPattern)
            .map_err(|e| Error::Pattern {
                pattern: pattern.to_string(),
                origin: origin.to_string(),
                message: e.to_string(),
            })
    }

    pub fn matches(&self, refname: &str) -> bool {
        self.0.matches(refname)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// Everything the gate needs to know, resolved.
#[derive(Clone, Debug)]
pub struct Settings {
    pub protected: Vec<RefPattern>,
    pub quarantine: Vec<RefPattern>,
    pub default_branch: Option<String>,
    /// Which layers contributed, for `doctor`.
    pub sources: Vec<String>,
}

impl Settings {
    /// Resolves every layer for a repository. `worktree` is the top of the working tree (where the
    /// committed policy file is read from); `config` is the repository's git config.
    pub fn load(worktree: Option<&Path>, config: &git2::Config) -> Result<Settings, Error> {
        let mut gate = GateLayer::default();
        let mut sources = vec!["defaults".to_string()];
        let mut files = Vec::new();
        if let Some(user) = user_config_path() {
            files.push(user);
        }
        if let Some(top) = worktree {
            files.push(top.join(POLICY_FILE));
        }
        for path in files {
            if let Some(layer) = read_file_layer(&path)? {
                merge(&mut gate, layer.gate);
                sources.push(path.display().to_string());
            }
        }
        let from_git = GateLayer {
            protected: git_multivar(config, "hybrid.protected")?,
            quarantine: git_multivar(config, "hybrid.quarantine")?,
            default_branch: config.get_string("hybrid.defaultBranch").ok(),
        };
        if from_git.protected.is_some()
            || from_git.quarantine.is_some()
            || from_git.default_branch.is_some()
        {
            sources.push("git config hybrid.*".to_string());
        }
        merge(&mut gate, from_git);
        let from_env = GateLayer {
            protected: env_list("GIT_HYBRID_PROTECTED"),
            quarantine: env_list("GIT_HYBRID_QUARANTINE"),
            default_branch: std::env::var("GIT_HYBRID_DEFAULT_BRANCH").ok(),
        };
        if from_env.protected.is_some()
            || from_env.quarantine.is_some()
            || from_env.default_branch.is_some()
        {
            sources.push("GIT_HYBRID_* environment".to_string());
        }
        merge(&mut gate, from_env);

        let compile = |list: Option<Vec<String>>, default: &[&str], what: &str| {
            let list = list.unwrap_or_else(|| default.iter().map(|s| s.to_string()).collect());
            list.iter()
                .map(|p| RefPattern::parse(p, what))
                .collect::<Result<Vec<_>, _>>()
        };
        let protected = compile(
            gate.protected,
            &["refs/heads/*", "refs/tags/*"],
            "protected",
        )?;
        // The reference-transaction shim skips every other namespace without starting the binary
        // (that is what keeps remote-tracking updates free), so a pattern elsewhere would never
        // be checked: refuse it rather than pretend to protect it.
        if let Some(p) = protected.iter().find(|p| {
            !(p.as_str().starts_with("refs/heads/") || p.as_str().starts_with("refs/tags/"))
        }) {
            return Err(Error::Pattern {
                pattern: p.as_str().to_string(),
                origin: "protected".to_string(),
                message: "protected refs must be under refs/heads/ or refs/tags/".to_string(),
            });
        }
        Ok(Settings {
            protected,
            quarantine: compile(gate.quarantine, &["refs/heads/hybrid/*"], "quarantine")?,
            default_branch: gate.default_branch,
            sources,
        })
    }

    /// Quarantine wins over protected: `hybrid/*` is never protected, whatever the patterns say.
    pub fn is_protected(&self, refname: &str) -> bool {
        !self.is_quarantine(refname) && self.protected.iter().any(|p| p.matches(refname))
    }

    pub fn is_quarantine(&self, refname: &str) -> bool {
        self.quarantine.iter().any(|p| p.matches(refname))
    }
}

fn merge(into: &mut GateLayer, layer: GateLayer) {
    if layer.protected.is_some() {
        into.protected = layer.protected;
    }
    if layer.quarantine.is_some() {
        into.quarantine = layer.quarantine;
    }
    if layer.default_branch.is_some() {
        into.default_branch = layer.default_branch;
    }
}

fn user_config_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("git-hybrid").join("config.toml"))
}

fn read_file_layer(path: &Path) -> Result<Option<FileLayer>, Error> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(Error::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    toml::from_str(&text).map(Some).map_err(|e| Error::Parse {
        path: path.to_path_buf(),
        message: e.message().to_string(),
    })
}

fn git_multivar(config: &git2::Config, name: &str) -> Result<Option<Vec<String>>, Error> {
    let mut values = Vec::new();
    let entries = match config.multivar(name, None) {
        Ok(entries) => entries,
        Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
        Err(e) => return Err(Error::GitConfig(e)),
    };
    let mut entries = entries;
    while let Some(entry) = entries.next() {
        let entry = entry.map_err(Error::GitConfig)?;
        if let Ok(v) = entry.value() {
            values.push(v.to_string());
        }
    }
    Ok((!values.is_empty()).then_some(values))
}

fn env_list(name: &str) -> Option<Vec<String>> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(protected: &[&str]) -> Settings {
        Settings {
            protected: protected
                .iter()
                .map(|p| RefPattern::parse(p, "test").unwrap())
                .collect(),
            quarantine: vec![RefPattern::parse("refs/heads/hybrid/*", "test").unwrap()],
            default_branch: None,
            sources: vec![],
        }
    }

    #[test]
    fn quarantine_beats_protected() {
        let s = settings(&["refs/heads/*"]);
        assert!(s.is_protected("refs/heads/main"));
        assert!(s.is_protected("refs/heads/feature/x"));
        assert!(!s.is_protected("refs/heads/hybrid/x"));
        assert!(!s.is_protected("refs/remotes/origin/main"));
        assert!(!s.is_protected("ORIG_HEAD"));
    }

    #[test]
    fn narrower_policy() {
        let s = settings(&["refs/heads/main", "refs/heads/release/*"]);
        assert!(s.is_protected("refs/heads/release/1.0"));
        assert!(!s.is_protected("refs/heads/feature"));
    }
}
