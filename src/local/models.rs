//! The user's local models: a registry of GGUF files (`$XDG_DATA_HOME/git-hybrid/models.toml`),
//! the GGUF header check that keeps other files out, and which model a name means.
//!
//! Model files are untrusted input: a file is registered only when its header is GGUF, with its
//! sha256 and size, so a file swapped later can be noticed. The registry is written atomically.
//! This module never copies or deletes model files.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a GGUF model file ({why})")]
    NotGguf { path: PathBuf, why: String },
    #[error("cannot write the model registry {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the model registry {path} is not valid: {message}")]
    Corrupt { path: PathBuf, message: String },
    #[error("no model named {0:?} is registered")]
    Unknown(String),
    #[error("no local model is registered")]
    None,
}

/// Checks the GGUF header: the magic `GGUF` and a known version.
pub fn check_gguf(path: &Path) -> Result<u32, Error> {
    let mut file = std::fs::File::open(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut header = [0u8; 8];
    let read = file.read(&mut header).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let not = |why: String| Error::NotGguf {
        path: path.to_path_buf(),
        why,
    };
    if read < 8 {
        return Err(not(format!("only {read} bytes")));
    }
    if &header[..4] != b"GGUF" {
        return Err(not(format!(
            "it starts with {:?}, not \"GGUF\"",
            String::from_utf8_lossy(&header[..4])
        )));
    }
    let version = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    if !(1..=3).contains(&version) {
        return Err(not(format!("unknown GGUF version {version}")));
    }
    Ok(version)
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Model {
    pub name: String,
    pub path: PathBuf,
    pub sha256: String,
    pub size: u64,
    pub added: i64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Registry {
    pub default: Option<String>,
    #[serde(default, rename = "model")]
    pub models: Vec<Model>,
}

/// Where the registry lives.
pub fn registry_path() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("git-hybrid").join("models.toml")
}

impl Registry {
    pub fn load() -> Result<Registry, Error> {
        let path = registry_path();
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| Error::Corrupt {
                path,
                message: e.message().to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Registry::default()),
            Err(source) => Err(Error::Read { path, source }),
        }
    }

    fn save(&self) -> Result<(), Error> {
        let path = registry_path();
        let write = |source| Error::Write {
            path: path.clone(),
            source,
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(write)?;
        let text = toml::to_string_pretty(self).map_err(|e| Error::Corrupt {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(write)?;
        tmp.write_all(text.as_bytes()).map_err(write)?;
        tmp.persist(&path).map_err(|e| write(e.error))?;
        Ok(())
    }

    /// Registers a GGUF file (checked, hashed); the first model becomes the default. Adding a
    /// file again updates its entry.
    pub fn add(path: &Path) -> Result<Model, Error> {
        check_gguf(path)?;
        let path = path.canonicalize().map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut file = std::fs::File::open(&path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })?;
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; 1 << 20];
        let mut size = 0u64;
        loop {
            let n = file.read(&mut buffer).map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?;
            if n == 0 {
                break;
            }
            size += n as u64;
            hasher.update(&buffer[..n]);
        }
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model".into());
        let model = Model {
            name: name.clone(),
            path,
            sha256: hasher
                .finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
            size,
            added: crate::store::now_secs(),
        };
        let mut registry = Registry::load()?;
        registry.models.retain(|m| m.name != name);
        registry.models.push(model.clone());
        if registry.default.is_none() {
            registry.default = Some(name);
        }
        registry.save()?;
        Ok(model)
    }

    /// The model a `--model` value means: a path to a file, a registered name, or (none given)
    /// the default.
    pub fn resolve(wanted: Option<&str>) -> Result<PathBuf, Error> {
        if let Some(w) = wanted
            && Path::new(w).is_file()
        {
            return Ok(PathBuf::from(w));
        }
        let registry = Registry::load()?;
        let name = match wanted {
            Some(w) => w.to_string(),
            None => registry.default.clone().ok_or(Error::None)?,
        };
        registry
            .models
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.path.clone())
            .ok_or(Error::Unknown(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_gguf_headers_pass() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("m.gguf");
        std::fs::write(&good, b"GGUF\x03\x00\x00\x00rest of the file").unwrap();
        assert_eq!(check_gguf(&good).unwrap(), 3);
        for (bytes, why) in [
            (&b"PK\x03\x04zip file here"[..], "not \"GGUF\""),
            (b"GGUF\x09\x00\x00\x00", "unknown GGUF version 9"),
            (b"GG", "only 2 bytes"),
        ] {
            let p = dir.path().join("bad");
            std::fs::write(&p, bytes).unwrap();
            let e = check_gguf(&p).unwrap_err().to_string();
            assert!(e.contains(why), "{e}");
        }
    }
}
