//! The user's local models: a registry of GGUF files (`$XDG_DATA_HOME/git-hybrid/models.toml`),
//! the GGUF header check that keeps other files out, and which model a name means.
//!
//! Model files are untrusted input: a file is registered only when its header is GGUF, with its
//! sha256 and size, so a file swapped later can be noticed. The registry is written atomically,
//! under a lock.
//! This module never copies model files, and deletes one only when asked (`model rm
//! --delete-file`) and only inside the model cache.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

mod gguf;
mod pull;
mod recommend;

pub use gguf::check_gguf;
use gguf::sha256_of;
pub use pull::{Progress as PullProgress, pull};
pub use recommend::{
    CATALOGUE, Candidate, Estimate, Machine, Recommendation, TARGET_TOKENS_PER_SECOND,
    detect_vram_gb, measure_bandwidth_gbs, recommend,
};

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
    #[error("download of {url} failed: {message}")]
    Download { url: String, message: String },
    #[error("{path} is being downloaded by another `git hybrid model pull`")]
    Busy { path: PathBuf },
    #[error("{path} has sha256 {got}, not the expected {expected}; the file was removed")]
    Checksum {
        path: PathBuf,
        expected: String,
        got: String,
    },
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
    crate::config::xdg_dir("XDG_DATA_HOME", ".local/share")
        .join("git-hybrid")
        .join("models.toml")
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

    /// Reads the registry, lets `change` edit it and writes it back, holding an exclusive lock
    /// on `models.lock` beside it the whole time: two `model add` or `model pull` runs at once
    /// each keep their model (without the lock, the later write drops the earlier one's entry).
    fn update<T>(change: impl FnOnce(&mut Registry) -> Result<T, Error>) -> Result<T, Error> {
        let path = registry_path();
        let write = |source| Error::Write {
            path: path.clone(),
            source,
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(write)?;
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("models.lock"))
            .map_err(write)?;
        // Released when `lock` is dropped, at the end of this function.
        lock.lock().map_err(write)?;
        let mut registry = Registry::load()?;
        let answer = change(&mut registry)?;
        let text = toml::to_string_pretty(&registry).map_err(|e| Error::Corrupt {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(write)?;
        tmp.write_all(text.as_bytes()).map_err(write)?;
        tmp.persist(&path).map_err(|e| write(e.error))?;
        Ok(answer)
    }

    /// Registers a GGUF file (checked, hashed); the first model becomes the default. Adding a
    /// file again updates its entry.
    pub fn add(path: &Path) -> Result<Model, Error> {
        check_gguf(path)?;
        let path = path.canonicalize().map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let (sha256, size) = sha256_of(&path)?;
        Registry::register(path, sha256, size)
    }

    /// Registers a file already checked and hashed (`path` canonical).
    fn register(path: PathBuf, sha256: String, size: u64) -> Result<Model, Error> {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model".into());
        let model = Model {
            name: name.clone(),
            path,
            sha256,
            size,
            added: crate::store::now_secs(),
        };
        Registry::update(|registry| {
            registry.models.retain(|m| m.name != name);
            registry.models.push(model.clone());
            if registry.default.is_none() {
                registry.default = Some(name);
            }
            Ok(model)
        })
    }

    /// Forgets a registered model; when it was the default, the oldest remaining one becomes the
    /// default. The file is deleted only when asked and only when it lies in the model cache
    /// (`model pull`'s folder): a file the user added from elsewhere is theirs.
    pub fn remove(name: &str, delete_file: bool) -> Result<(Model, bool), Error> {
        let model = Registry::update(|registry| {
            let Some(index) = registry.models.iter().position(|m| m.name == name) else {
                return Err(Error::Unknown(name.to_string()));
            };
            let model = registry.models.remove(index);
            if registry.default.as_deref() == Some(name) {
                registry.default = registry
                    .models
                    .iter()
                    .min_by_key(|m| m.added)
                    .map(|m| m.name.clone());
            }
            Ok(model)
        })?;
        let cached = model
            .path
            .canonicalize()
            .ok()
            .zip(cache_dir().canonicalize().ok())
            .is_some_and(|(file, cache)| file.starts_with(cache));
        let deleted = delete_file && cached && std::fs::remove_file(&model.path).is_ok();
        Ok((model, deleted))
    }

    /// Makes a registered model the default.
    pub fn set_default(name: &str) -> Result<Model, Error> {
        Registry::update(|registry| {
            let model = registry
                .models
                .iter()
                .find(|m| m.name == name)
                .cloned()
                .ok_or_else(|| Error::Unknown(name.to_string()))?;
            registry.default = Some(model.name.clone());
            Ok(model)
        })
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

impl Registry {
    /// Like `resolve`, but a path is accepted only when it is a registered model's: what the
    /// daemon uses, since a job's model name comes from a repository's store, which someone else
    /// may have written.
    pub fn resolve_registered(wanted: Option<&str>) -> Result<PathBuf, Error> {
        let registry = Registry::load()?;
        let name = match wanted {
            Some(w) => w.to_string(),
            None => registry.default.clone().ok_or(Error::None)?,
        };
        let canonical = |p: &Path| p.canonicalize().ok();
        let as_path = canonical(Path::new(&name));
        registry
            .models
            .iter()
            .find(|m| m.name == name || (as_path.is_some() && canonical(&m.path) == as_path))
            .map(|m| m.path.clone())
            .ok_or(Error::Unknown(name))
    }
}

/// Where pulled models are kept: the user's cache, never the repository.
pub fn cache_dir() -> PathBuf {
    crate::config::xdg_dir("XDG_CACHE_HOME", ".cache")
        .join("git-hybrid")
        .join("models")
}
