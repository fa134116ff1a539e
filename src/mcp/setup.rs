//! The project's `.mcp.json` entry that lets `claude` in the repository start `git-hybrid mcp`:
//! added beside whatever servers are there, and removed byte-exact — the file's bytes before the
//! entry are kept in `.git/hybrid/mcp.json.orig` and put back when nothing else changed since.
//!
//! It only ever touches the `git-hybrid` key of `mcpServers` and that saved copy.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

/// The server's name in `mcpServers`: what Claude Code shows and prefixes its tools with.
pub const NAME: &str = "git-hybrid";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not the JSON object an MCP configuration is: {message}")]
    NotConfig { path: PathBuf, message: String },
}

/// What `add` or `remove` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Done {
    Created,
    Added,
    Updated,
    Unchanged,
    /// The file held only our entry, or was put back as it was before.
    Restored,
    /// The entry was taken out of a file changed since it was added.
    Removed,
    Absent,
}

/// The entry itself: the binary by name, so that a committed `.mcp.json` works for every
/// teammate who installed git-hybrid.
pub fn entry() -> Value {
    json!({"type": "stdio", "command": "git-hybrid", "args": ["mcp"], "env": {}})
}

fn path_in(top: &Path) -> PathBuf {
    top.join(".mcp.json")
}

fn saved_in(common_dir: &Path) -> PathBuf {
    common_dir.join("hybrid").join("mcp.json.orig")
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn read(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(path)(e)),
    }
}

fn parse(path: &Path, bytes: &[u8]) -> Result<Map<String, Value>, Error> {
    let not = |message: String| Error::NotConfig {
        path: path.to_path_buf(),
        message,
    };
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => match map.get("mcpServers") {
            None | Some(Value::Object(_)) => Ok(map),
            Some(_) => Err(not("its mcpServers is not an object".into())),
        },
        Ok(_) => Err(not("it is not an object".into())),
        Err(e) => Err(not(e.to_string())),
    }
}

/// Written beside and renamed over: Claude Code never reads half a file.
fn write(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io(path))?;
    std::io::Write::write_all(&mut tmp, bytes).map_err(io(path))?;
    tmp.persist(path).map_err(|e| io(path)(e.error))?;
    Ok(())
}

fn render(map: &Map<String, Value>) -> Vec<u8> {
    let mut text = serde_json::to_string_pretty(map).unwrap_or_default();
    text.push('\n');
    text.into_bytes()
}

/// Adds (or brings up to date) the entry in `<top>/.mcp.json`.
pub fn add(top: &Path, common_dir: &Path) -> Result<Done, Error> {
    let path = path_in(top);
    let before = read(&path)?;
    let mut map = match &before {
        Some(bytes) => parse(&path, bytes)?,
        None => Map::new(),
    };
    let servers = map
        .entry("mcpServers")
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(servers) = servers else {
        return Err(Error::NotConfig {
            path,
            message: "its mcpServers is not an object".into(),
        });
    };
    let done = match servers.get(NAME) {
        Some(v) if *v == entry() => return Ok(Done::Unchanged),
        Some(_) => Done::Updated,
        None if before.is_none() => Done::Created,
        None => Done::Added,
    };
    servers.insert(NAME.to_string(), entry());
    let saved = saved_in(common_dir);
    if done != Done::Updated {
        // What the file was (empty: there was none), for a byte-exact uninstall.
        write(&saved, before.as_deref().unwrap_or_default())?;
    }
    write(&path, &render(&map))?;
    Ok(done)
}

/// Takes the entry out again: the file as it was before `add` when nothing else changed since,
/// else the same file without the entry.
pub fn remove(top: &Path, common_dir: &Path) -> Result<Done, Error> {
    let path = path_in(top);
    let Some(bytes) = read(&path)? else {
        return Ok(Done::Absent);
    };
    let mut map = parse(&path, &bytes)?;
    let Some(Value::Object(servers)) = map.get_mut("mcpServers") else {
        return Ok(Done::Absent);
    };
    if servers.remove(NAME).is_none() {
        return Ok(Done::Absent);
    }
    let saved = saved_in(common_dir);
    let original = read(&saved)?;
    // The file is still exactly what `add` made of the saved copy: put the copy back.
    let restorable = original.as_ref().is_some_and(|orig| {
        let mut again = if orig.is_empty() {
            Map::new()
        } else {
            match parse(&path, orig) {
                Ok(m) => m,
                Err(_) => return false,
            }
        };
        if let Value::Object(s) = again
            .entry("mcpServers")
            .or_insert_with(|| Value::Object(Map::new()))
        {
            s.insert(NAME.to_string(), entry());
        }
        render(&again) == bytes
    });
    let done = match original {
        Some(orig) if restorable && orig.is_empty() => {
            std::fs::remove_file(&path).map_err(io(&path))?;
            Done::Restored
        }
        Some(orig) if restorable => {
            write(&path, &orig)?;
            Done::Restored
        }
        _ => {
            write(&path, &render(&map))?;
            Done::Removed
        }
    };
    let _ = std::fs::remove_file(&saved);
    Ok(done)
}

/// Whether `<top>/.mcp.json` has the entry (for `doctor`): `Some(true)` ours as written,
/// `Some(false)` a `git-hybrid` entry that differs, `None` none.
pub fn status(top: &Path) -> Option<bool> {
    let bytes = std::fs::read(path_in(top)).ok()?;
    let map = parse(&path_in(top), &bytes).ok()?;
    let ours = map.get("mcpServers")?.get(NAME)?;
    Some(*ours == entry())
}
