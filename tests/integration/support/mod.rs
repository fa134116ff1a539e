//! Test support: real git repositories in temporary folders, with the freshly built `git-hybrid`
//! first on PATH and the user's own git configuration shut out.

#![allow(dead_code)]

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

pub const BIN: &str = env!("CARGO_BIN_EXE_git-hybrid");

/// Local output the tests adopt: every line long enough to be fingerprinted.
pub const GENERATED: &str = "\
pub fn parse_port(value: &str) -> Result<u16, String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(\"port must not be empty\".to_string());
    }
    trimmed.parse::<u16>().map_err(|e| format!(\"bad port {trimmed}: {e}\"))
}
";

pub struct TestRepo {
    root: TempDir,
    pub dir: PathBuf,
    path_env: OsString,
}

/// PATH with the built binary's folder first.
fn path_with_binary() -> OsString {
    let bin_dir = Path::new(BIN).parent().expect("binary has a folder");
    let mut paths = vec![bin_dir.to_path_buf()];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths).expect("PATH joins")
}

impl TestRepo {
    /// An empty repository on an unborn `main`, hooks not installed.
    pub fn bare_init() -> TestRepo {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("repo");
        std::fs::create_dir(&dir).unwrap();
        let repo = TestRepo {
            root,
            dir,
            path_env: path_with_binary(),
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    /// A repository with the gate installed and one human commit on `main`.
    pub fn new() -> TestRepo {
        let repo = TestRepo::bare_init();
        repo.hybrid(&["install"]).success();
        repo.write("README.md", "# project\n\nA human wrote this.\n");
        repo.write(
            "src/lib.rs",
            "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n",
        );
        repo.git(&["add", "."]);
        repo.git(&["commit", "-q", "-m", "initial human commit"]);
        repo
    }

    /// `new()`, plus branch `hybrid/port` holding GENERATED in src/port.rs, adopted as local output.
    /// A repository whose last commit adds the spec `path`.
    pub fn with_spec(path: &str, text: &str) -> TestRepo {
        let repo = TestRepo::new();
        repo.write(path, text);
        repo.git(&["add", "."]);
        repo.git(&["commit", "-q", "-m", "spec"]);
        repo
    }

    pub fn with_generation() -> TestRepo {
        let repo = TestRepo::new();
        repo.git(&["checkout", "-q", "-b", "hybrid/port"]);
        repo.write("src/port.rs", GENERATED);
        repo.git(&["add", "src/port.rs"]);
        repo.git(&["commit", "-q", "-m", "add parse_port (generated)"]);
        repo.hybrid(&["adopt", "hybrid/port", "--model", "qwen2.5-coder-7b"])
            .success();
        repo.git(&["checkout", "-q", "main"]);
        repo
    }

    pub fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }

    pub fn command(&self, program: &str) -> Command {
        self.command_in(program, &self.dir)
    }

    pub fn command_in(&self, program: &str, dir: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(dir)
            .env_clear()
            .env("PATH", &self.path_env)
            .env("HOME", self.home())
            // rustup finds its toolchains under the real home: a check may compile Rust.
            .env("RUSTUP_HOME", rustup_home())
            .env("XDG_CONFIG_HOME", self.home().join(".config"))
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Human Dev")
            .env("GIT_AUTHOR_EMAIL", "dev@example.com")
            .env("GIT_COMMITTER_NAME", "Human Dev")
            .env("GIT_COMMITTER_EMAIL", "dev@example.com")
            .env("GIT_EDITOR", "true")
            // Fixed dates make commit ids, and so generation ids, the same on every run.
            .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
            .env("LC_ALL", "C")
            .stdin(Stdio::null());
        cmd
    }

    pub fn run(&self, mut cmd: Command) -> Run {
        let out = cmd.output().expect("command starts");
        Run(out)
    }

    /// Runs git; panics when it fails.
    pub fn git(&self, args: &[&str]) -> String {
        let run = self.try_git(args);
        run.success();
        run.stdout()
    }

    pub fn try_git(&self, args: &[&str]) -> Run {
        let mut cmd = self.command("git");
        cmd.args(args);
        self.run(cmd)
    }

    pub fn git_in(&self, dir: &Path, args: &[&str]) -> Run {
        let mut cmd = self.command_in("git", dir);
        cmd.args(args);
        self.run(cmd)
    }

    pub fn hybrid(&self, args: &[&str]) -> Run {
        let mut cmd = self.command("git");
        cmd.arg("hybrid").args(args);
        self.run(cmd)
    }

    /// `git hybrid review …` against a fake API, with the test key.
    /// `git hybrid <args>` with the fake API's key and address (and batches polled quickly).
    pub fn hybrid_with_api(&self, api: &anthropic::FakeAnthropic, args: &[&str]) -> Run {
        let mut cmd = self.command("git");
        cmd.arg("hybrid")
            .args(args)
            .env("ANTHROPIC_API_KEY", anthropic::KEY)
            .env("ANTHROPIC_BASE_URL", &api.url)
            .env("GIT_HYBRID_BATCH_POLL", "0.01");
        self.run(cmd)
    }

    pub fn review(&self, api: &anthropic::FakeAnthropic, args: &[&str]) -> Run {
        self.review_with(api, args, &[])
    }

    pub fn review_with(
        &self,
        api: &anthropic::FakeAnthropic,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Run {
        let mut cmd = self.command("git");
        cmd.arg("hybrid")
            .arg("review")
            .args(args)
            .env("ANTHROPIC_API_KEY", anthropic::KEY)
            .env("ANTHROPIC_BASE_URL", &api.url);
        for (k, v) in env {
            cmd.env(k, v);
        }
        self.run(cmd)
    }

    /// Commits what is staged with no hook running: a clone without the gate, or one that
    /// switched its hooks off.
    pub fn commit_unhooked(&self, message: &str) {
        self.git(&[
            "-c",
            "core.hooksPath=/dev/null",
            "commit",
            "-q",
            "-m",
            message,
        ]);
    }

    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) {
        let path = self.dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    pub fn rev(&self, spec: &str) -> String {
        self.git(&["rev-parse", spec]).trim().to_string()
    }

    pub fn store_path(&self) -> PathBuf {
        self.dir.join(".git/hybrid/hybrid.db")
    }

    pub fn sqlite(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.store_path()).expect("store opens")
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.sqlite().query_row(sql, [], |r| r.get(0)).unwrap()
    }
}

/// A finished process, with assertions that show its output when they fail.
pub struct Run(pub Output);

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }
    pub fn code(&self) -> Option<i32> {
        self.0.status.code()
    }
    fn show(&self) -> String {
        format!(
            "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code(),
            self.stdout(),
            self.stderr()
        )
    }
    #[track_caller]
    pub fn success(&self) -> &Run {
        assert!(self.0.status.success(), "expected success\n{}", self.show());
        self
    }
    #[track_caller]
    pub fn failure(&self) -> &Run {
        assert!(
            !self.0.status.success(),
            "expected failure\n{}",
            self.show()
        );
        self
    }
    #[track_caller]
    pub fn stderr_has(&self, needle: &str) -> &Run {
        assert!(
            self.stderr().contains(needle),
            "stderr lacks {needle:?}\n{}",
            self.show()
        );
        self
    }
    #[track_caller]
    pub fn stdout_has(&self, needle: &str) -> &Run {
        assert!(
            self.stdout().contains(needle),
            "stdout lacks {needle:?}\n{}",
            self.show()
        );
        self
    }
    #[track_caller]
    pub fn stderr_lacks(&self, needle: &str) -> &Run {
        assert!(
            !self.stderr().contains(needle),
            "stderr has {needle:?}\n{}",
            self.show()
        );
        self
    }
    /// Asserts a block by the gate, naming the generation's fix.
    #[track_caller]
    pub fn blocked(&self) -> &Run {
        self.blocked_by("hybrid/port")
    }

    /// Asserts a block naming the fix for the generation on `branch`.
    #[track_caller]
    pub fn blocked_by(&self, branch: &str) -> &Run {
        self.failure()
            .stderr_has("hybrid: blocked:")
            .stderr_has(&format!("git hybrid review {branch}"))
    }
}

/// Where rustup keeps its toolchains for the user running the tests.
fn rustup_home() -> PathBuf {
    std::env::var_os("RUSTUP_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".rustup")
        })
}

/// A file the tests need from outside the clone: `$var` when set, else `rel` under
/// `~/.cache/git-hybrid`; a missing one fails with the script that fetches it.
pub fn cached_file(var: &str, rel: &str, fetch: &str) -> PathBuf {
    let path = std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
            .join(".cache/git-hybrid")
            .join(rel)
    });
    assert!(path.is_file(), "{} is missing: run {fetch}", path.display());
    path
}

pub mod anthropic;
pub mod openai;

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
