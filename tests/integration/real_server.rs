//! `implement --backend openai` against a real OpenAI-compatible server that nobody here wrote:
//! llama-cpp-python's `[server]`, serving the test model. It must accept what we send (the
//! grammar, sampling, streaming with usage) and its answer must become a recorded commit.
//! Install it first: scripts/fetch-openai-server.sh (CI does; several minutes the first time).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::embedded::{greet_spec_repo, test_model};

fn server_python() -> PathBuf {
    crate::support::cached_file(
        "GIT_HYBRID_SERVER_PYTHON",
        "llama-cpp-python-0.3.36-portable/bin/python",
        "scripts/fetch-openai-server.sh",
    )
}

/// The server process, stopped when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server() -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let model = test_model();
    let child = Command::new(server_python())
        .args(["-m", "llama_cpp.server", "--model"])
        .arg(&model)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args([
            "--n_ctx",
            "4096",
            "--model_alias",
            "smollm",
            "--n_threads",
            "2",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server starts");
    let server = Server {
        child,
        url: format!("http://127.0.0.1:{port}/v1"),
    };
    let started = Instant::now();
    // Ready when it lists the model: a port that merely accepts could be another test's server
    // that took the freed port first, or this one before its app is up.
    while !lists_model(port) {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the server did not list its model within 120 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    server
}

/// Whether the server on `port` answers `GET /v1/models` with the alias it was started with.
fn lists_model(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!("GET /v1/models HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    let mut response = String::new();
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read_to_string(&mut response).is_ok()
        && response.starts_with("HTTP/1.1 200")
        && response.contains("\"smollm\"")
}

#[test]
fn implement_succeeds_against_llama_cpp_python() {
    let _turn = crate::embedded::model_turn();
    let server = start_server();
    let repo = greet_spec_repo();
    let mut cmd = repo.command("git");
    cmd.args(["hybrid", "implement", ".hybrid/specs/greet.md", "--json"])
        .args([
            "--backend",
            "openai",
            "--model",
            "smollm",
            "--max-tokens",
            "400",
        ])
        .env("GIT_HYBRID_OPENAI_BASE_URL", &server.url);
    let run = repo.run(cmd);
    run.success().stderr_has("in 1 attempt");
    let json: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(json["files"][0], "docs/greeting.md");
    // The server reported its token counts: nothing estimated, all in the ledger.
    assert!(json["tokens_out"].as_u64().unwrap() > 0);
    assert_eq!(
        repo.count(
            "SELECT COUNT(*) FROM usage WHERE provider = 'openai' AND ok = 1 AND output_tokens > 0"
        ),
        1
    );
    // Its output is local output: the gate blocks it.
    repo.try_git(&["merge", "--ff-only", "hybrid/add-a-greeting"])
        .blocked_by("hybrid/add-a-greeting");
}
