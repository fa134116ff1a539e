//! Downloading a model into the cache: resumable, checked against its digest and header, and
//! registered only once whole; one pull of a file at a time (its part file is locked).

use std::io::Write;

use super::gguf::{check_gguf, sha256_of};
use super::{Error, Model, Registry, cache_dir};

/// What a pull reports while it runs.
#[derive(Clone, Copy, Debug)]
pub enum Progress {
    /// Bytes written so far, of the total when the server said it.
    Downloaded { done: u64, total: Option<u64> },
    /// The file is whole and being hashed (seconds for a large model).
    Hashing,
}

/// Downloads a GGUF model over HTTP into the cache, resuming a download that was cut off, checks
/// its sha256 (when given) and header, and registers it; `progress` hears how far it is. Two
/// pulls of one file at once: the second is refused (`Busy`) while the first holds the part.
pub fn pull(
    url: &str,
    expected_sha256: Option<&str>,
    progress: &dyn Fn(Progress),
) -> Result<Model, Error> {
    let failed = |message: String| Error::Download {
        url: url.to_string(),
        message,
    };
    // The file is named for the URL's last path segment, decoded (`%20` is a space); one that
    // would leave the cache or is empty becomes `model.gguf`.
    let parsed = reqwest::Url::parse(url).map_err(|e| failed(e.to_string()))?;
    let name = parsed
        .path_segments()
        .and_then(|mut segments| segments.next_back())
        .map(|n| {
            percent_encoding::percent_decode_str(n)
                .decode_utf8_lossy()
                .into_owned()
        })
        .filter(|n| !n.is_empty() && !n.contains(['/', '\\']) && n != "." && n != "..")
        .unwrap_or_else(|| "model.gguf".to_string());
    let dir = cache_dir();
    std::fs::create_dir_all(&dir).map_err(|source| Error::Write {
        path: dir.clone(),
        source,
    })?;
    let target = dir.join(&name);
    let part = dir.join(format!("{name}.part"));
    let write = |source| Error::Write {
        path: part.clone(),
        source,
    };
    // The part file is locked from here until it is renamed (or this fails): a second pull of
    // the same file says so instead of writing between this one's bytes.
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&part)
        .map_err(write)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => return Err(Error::Busy { path: target }),
        Err(std::fs::TryLockError::Error(source)) => return Err(write(source)),
    }
    let downloaded = download(url, &mut file, &part, progress);
    if downloaded.is_err() && file.metadata().is_ok_and(|m| m.len() == 0) {
        // Nothing to resume from: no empty part file is left behind.
        let _ = std::fs::remove_file(&part);
    }
    downloaded?;
    progress(Progress::Hashing);
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

/// Downloads `url` into the (locked) part file, resuming after what it holds when the server
/// allows it.
fn download(
    url: &str,
    file: &mut std::fs::File,
    part: &std::path::Path,
    progress: &dyn Fn(Progress),
) -> Result<(), Error> {
    use std::io::Seek;
    let failed = |message: String| Error::Download {
        url: url.to_string(),
        message,
    };
    let write = |source| Error::Write {
        path: part.to_path_buf(),
        source,
    };
    let have = file.metadata().map(|m| m.len()).unwrap_or(0);
    let runtime = crate::runtime::blocking().map_err(|e| failed(e.to_string()))?;
    runtime.block_on(async {
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
        // Resumed, the bytes go after what the part holds; anew, over nothing.
        let start = if append {
            std::io::SeekFrom::End(0)
        } else {
            file.set_len(0).map_err(write)?;
            std::io::SeekFrom::Start(0)
        };
        file.seek(start).map_err(write)?;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    file.write_all(&chunk).map_err(write)?;
                    written += chunk.len() as u64;
                    progress(Progress::Downloaded {
                        done: written,
                        total,
                    });
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
        file.sync_all().map_err(write)
    })
}
