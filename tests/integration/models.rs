//! `model pull` against a local HTTP server: a cut-off download resumes with a Range request, the
//! checksum and the GGUF header are checked, and nothing unchecked is registered.

use std::io::Read;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use crate::support::TestRepo;

/// Serves `body` at any path over plain HTTP/1.1; the first full request is cut off halfway by
/// closing the connection, as a dropped network would. Logs Range headers.
fn serve(body: Vec<u8>) -> (String, Arc<Mutex<Vec<Option<String>>>>) {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/models/tiny.gguf", listener.local_addr().unwrap());
    let ranges = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&ranges);
    std::thread::spawn(move || {
        let mut first = true;
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let head = String::from_utf8_lossy(&head).to_lowercase();
            let range = head
                .lines()
                .find_map(|l| l.strip_prefix("range:"))
                .map(|r| r.trim().to_string());
            log.lock().unwrap().push(range.clone());
            let start: usize = range
                .as_deref()
                .and_then(|r| r.strip_prefix("bytes="))
                .and_then(|r| r.trim_end_matches('-').parse().ok())
                .unwrap_or(0);
            let rest = &body[start..];
            let status = if start > 0 {
                "206 Partial Content"
            } else {
                "200 OK"
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                rest.len()
            );
            if first && start == 0 {
                first = false;
                let _ = stream.write_all(&rest[..rest.len() / 2]);
                continue; // dropped here: the connection closes mid-body
            }
            let _ = stream.write_all(rest);
        }
    });
    (url, ranges)
}

fn fake_gguf() -> Vec<u8> {
    let mut body = b"GGUF\x03\x00\x00\x00".to_vec();
    body.extend((0..2_000_000u32).map(|i| (i.wrapping_mul(2654435761) >> 24) as u8));
    body
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn a_cut_off_pull_resumes_and_is_checked() {
    let repo = TestRepo::bare_init();
    let body = fake_gguf();
    let (url, ranges) = serve(body.clone());
    repo.hybrid(&["model", "pull", &url, "--sha256", &hex(&body)])
        .failure()
        .stderr_has("run the same command again to resume");
    let part = repo.home().join(".cache/git-hybrid/models/tiny.gguf.part");
    let kept = std::fs::metadata(&part).unwrap().len();
    assert!(kept > 0 && kept < body.len() as u64, "{kept}");
    // The hash is checked after the download, and the user is told while it runs.
    repo.hybrid(&["model", "pull", &url, "--sha256", &hex(&body)])
        .success()
        .stderr_has("checking the download's sha256")
        .stderr_has("pulled tiny");
    assert_eq!(
        ranges.lock().unwrap()[1].as_deref(),
        Some(format!("bytes={kept}-").as_str())
    );
    let file = repo.home().join(".cache/git-hybrid/models/tiny.gguf");
    assert_eq!(std::fs::read(&file).unwrap(), body);
    assert!(!part.exists());
    repo.hybrid(&["model", "list"])
        .success()
        .stdout_has("* tiny");
    // Removing it forgets it; a pulled file (in the cache) is deleted only when asked.
    repo.hybrid(&["model", "rm", "nothing-like-it"])
        .failure()
        .stderr_has("nothing-like-it");
    repo.hybrid(&["model", "rm", "tiny", "--delete-file"])
        .success()
        .stderr_has("and deleted")
        .stderr_has("the default model is now none");
    assert!(!file.exists());
    assert_eq!(repo.hybrid(&["model", "list"]).stdout(), "");
}

#[test]
fn a_wrong_checksum_or_a_file_that_is_not_gguf_is_refused() {
    let repo = TestRepo::bare_init();
    let body = fake_gguf();
    let (url, _) = serve(body.clone());
    // The first request is cut off; the second completes and fails the checksum.
    repo.hybrid(&["model", "pull", &url, "--sha256", &"0".repeat(64)])
        .failure();
    repo.hybrid(&["model", "pull", &url, "--sha256", &"0".repeat(64)])
        .failure()
        .stderr_has("not the expected");
    let (url, _) = serve(b"<html>not a model</html>".repeat(1000));
    repo.hybrid(&["model", "pull", &url]).failure();
    repo.hybrid(&["model", "pull", &url])
        .failure()
        .stderr_has("is not a GGUF model file");
    let models = repo.home().join(".cache/git-hybrid/models");
    let left: Vec<_> = std::fs::read_dir(&models)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");
    repo.hybrid(&["model", "list"])
        .success()
        .stderr_has("no models registered");
}

/// Two pulls of one file do not write between each other's bytes: the second says the first
/// holds it, and leaves its part file alone.
#[test]
fn a_second_pull_of_the_same_file_waits_its_turn() {
    let repo = TestRepo::bare_init();
    let models = repo.home().join(".cache/git-hybrid/models");
    std::fs::create_dir_all(&models).unwrap();
    let part = models.join("tiny%20model.gguf.part".replace("%20", " "));
    std::fs::write(&part, b"GGUF and the first pull's bytes").unwrap();
    let held = std::fs::File::options().write(true).open(&part).unwrap();
    held.lock().unwrap();
    repo.hybrid(&["model", "pull", "http://127.0.0.1:9/tiny%20model.gguf"])
        .failure()
        .stderr_has("is being downloaded by another `git hybrid model pull`")
        .stderr_has("wait for the other pull to finish");
    assert_eq!(
        std::fs::read(&part).unwrap(),
        b"GGUF and the first pull's bytes"
    );
    drop(held);
}

#[test]
fn recommend_names_a_size() {
    let repo = TestRepo::bare_init();
    let run = repo.hybrid(&["model", "recommend", "--json"]);
    run.success();
    let r: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert!(r["machine"]["ram_gb"].as_f64().unwrap() > 0.5);
    assert!(r["machine"]["bandwidth_gbs"].as_f64().unwrap() > 0.1);
    assert!(r["machine"]["cores"].as_u64().unwrap() >= 1);
    // A concrete file, and the command that fetches it.
    let url = r["model"]["url"].as_str().unwrap();
    assert!(url.ends_with(".gguf"), "{url}");
    // The second run measures the machine again: under load its pick may differ from the
    // first's (a slower memory measure names a smaller size), so it is checked for a model of
    // the family and a command of the same form, not for the same file.
    let text = repo.hybrid(&["model", "recommend"]);
    text.success().stdout_has("Qwen2.5-Coder-");
    let pull = text
        .stdout()
        .lines()
        .find_map(|l| l.split("git hybrid model pull ").nth(1).map(str::to_string))
        .expect("a pull command");
    // With the file's hash where it was verified here.
    let (url, sha) = match pull.trim().split_once(" --sha256 ") {
        Some((url, sha)) => (url, Some(sha)),
        None => (pull.trim(), None),
    };
    assert!(
        url.starts_with("https://") && url.ends_with(".gguf"),
        "{pull}"
    );
    assert!(sha.is_none_or(|s| s.len() == 64), "{pull}");
}

#[test]
fn the_default_model_is_chosen_by_name() {
    let repo = TestRepo::bare_init();
    for name in ["first", "second"] {
        let path = repo.home().join(format!("{name}.gguf"));
        std::fs::create_dir_all(repo.home()).unwrap();
        std::fs::write(&path, b"GGUF\x03\x00\x00\x00a model").unwrap();
        repo.hybrid(&["model", "add", path.to_str().unwrap()])
            .success();
    }
    repo.hybrid(&["model", "list"])
        .success()
        .stdout_has("* first");
    repo.hybrid(&["model", "default", "second"])
        .success()
        .stderr_has("second");
    repo.hybrid(&["model", "list"])
        .success()
        .stdout_has("* second");
    repo.hybrid(&["model", "default", "third"])
        .failure()
        .stderr_has("no model named \"third\"");
}
