//! The check loop's one step: a command (the project's tests, a type checker) run on an answer
//! before it becomes a commit.
//!
//! The command runs in a temporary directory holding the base tree with the answer's files
//! written in — never the user's worktree, and without writing the answer to the object
//! database (a refused answer leaves no object the gate does not know). It runs under `sh -c`
//! in its own process group with a timeout, and its output is kept head and tail.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use git2::{ObjectType, Repository, TreeWalkMode, TreeWalkResult};

use super::answer::Changed;

/// Output kept from a check: the first and last lines, this many characters at most in all.
const KEEP_CHARS: usize = 6000;
const HEAD_LINES: usize = 20;

/// A check to run after each answer.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Check {
    /// Run by `sh -c` at the top of the checked tree.
    pub command: String,
    pub timeout: Duration,
    /// Answers asked again after a failed check, at most.
    pub rounds: usize,
    /// What the check is called where its command is no one's to read (the script the spec's
    /// examples become); `None` shows the command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl Check {
    /// How the check is named to people and to the model.
    pub fn shown(&self) -> &str {
        self.label.as_deref().unwrap_or(&self.command)
    }
}

/// How the last check went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ran {
    pub passed: bool,
    /// `exit 1`, `killed after 300 s`, `could not start: …`.
    pub status: String,
    /// Output (stdout and stderr interleaved), head and tail kept.
    pub output: String,
}

impl Ran {
    /// What the generation keeps of the check: this run, the `runs`-th.
    pub fn into_record(self, check: &Check, runs: usize) -> crate::store::CheckRecord {
        crate::store::CheckRecord {
            command: check.shown().to_string(),
            passed: self.passed,
            status: self.status,
            output: self.output,
            runs: runs as u32,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot prepare the checked tree in {path}: {source}")]
    Prepare {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is outside the repository: the check writes only files inside it")]
    Outside { path: String },
    #[error("git: {}", .0.message())]
    Git(#[from] git2::Error),
}

/// Writes `base` with `changed` over it into a temporary directory and runs the check there.
pub fn run(
    git: &Repository,
    base: &git2::Tree<'_>,
    changed: &Changed,
    check: &Check,
) -> Result<Ran, Error> {
    let dir = tempfile::Builder::new()
        .prefix("git-hybrid-check-")
        .tempdir()
        .map_err(|source| Error::Prepare {
            path: std::env::temp_dir(),
            source,
        })?;
    materialize(git, base, changed, dir.path())?;
    Ok(execute(&check.command, dir.path(), check.timeout))
}

/// The base tree's files, then the answer's, under `top`.
fn materialize(
    git: &Repository,
    base: &git2::Tree<'_>,
    changed: &Changed,
    top: &Path,
) -> Result<(), Error> {
    let prepare = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Prepare { path, source }
    };
    let mut failure = None;
    base.walk(TreeWalkMode::PreOrder, |folder, entry| {
        let Ok(name) = entry.name() else {
            return TreeWalkResult::Skip;
        };
        let path = top.join(folder).join(name);
        let written = match entry.kind() {
            Some(ObjectType::Tree) => std::fs::create_dir_all(&path).map_err(prepare(&path)),
            Some(ObjectType::Blob) if !changed.contains_key(&format!("{folder}{name}")) => {
                write_blob(git, entry.id(), entry.filemode() as u32, &path)
            }
            // Submodules (commits) stay empty folders; files the answer rewrites come next.
            _ => Ok(()),
        };
        match written {
            Ok(()) => TreeWalkResult::Ok,
            Err(e) => {
                failure = Some(e);
                TreeWalkResult::Abort
            }
        }
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    for (rel, content) in changed {
        // Only a path inside the checked tree is written: an absolute one or one that climbs
        // (a spec forced past its lint may name `../x`) would land outside it.
        let inside = Path::new(rel)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        if !inside {
            return Err(Error::Outside { path: rel.clone() });
        }
        let path = top.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(prepare(parent))?;
        }
        std::fs::write(&path, content).map_err(prepare(&path))?;
        let executable = base
            .get_path(Path::new(rel))
            .is_ok_and(|e| e.filemode() == 0o100755);
        if executable {
            set_mode(&path, 0o755).map_err(prepare(&path))?;
        }
    }
    Ok(())
}

fn write_blob(git: &Repository, id: git2::Oid, mode: u32, path: &Path) -> Result<(), Error> {
    let blob = git.find_blob(id)?;
    let failed = |source| Error::Prepare {
        path: path.to_path_buf(),
        source,
    };
    if mode == 0o120000 {
        let target = String::from_utf8_lossy(blob.content()).into_owned();
        return std::os::unix::fs::symlink(target, path).map_err(failed);
    }
    std::fs::write(path, blob.content()).map_err(failed)?;
    if mode == 0o100755 {
        set_mode(path, 0o755).map_err(failed)?;
    }
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

/// Runs `command` under `sh -c` in `dir`, killing its whole process group at `timeout`.
fn execute(command: &str, dir: &Path, timeout: Duration) -> Ran {
    use std::os::unix::process::CommandExt;
    let started = Instant::now();
    // `exec 2>&1` interleaves stderr with stdout in one pipe, in the order they were written.
    let child = Command::new("sh")
        .arg("-c")
        .arg(format!("exec 2>&1\n{command}"))
        .current_dir(dir)
        .env("GIT_HYBRID_CHECKING", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .process_group(0)
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            return Ran {
                passed: false,
                status: format!("could not start: {e}"),
                output: String::new(),
            };
        }
    };
    // Read on a thread so a chatty check never blocks on a full pipe.
    let (sent, output) = std::sync::mpsc::channel();
    if let Some(mut out) = child.stdout.take() {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = out.read_to_end(&mut bytes);
            let _ = sent.send(bytes);
        });
    }
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() >= timeout => break None,
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(_) => break None,
        }
    };
    let (passed, status) = match status {
        Some(s) => (
            s.success(),
            match s.code() {
                Some(code) => format!("exit {code}"),
                None => "killed by a signal".to_string(),
            },
        ),
        None => {
            kill_group(&child);
            let _ = child.kill();
            let _ = child.wait();
            (false, format!("killed after {} s", timeout.as_secs()))
        }
    };
    // The whole group on every exit, not only at the timeout: a test suite that starts a server
    // and forgets it must neither outlive the check nor hold the output pipe open, which would
    // keep the reader (and `implement`) waiting for as long as the server runs.
    kill_group(&child);
    // Bounded even so: something that left the group (setsid) may still hold the pipe.
    let bytes = output
        .recv_timeout(Duration::from_secs(2))
        .unwrap_or_default();
    Ran {
        passed,
        status,
        output: keep_head_and_tail(&String::from_utf8_lossy(&bytes)),
    }
}

/// Kills every process left in the check's process group (the group is the child's pid).
fn kill_group(child: &std::process::Child) {
    crate::sys::signal_group(child.id(), rustix::process::Signal::KILL);
}

/// The output's first lines and as many last lines as fit: where a failing test run says what
/// ran and what failed.
pub fn keep_head_and_tail(text: &str) -> String {
    if text.len() <= KEEP_CHARS {
        return text.to_string();
    }
    let lines: Vec<&str> = text.lines().collect();
    let head: Vec<&str> = lines.iter().take(HEAD_LINES).copied().collect();
    let mut budget = KEEP_CHARS.saturating_sub(head.iter().map(|l| l.len() + 1).sum());
    let mut tail = Vec::new();
    for line in lines[head.len()..].iter().rev() {
        let line: String = line.chars().take(400).collect();
        if line.len() + 1 > budget {
            break;
        }
        budget -= line.len() + 1;
        tail.push(line);
    }
    tail.reverse();
    let left_out = lines.len() - head.len() - tail.len();
    let mut out = head.join("\n");
    out.push_str(&format!("\n… ({left_out} lines left out) …\n"));
    out.push_str(&tail.join("\n"));
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_that_runs_too_long_is_killed_with_its_children() {
        let dir = tempfile::tempdir().unwrap();
        let started = Instant::now();
        let ran = execute(
            "sleep 30 & sleep 30; echo never",
            dir.path(),
            Duration::from_millis(300),
        );
        let wall = started.elapsed();
        assert!(!ran.passed);
        assert_eq!(ran.status, "killed after 0 s");
        assert!(wall < Duration::from_secs(5), "{wall:?}");
    }

    /// A check that passes but leaves a process behind (a server a test suite forgot) returns
    /// when the check does: the process is killed with its group, and the output is not waited
    /// for beyond a bound.
    #[test]
    fn a_check_that_leaves_a_process_behind_returns_when_it_exits() {
        let dir = tempfile::tempdir().unwrap();
        let started = Instant::now();
        let ran = execute(
            "sleep 6 & echo done; exit 0",
            dir.path(),
            Duration::from_secs(1),
        );
        let wall = started.elapsed();
        assert!(ran.passed, "{}", ran.status);
        assert!(ran.output.contains("done"), "{}", ran.output);
        assert!(wall < Duration::from_secs(4), "{wall:?}");
    }

    #[test]
    fn a_path_outside_the_checked_tree_is_never_written() {
        let dir = tempfile::tempdir().unwrap();
        let git = Repository::init(dir.path().join("repo")).unwrap();
        let empty = git.treebuilder(None).unwrap().write().unwrap();
        let base = git.find_tree(empty).unwrap();
        let top = dir.path().join("checked");
        std::fs::create_dir(&top).unwrap();
        for rel in ["../escape.py", "/tmp/escape.py", "a/../../escape.py"] {
            let changed: Changed = [(rel.to_string(), "x = 1\n".to_string())].into();
            let err = materialize(&git, &base, &changed, &top).unwrap_err();
            assert!(matches!(err, Error::Outside { .. }), "{rel}: {err}");
        }
        assert!(!dir.path().join("escape.py").exists());
        let inside: Changed = [("a/ok.py".to_string(), "x = 1\n".to_string())].into();
        materialize(&git, &base, &inside, &top).unwrap();
        assert!(top.join("a/ok.py").exists());
    }

    #[test]
    fn output_is_interleaved_and_exit_codes_kept() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), "x").unwrap();
        let ran = execute(
            "cat f; echo oops >&2; exit 3",
            dir.path(),
            Duration::from_secs(10),
        );
        assert!(!ran.passed);
        assert_eq!(ran.status, "exit 3");
        assert_eq!(ran.output, "xoops\n");
    }

    #[test]
    fn long_output_keeps_head_and_tail() {
        let text: String = (0..5000).map(|i| format!("line {i}\n")).collect();
        let kept = keep_head_and_tail(&text);
        assert!(kept.len() <= KEEP_CHARS + 100, "{}", kept.len());
        assert!(kept.starts_with("line 0\n"));
        assert!(kept.ends_with("line 4999\n"));
        assert!(kept.contains("lines left out"));
    }
}
