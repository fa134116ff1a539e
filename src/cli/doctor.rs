//! `git hybrid doctor`: is everything the gate depends on in place?

use std::process::Command;

use super::Status;
use crate::error::CommandError;
use crate::git::Repo;
use crate::shim::{self, HookState};
use crate::store::{self, Store};
use crate::ui;

/// Checks the binary, the hooks, the store and the configuration, and says how to fix each problem.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the report as JSON on stdout: {"version": 1, "problems": N, "checks": [{"status":
    /// "ok"|"warn"|"fail", "what": "...", "fix": "..." (fail only)}]}
    #[arg(long)]
    json: bool,
}

/// reference-transaction, which guards every ref update, first shipped in git 2.28.
const MIN_GIT: (u32, u32) = (2, 28);

/// The checks, in order; printed at the end as text or JSON.
struct Report {
    problems: usize,
    checks: Vec<(&'static str, String, Option<String>)>,
}

impl Report {
    fn ok(&mut self, what: impl AsRef<str>) {
        self.checks.push(("ok", what.as_ref().to_string(), None));
    }
    fn warn(&mut self, what: impl AsRef<str>) {
        self.checks.push(("warn", what.as_ref().to_string(), None));
    }
    fn fail(&mut self, what: impl AsRef<str>, fix: impl AsRef<str>) {
        self.problems += 1;
        self.checks.push((
            "fail",
            what.as_ref().to_string(),
            Some(fix.as_ref().to_string()),
        ));
    }

    fn print(&self, json: bool) {
        if json {
            let checks: Vec<serde_json::Value> = self
                .checks
                .iter()
                .map(|(status, what, fix)| {
                    let mut check = serde_json::json!({"status": status, "what": what});
                    if let Some(fix) = fix {
                        check["fix"] = fix.clone().into();
                    }
                    check
                })
                .collect();
            ui::out(
                serde_json::json!({"version": 1, "problems": self.problems, "checks": checks})
                    .to_string(),
            );
            return;
        }
        for (status, what, fix) in &self.checks {
            let label = match *status {
                "fail" => "FAIL",
                other => other,
            };
            ui::out(format!("{label:<5} {what}"));
            if let Some(fix) = fix {
                ui::out(format!("      fix: {fix}"));
            }
        }
        if self.problems == 0 {
            ui::out("everything the gate needs is in place");
        } else {
            ui::out(format!(
                "{} problem{} found",
                self.problems,
                ui::plural(self.problems)
            ));
        }
    }
}

pub fn run(args: Args) -> Result<Status, CommandError> {
    let mut r = Report {
        problems: 0,
        checks: Vec::new(),
    };
    check_binary(&mut r);
    check_git(&mut r);
    let repo = Repo::open()?;
    check_hooks(&mut r, &repo);
    // A server keeps no store of its own: its view of the records is what must be writable.
    if repo.git.is_bare() {
        check_server(&mut r, &repo);
    } else {
        check_store(&mut r, &repo);
        check_claude_code(&mut r, &repo);
    }
    match super::settings(&repo) {
        Ok(s) => {
            let list = |p: &[crate::config::RefPattern]| {
                p.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ")
            };
            r.ok(format!(
                "config: protected {}; quarantine {}; reviewer {} (from {})",
                list(&s.protected),
                list(&s.quarantine),
                s.review_model,
                s.sources.join(" < ")
            ));
            check_protected_refs(&mut r, &repo, &s);
            check_records(&mut r, &repo, &s);
            for line in &s.overrides {
                r.warn(format!(
                    "local override: {line}; remove it (git config --unset-all hybrid.protected / hybrid.quarantine, or unset GIT_HYBRID_PROTECTED / GIT_HYBRID_QUARANTINE) unless it is meant"
                ));
            }
            if repo.git.is_bare() {
                check_policy_source(&mut r, &repo, &s);
            } else if std::env::var_os("ANTHROPIC_API_KEY").is_none() {
                r.warn("ANTHROPIC_API_KEY is not set: `git hybrid review` cannot run");
            }
        }
        Err(e) => {
            let fix = e
                .hints
                .first()
                .cloned()
                .unwrap_or_else(|| "see the message above".to_string());
            r.fail(format!("config: {}", e.message), fix)
        }
    }
    r.print(args.json);
    Ok(if r.problems == 0 {
        Status::Ok
    } else {
        Status::Failed
    })
}

/// The `.mcp.json` entry, when there is one: what Claude Code starts must be this binary.
fn check_claude_code(r: &mut Report, repo: &Repo) {
    let Some(top) = repo.worktree() else { return };
    match crate::mcp::setup::status(top) {
        None => {}
        Some(true) => r.ok(format!(
            "claude code: .mcp.json starts the MCP server `{}` (git-hybrid mcp)",
            crate::mcp::setup::NAME
        )),
        Some(false) => r.warn(format!(
            "claude code: .mcp.json has a `{}` entry that is not the one `install --claude-code` writes; run it again to put it right",
            crate::mcp::setup::NAME
        )),
    }
}

/// On a server: the folder the pre-receive hook keeps its view of the records in must belong to
/// whoever owns the repository (the user pushes run as), or every protected push is refused.
fn check_server(r: &mut Report, repo: &Repo) {
    use std::os::unix::fs::MetadataExt;
    let root = repo.common_dir();
    let Ok(owner) = std::fs::metadata(root).map(|m| m.uid()) else {
        r.fail(
            format!("server: cannot read {}", root.display()),
            "check the repository's path and permissions",
        );
        return;
    };
    let folder = root.join("hybrid");
    let mut foreign = Vec::new();
    for path in std::iter::once(folder.clone()).chain(
        std::fs::read_dir(&folder)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path()),
    ) {
        if let Ok(meta) = std::fs::metadata(&path)
            && meta.uid() != owner
        {
            foreign.push((path, meta.uid()));
        }
    }
    if foreign.is_empty() {
        r.ok(format!(
            "server: the view of the records ({}) belongs to the repository's owner (uid {owner})",
            folder.display()
        ));
    } else {
        for (path, uid) in foreign {
            r.fail(
                format!(
                    "server: {} belongs to uid {uid}, the repository to uid {owner}: pushes (run as the owner) cannot write it, so every protected push is refused",
                    path.display()
                ),
                format!(
                    "chown -R {owner} {} (and run `git hybrid install --server` as the repository's owner)",
                    folder.display()
                ),
            );
        }
    }
    match crate::workflow::receive::setup::hook_binary(repo) {
        Ok(path) => r.ok(format!("server: the hook runs {}", path.display())),
        Err(why) => r.fail(
            format!("server: the hook cannot run git-hybrid ({why}), so every protected push is refused"),
            "install git-hybrid into /usr/local/bin, or run `git hybrid install --server` again as the repository's owner",
        ),
    }
    if let Ok(path) = repo
        .git
        .config()
        .and_then(|c| c.get_path("hybrid.allowedSigners"))
    {
        if std::fs::read(&path).is_ok() {
            r.ok(format!(
                "server: approvals count when signed by a signer {} lists (hybrid.allowedSigners)",
                path.display()
            ));
        } else {
            r.fail(
                format!(
                    "server: hybrid.allowedSigners names {}, which cannot be read: every protected push is refused",
                    path.display()
                ),
                "fix the file, or `git config --unset hybrid.allowedSigners` in this repository",
            );
        }
    }
}

/// On a server: where the policy is read from — the branch HEAD names.
fn check_policy_source(r: &mut Report, repo: &Repo, settings: &crate::config::Settings) {
    match repo.default_branch_tip(settings.default_branch.as_deref()) {
        Some((branch, _)) => r.ok(format!(
            "server: the policy is read from {branch} (HEAD, or hybrid.defaultBranch)"
        )),
        None => r.warn(
            "server: HEAD names no branch that exists yet: pushes are judged by the default policy until it does (git symbolic-ref HEAD refs/heads/<default>)",
        ),
    }
}

/// The records that travel with the repository: fetched, sent, signed as the policy wants.
fn check_records(r: &mut Report, repo: &Repo, settings: &crate::config::Settings) {
    use crate::records::{RECORDS_REF, REMOTE_RECORDS};
    if repo.git.is_bare() {
        return;
    }
    let remote = crate::records::remote_name(repo);
    let local = repo.git.refname_to_id(RECORDS_REF).ok();
    if let Ok(found) = repo.git.find_remote(&remote) {
        let spec = crate::records::fetch_refspec(&remote);
        let legacy = crate::records::legacy_fetch_refspec(&remote);
        let specs: Vec<String> = found
            .fetch_refspecs()
            .map(|specs| {
                specs
                    .iter()
                    .flatten()
                    .flatten()
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        if specs.contains(&legacy) {
            r.fail(
                format!(
                    "records: the fetch refspec {legacy} makes `git fetch {remote}` fail while {remote} has no records"
                ),
                "run `git hybrid install` again: it replaces it with one that tolerates a remote without records",
            );
        } else if !specs.contains(&spec) {
            r.warn(format!(
                "records: `git fetch {remote}` does not bring teammates' records; `git hybrid install` adds {spec}"
            ));
        }
        let theirs = repo
            .git
            .refname_to_id(&format!("{REMOTE_RECORDS}{remote}/records"))
            .ok();
        match (local, theirs) {
            (Some(l), Some(t)) if l == t || repo.git.graph_descendant_of(t, l).unwrap_or(false) => {
                r.ok(format!("records: {remote} has this clone's records"))
            }
            (Some(_), _) => r.warn(format!(
                "records: {remote} may lack some of this clone's records; the next push sends them (or: git push {remote} {RECORDS_REF})"
            )),
            (None, _) => {}
        }
    }
    if let Some(warning) = crate::trust::unsigned_warning(repo, settings) {
        r.warn(format!("records: {warning}"));
    } else if let Some(key) = crate::trust::SigningKey::of(repo) {
        r.ok(format!("records: signed with {}", key.describe()));
    }
}

fn check_binary(r: &mut Report) {
    let me = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "?".into());
    r.ok(format!(
        "binary: git-hybrid {} at {me}",
        env!("CARGO_PKG_VERSION")
    ));
    // The shims find the binary through PATH, not through the path this process was started by.
    match Command::new("git-hybrid").arg("--version").output() {
        Ok(out) if out.status.success() => {
            let v = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if v.ends_with(env!("CARGO_PKG_VERSION")) {
                r.ok(format!("PATH: hooks run {v}"));
            } else {
                r.warn(format!("PATH: hooks run {v}, not this binary"));
            }
        }
        _ => r.fail(
            "PATH: git-hybrid is not on PATH, so every hook blocks",
            "run ./install.sh in the git-hybrid source tree, or add its folder to PATH",
        ),
    }
}

fn check_git(r: &mut Report) {
    let out = Command::new("git").arg("--version").output();
    let text = match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        _ => {
            r.fail(
                "git: cannot run `git --version`",
                "install git 2.28 or newer",
            );
            return;
        }
    };
    let version = text
        .split_whitespace()
        .nth(2)
        .map(|v| {
            let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
            (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
        })
        .unwrap_or((0, 0));
    if version >= MIN_GIT {
        r.ok(format!("git: {text}"));
    } else {
        r.fail(
            format!("git: {text} has no reference-transaction hook, so fast-forwards, resets and --no-verify commits are unguarded"),
            "install git 2.28 or newer",
        );
    }
}

fn check_hooks(r: &mut Report, repo: &Repo) {
    let dir = match repo.hooks_dir() {
        Ok(d) => d,
        Err(e) => {
            r.fail(format!("hooks: {e}"), "check core.hooksPath");
            return;
        }
    };
    let via = match repo.hooks_path_setting() {
        Ok(Some(_)) => " (core.hooksPath)",
        _ => "",
    };
    // A bare repository receives pushes: the server's hook is the one it needs.
    let (side, install) = if repo.git.is_bare() {
        (shim::Side::Server, "git hybrid install --server")
    } else {
        (shim::Side::Client, "git hybrid install")
    };
    for s in shim::status_of(&dir, side) {
        let chained = if s.chained { ", chains your hook" } else { "" };
        match s.state {
            HookState::Current => r.ok(format!("hook {}{via}: installed{chained}", s.path.display())),
            HookState::Outdated => r.fail(
                format!("hook {}: from another git-hybrid version", s.path.display()),
                install,
            ),
            HookState::Missing => r.fail(
                format!("hook {}: not installed", s.path.display()),
                install,
            ),
            HookState::Foreign if s.chained => r.fail(
                format!(
                    "hook {}: replaced by another tool after install (a hook manager regenerated it?)",
                    s.path.display()
                ),
                "git hybrid install --force",
            ),
            HookState::Foreign => r.fail(
                format!("hook {}: somebody else's hook, without the gate", s.path.display()),
                "git hybrid install (your hook keeps running, chained)",
            ),
        }
    }
}

/// Protected branches that hold unreviewed local output: what a path no hook sees (`git branch
/// -c`, a hook bypassed) left behind. The branches cannot move it further; this says so early.
fn check_protected_refs(r: &mut Report, repo: &Repo, settings: &crate::config::Settings) {
    let Ok(Some(store)) = Store::open_existing_for(repo) else {
        return;
    };
    match crate::gate::protected_refs_with_output(repo, &store, settings) {
        Ok(found) if found.is_empty() => {}
        Ok(found) => {
            for (refname, lines) in found {
                let delete = match refname.strip_prefix("refs/tags/") {
                    Some(tag) => format!("git tag -d {tag}"),
                    None => format!(
                        "git branch -D {}",
                        refname.trim_start_matches("refs/heads/")
                    ),
                };
                let name = refname
                    .trim_start_matches("refs/heads/")
                    .trim_start_matches("refs/tags/");
                r.fail(
                    format!("{refname} holds {lines} line(s) of unreviewed local output"),
                    format!("review it (git hybrid review {name}) or delete it ({delete})"),
                );
            }
        }
        Err(e) => r.warn(format!("could not check the protected branches: {e}")),
    }
}

fn check_store(r: &mut Report, repo: &Repo) {
    let path = Store::path_for(repo.common_dir());
    match Store::open_existing_for(repo) {
        Ok(None) => r.ok(format!(
            "store: none yet at {} (created on first use)",
            path.display()
        )),
        Ok(Some(store)) => match store.health() {
            Ok(h) if h == "ok" => r.ok(format!(
                "store: {} (schema {}, integrity ok)",
                path.display(),
                store::SCHEMA_VERSION
            )),
            Ok(h) => r.fail(
                format!("store: {} integrity check says {h}", path.display()),
                format!(
                    "move it aside (mv {0} {0}.broken); provenance must then be adopted again",
                    path.display()
                ),
            ),
            Err(e) => r.fail(
                format!("store: {e}"),
                "see the error; run doctor again after fixing",
            ),
        },
        Err(e) => {
            let e = CommandError::from(e);
            r.fail(format!("store: {}", e.message), e.hints.join("; "));
        }
    }
}
