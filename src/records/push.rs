//! Sending this clone's records before a push proper, as git-lfs sends its objects: the remote
//! then knows what the push carries when its own check runs. It never sends anything under a
//! dry run, and never pushes anything but the records ref.

use super::{Error, RECORDS_REF, REMOTE_RECORDS, publish, sync};
use crate::git::{self, Repo};
use crate::store::Store;

/// What `pre-push` did with this clone's records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pushed {
    /// Nothing to do: no records, or the push carries the records itself.
    Nothing,
    /// The records are on the remote now.
    Pushed,
    /// `git push --dry-run`: nothing is sent, records neither.
    DryRun,
    /// They could not be pushed, even after taking in the remote's: git's message.
    Failed(String),
    /// The remote wanted credentials that were not given (no helper, no agent, no terminal to
    /// ask on): git's message.
    Unauthenticated(String),
}

/// Whether git's message says the remote wanted credentials it did not get, over HTTP(S) or
/// SSH. A 403 is not one: the remote knew who pushed and refused them (a permission rule), and
/// "give it credentials" would be the wrong fix.
pub fn is_authentication_failure(message: &str) -> bool {
    const SIGNS: [&str; 6] = [
        "Authentication failed",
        "could not read Username",
        "could not read Password",
        "terminal prompts disabled",
        "Permission denied (publickey",
        "The requested URL returned error: 401",
    ];
    SIGNS.iter().any(|s| message.contains(s))
}

/// Before a push proper (as git-lfs does): sends `refs/hybrid/records` to the same remote, so
/// what the push carries is known there. When the remote's records moved on, they are fetched,
/// merged in (`sync`) and the push tried again once. `remote` is the name or URL git gave the
/// hook; `pushed_refs` the remote refs the push updates.
pub fn push_before(
    repo: &Repo,
    store: &mut Store,
    remote: &str,
    pushed_refs: &[String],
) -> Result<Pushed, Error> {
    // A push that carries the records itself (ours, or the user's) needs no second one.
    if pushed_refs.iter().any(|r| r == RECORDS_REF) || repo.git.refname_to_id(RECORDS_REF).is_err()
    {
        return Ok(Pushed::Nothing);
    }
    let dry_run = crate::sys::parent_command_line()
        .as_deref()
        .and_then(git::subcommand)
        .is_some_and(|(name, args)| name == "push" && is_dry_run(args));
    if dry_run {
        return Ok(Pushed::DryRun);
    }
    push_records(repo, store, remote)
}

/// `push_records` for a command that reports it: what stopped the records, as one line (git's
/// last, or the error), rather than two kinds of failure.
pub fn send(repo: &Repo, store: &mut Store, remote: &str) -> Result<Pushed, String> {
    match push_records(repo, store, remote) {
        Ok(Pushed::Failed(why) | Pushed::Unauthenticated(why)) => {
            Err(why.lines().last().unwrap_or_default().to_string())
        }
        Ok(pushed) => Ok(pushed),
        Err(e) => Err(e.to_string()),
    }
}

/// How many times a records push is tried when the remote's records keep moving (teammates
/// pushing at the same moment): each refusal fetches theirs, merges and tries again. Eight
/// clones pushing at once lost five races in a row often enough to refuse reviewed work.
const PUSH_ATTEMPTS: u32 = 12;

/// The pause before attempt `attempt + 1`: a random share ("full jitter") of a step that doubles
/// from 40 ms up to 2 s, so clones that lost the same race do not meet again at the next one.
fn pause(attempt: u32) -> std::time::Duration {
    let step = (40u64 << attempt.min(6)).min(2_000);
    let random = getrandom::u64().unwrap_or(step / 2);
    std::time::Duration::from_millis(5 + random % step)
}

/// Sends this clone's records to `remote` now: what was recorded and not yet written to the ref
/// is written, the ref is pushed, and when the remote's records moved on they are fetched,
/// merged in (`sync`) and the push tried again, up to `PUSH_ATTEMPTS` times with a growing,
/// jittered pause, because records only ever merge. Never prompts: a remote that wants a password it was not given
/// fails, and the records wait for the next push.
pub fn push_records(repo: &Repo, store: &mut Store, remote: &str) -> Result<Pushed, Error> {
    publish(repo, store)?;
    let Ok(tip) = repo.git.refname_to_id(RECORDS_REF) else {
        return Ok(Pushed::Nothing);
    };
    // What the remote had when this clone last fetched from or pushed to it: when that is this
    // clone's tip, there is nothing to send (and no connection to open on every push).
    let tracking = format!("{REMOTE_RECORDS}{}/records", remote_label(remote));
    if repo.git.refname_to_id(&tracking).ok() == Some(tip) {
        return Ok(Pushed::Nothing);
    }
    // The first push may ask for credentials exactly as the user's own push does (a credential
    // helper, an SSH agent, or a prompt on the terminal when git would prompt there): a remote
    // that wants a typed password must not refuse the records forever. Retries never prompt.
    let git = |args: &[&str], refspec: String, may_prompt: bool| {
        let mut command = std::process::Command::new("git");
        command
            .args(args)
            .arg(remote)
            .arg(refspec)
            .stdin(std::process::Stdio::null());
        if !may_prompt {
            command.env("GIT_TERMINAL_PROMPT", "0");
        }
        command.output().map_err(Error::Spawn)
    };
    let mut attempt = 1;
    loop {
        let pushed = git(
            &["push", "--quiet", "--no-verify"],
            format!("{RECORDS_REF}:{RECORDS_REF}"),
            attempt == 1,
        )?;
        if pushed.status.success() {
            let now = repo.git.refname_to_id(RECORDS_REF)?;
            repo.git
                .reference(&tracking, now, true, "git-hybrid: records pushed")?;
            return Ok(Pushed::Pushed);
        }
        let why = String::from_utf8_lossy(&pushed.stderr).trim().to_string();
        tracing::debug!(attempt, stderr = %why, "records push refused");
        if attempt == PUSH_ATTEMPTS {
            return Ok(Pushed::Failed(why));
        }
        if is_authentication_failure(&why) {
            // Asking again would only fail again (or prompt again): said once, with the fix.
            return Ok(Pushed::Unauthenticated(why));
        }
        // The remote's records may have moved on: take them in, merge, and try again.
        let fetched = git(
            &["fetch", "--quiet"],
            format!(
                "+{RECORDS_REF}:{REMOTE_RECORDS}{}/records",
                remote_label(remote)
            ),
            false,
        )?;
        if !fetched.status.success() {
            // Unreachable, or refusing us: trying again will not help.
            return Ok(Pushed::Failed(why));
        }
        sync(repo, store)?;
        std::thread::sleep(pause(attempt));
        attempt += 1;
    }
}

/// Fetches `remote`'s records now, as `git fetch` would with the refspec `install` adds (the
/// fetch's own hook then takes them in). Never prompts. `Ok(Err(git's message))` when the remote
/// could not be reached or refused.
pub fn fetch_records(remote: &str) -> Result<Result<(), String>, Error> {
    let fetched = std::process::Command::new("git")
        .args(["fetch", "--quiet", "--no-tags", remote])
        .arg(super::fetch_refspec(remote))
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(Error::Spawn)?;
    Ok(if fetched.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&fetched.stderr)
            .lines()
            .last()
            .unwrap_or_default()
            .to_string())
    })
}

/// Whether `git push`'s arguments ask for a dry run: `--dry-run`, `-n`, or `n` in a cluster of
/// short options (`-qn`), before `--`.
fn is_dry_run(args: &[String]) -> bool {
    args.iter()
        .take_while(|a| *a != "--")
        .any(|a| match a.strip_prefix("--") {
            Some(long) => long == "dry-run",
            None => a.starts_with('-') && a[1..].contains('n'),
        })
}

/// A remote as a ref name component: its name, or its URL made safe.
fn remote_label(remote: &str) -> String {
    remote
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authentication_failures_are_told_apart() {
        for said in [
            "fatal: could not read Username for 'https://git.example.com': terminal prompts disabled",
            "remote: Invalid username or password.\nfatal: Authentication failed for 'https://git.example.com/a.git/'",
            "git@git.example.com: Permission denied (publickey).",
            "fatal: unable to access 'https://git.example.com/a.git/': The requested URL returned error: 401",
        ] {
            assert!(is_authentication_failure(said), "{said}");
        }
        for said in [
            "! [rejected] refs/hybrid/records -> refs/hybrid/records (fetch first)",
            "fatal: unable to access 'https://git.example.com/': Could not resolve host: git.example.com",
            // Known and refused: a permission, not a credential.
            "fatal: unable to access 'https://git.example.com/a.git/': The requested URL returned error: 403",
        ] {
            assert!(!is_authentication_failure(said), "{said}");
        }
    }

    #[test]
    fn dry_runs_are_read_in_every_spelling() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        for dry in [
            &["--dry-run", "origin"][..],
            &["-n", "origin"],
            &["-qn", "origin", "main"],
        ] {
            assert!(is_dry_run(&args(dry)), "{dry:?}");
        }
        for wet in [
            &["origin", "main"][..],
            &["-q", "origin"],
            &["--", "-n"],
            &["--no-verify"],
        ] {
            assert!(!is_dry_run(&args(wet)), "{wet:?}");
        }
    }
}
