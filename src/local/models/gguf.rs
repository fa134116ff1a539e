//! The GGUF header check that keeps files other than models out of the registry, and the digest
//! that lets a swapped file be noticed.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::Error;

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

/// A file's SHA-256 (hex) and size, read in 1 MiB pieces.
pub(super) fn sha256_of(path: &Path) -> Result<(String, u64), Error> {
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
