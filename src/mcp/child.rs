//! One of this binary's commands run as a child for a tool: its `--json` on stdout becomes the
//! tool's structured result, its stderr (the message and hints) the text of a failure, and a
//! cancel from the client kills it.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// How a child ended: the JSON it printed when it ran to its end (exit 0, or 1 for "ran, and
/// said no": a block, a rejected review — the JSON says which), else what it said on stderr.
pub enum Ended {
    Answered(serde_json::Value),
    Refused(String),
}

/// Runs `exe args…` in `top` and waits for it, or kills it when `cancel` fires.
pub async fn run(exe: &Path, top: &Path, args: &[String], cancel: &CancellationToken) -> Ended {
    let mut command = tokio::process::Command::new(exe);
    command
        .args(args)
        .current_dir(top)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group: a kill reaches what it started (a check, git).
        .process_group(0)
        .kill_on_drop(true);
    let child = match command.spawn() {
        Ok(child) => child,
        Err(e) => return Ended::Refused(format!("could not run {}: {e}", exe.display())),
    };
    let pid = child.id();
    let output = tokio::select! {
        output = child.wait_with_output() => output,
        () = cancel.cancelled() => {
            if let Some(pid) = pid {
                kill_group(pid);
            }
            return Ended::Refused("cancelled".into());
        }
    };
    let output = match output {
        Ok(o) => o,
        Err(e) => return Ended::Refused(format!("could not wait for the command: {e}")),
    };
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
    let code = output.status.code();
    if matches!(code, Some(0) | Some(1))
        && let Ok(json) = serde_json::from_slice::<serde_json::Value>(&output.stdout)
    {
        return Ended::Answered(json);
    }
    Ended::Refused(if stderr.is_empty() {
        format!("`git hybrid {}` failed ({})", args.join(" "), output.status)
    } else {
        stderr
    })
}

/// SIGTERM to the child's group, then SIGKILL to what is left a little later.
fn kill_group(pid: u32) {
    use rustix::process::Signal;
    crate::sys::signal_group(pid, Signal::TERM);
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(5));
        crate::sys::signal_group(pid, Signal::KILL);
    });
}
