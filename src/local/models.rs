//! The user's local models: a registry of GGUF files (`$XDG_DATA_HOME/git-hybrid/models.toml`),
//! the GGUF header check that keeps other files out, and which model a name means.
//!
//! Model files are untrusted input: a file is registered only when its header is GGUF, with its
//! sha256 and size, so a file swapped later can be noticed. The registry is written atomically.
//! This module never copies model files, and deletes one only when asked (`model rm
//! --delete-file`) and only inside the model cache.

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
    #[error("download of {url} failed: {message}")]
    Download { url: String, message: String },
    #[error("{path} has sha256 {got}, not the expected {expected}; the file was removed")]
    Checksum {
        path: PathBuf,
        expected: String,
        got: String,
    },
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
        let mut registry = Registry::load()?;
        registry.models.retain(|m| m.name != name);
        registry.models.push(model.clone());
        if registry.default.is_none() {
            registry.default = Some(name);
        }
        registry.save()?;
        Ok(model)
    }

    /// Forgets a registered model; when it was the default, the oldest remaining one becomes the
    /// default. The file is deleted only when asked and only when it lies in the model cache
    /// (`model pull`'s folder): a file the user added from elsewhere is theirs.
    pub fn remove(name: &str, delete_file: bool) -> Result<(Model, bool), Error> {
        let mut registry = Registry::load()?;
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
        registry.save()?;
        let cached = model
            .path
            .canonicalize()
            .ok()
            .zip(cache_dir().canonicalize().ok())
            .is_some_and(|(file, cache)| file.starts_with(cache));
        let deleted = delete_file && cached && std::fs::remove_file(&model.path).is_ok();
        Ok((model, deleted))
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

/// A file's SHA-256 (hex) and size, read in 1 MiB pieces.
fn sha256_of(path: &Path) -> Result<(String, u64), Error> {
    let read = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(read)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer).map_err(read)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buffer[..n]);
    }
    let hex = crate::digest::hex(&hasher.finalize());
    Ok((hex, size))
}

/// Downloads a GGUF model over HTTP into the cache, resuming a download that was cut off, checks
/// its sha256 (when given) and header, and registers it. `progress` gets (bytes so far, total).
pub fn pull(
    url: &str,
    expected_sha256: Option<&str>,
    progress: &dyn Fn(u64, Option<u64>),
) -> Result<Model, Error> {
    let failed = |message: String| Error::Download {
        url: url.to_string(),
        message,
    };
    let name = url
        .split(['?', '#'])
        .next()
        .and_then(|u| u.rsplit('/').next())
        .filter(|n| !n.is_empty() && !n.contains(".."))
        .unwrap_or("model.gguf")
        .to_string();
    let dir = cache_dir();
    std::fs::create_dir_all(&dir).map_err(|source| Error::Write {
        path: dir.clone(),
        source,
    })?;
    let target = dir.join(&name);
    let part = dir.join(format!("{name}.part"));
    let runtime = crate::runtime::blocking().map_err(|e| failed(e.to_string()))?;
    runtime.block_on(async {
        let have = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
        let client = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(15))
            .read_timeout(std::time::Duration::from_secs(60))
            .build()
            .map_err(|e| failed(e.to_string()))?;
        let mut request = client.get(url);
        if have > 0 {
            request = request.header("range", format!("bytes={have}-"));
        }
        let mut response = request
            .send()
            .await
            .map_err(|e| failed(e.without_url().to_string()))?;
        let status = response.status().as_u16();
        // 416: the part file already holds everything there is.
        if status == 416 && have > 0 {
            return Ok(());
        }
        let (mut written, append) = match status {
            206 => (have, true),
            200 => (0, false),
            other => return Err(failed(format!("HTTP {other}"))),
        };
        let total = response.content_length().map(|n| n + written);
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(&part)
            .map_err(|source| Error::Write {
                path: part.clone(),
                source,
            })?;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    file.write_all(&chunk).map_err(|source| Error::Write {
                        path: part.clone(),
                        source,
                    })?;
                    written += chunk.len() as u64;
                    progress(written, total);
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(failed(format!(
                        "cut off after {written} bytes ({}); run the same command again to resume",
                        e.without_url()
                    )));
                }
            }
        }
        if let Some(total) = total
            && written < total
        {
            return Err(failed(format!(
                "cut off after {written} of {total} bytes; run the same command again to resume"
            )));
        }
        file.sync_all().map_err(|source| Error::Write {
            path: part.clone(),
            source,
        })
    })?;
    let (got, size) = sha256_of(&part)?;
    if let Some(expected) = expected_sha256
        && !expected.eq_ignore_ascii_case(&got)
    {
        let _ = std::fs::remove_file(&part);
        return Err(Error::Checksum {
            path: target,
            expected: expected.to_string(),
            got,
        });
    }
    if let Err(e) = check_gguf(&part) {
        let _ = std::fs::remove_file(&part);
        return Err(e);
    }
    std::fs::rename(&part, &target).map_err(|source| Error::Write {
        path: target.clone(),
        source,
    })?;
    // Checked and hashed above: a model of several GB is not read a second time.
    let target = target.canonicalize().map_err(|source| Error::Read {
        path: target.clone(),
        source,
    })?;
    Registry::register(target, got, size)
}

/// The seed workflow's sizing: parameters → memory a 4-bit quantized model needs.
pub const SIZES: &[(&str, f64)] = &[("7B", 6.0), ("14B", 12.0), ("32B", 24.0), ("72B", 48.0)];

/// What to run on this machine.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Recommendation {
    pub ram_gb: f64,
    pub vram_gb: Option<f64>,
    /// The largest size that fits, or `None` when even 7B does not.
    pub size: Option<&'static str>,
    pub on_gpu: bool,
    pub reason: String,
}

/// The largest model size that fits: in GPU memory when there is a GPU (all layers offloaded),
/// else in RAM with 4 GB left for the system.
pub fn recommend(ram_gb: f64, vram_gb: Option<f64>) -> Recommendation {
    let fits = |budget: f64| {
        SIZES
            .iter()
            .rev()
            .find(|(_, need)| *need <= budget)
            .map(|(size, _)| *size)
    };
    let gpu = vram_gb.and_then(|v| fits(v).map(|s| (s, v)));
    let (size, on_gpu, reason) = match gpu {
        Some((size, v)) => (
            Some(size),
            true,
            format!(
                "{v:.0} GB of GPU memory holds a {size} model (build with --features cuda or vulkan, run with --gpu-layers 999)"
            ),
        ),
        None => {
            let budget = (ram_gb - 4.0).max(0.0);
            match fits(budget) {
                Some(size) => (
                    Some(size),
                    false,
                    format!(
                        "{ram_gb:.0} GB of RAM holds a {size} model on the CPU (slow: expect a few tokens a second)"
                    ),
                ),
                None => (
                    None,
                    false,
                    format!(
                        "{ram_gb:.0} GB of RAM is too little for a 7B model; use a small model for tests, or the openai backend against a bigger machine"
                    ),
                ),
            }
        }
    };
    Recommendation {
        ram_gb,
        vram_gb,
        size,
        on_gpu,
        reason,
    }
}

/// Total RAM, from /proc/meminfo.
pub fn detect_ram_gb() -> Option<f64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kb: f64 = info
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0 / 1024.0)
}

/// Total GPU memory of the largest NVIDIA GPU, from nvidia-smi when it is installed.
pub fn detect_vram_gb() -> Option<f64> {
    let out = std::process::Command::new("nvidia-smi")
        .args(["--query-gpu=memory.total", "--format=csv,noheader,nounits"])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse::<f64>().ok())
        .fold(None, |best: Option<f64>, mib| {
            Some(best.map_or(mib, |b| b.max(mib)))
        })
        .map(|mib| mib / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizing_follows_the_seed_table() {
        assert_eq!(recommend(64.0, Some(24.0)).size, Some("32B"));
        assert!(recommend(64.0, Some(24.0)).on_gpu);
        assert_eq!(recommend(64.0, Some(8.0)).size, Some("7B"));
        assert_eq!(recommend(64.0, Some(80.0)).size, Some("72B"));
        assert_eq!(recommend(24.0, None).size, Some("14B"));
        assert!(!recommend(24.0, None).on_gpu);
        assert_eq!(recommend(8.0, None).size, None);
        // A GPU too small for 7B falls back to RAM.
        let r = recommend(32.0, Some(4.0));
        assert_eq!((r.size, r.on_gpu), (Some("32B"), false));
    }

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
