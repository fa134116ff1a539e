//! `git hybrid install [--force|--manual|--server]`: puts the gate's shims into the hooks dir.

use std::path::Path;

use super::Status;
use crate::error::CommandError;
use crate::git::Repo;
use crate::shim::{self, Action, Side};
use crate::ui;

/// Installs the hooks that keep unreviewed local-model output off protected refs.
///
/// Existing hooks keep running: each is moved beside its shim as `<hook>.hybrid-chained` and run
/// first. `core.hooksPath` (husky, lefthook) is honoured; linked worktrees share the hooks.
/// Running it again updates outdated shims and changes nothing else.
///
/// On a server (a bare repository that receives pushes), `--server` installs the pre-receive
/// hook instead: every pushed update of a protected ref is checked against the records the
/// server holds and those the push brings, whatever the pushing client ran or skipped.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Install the server's pre-receive hook (in the repository that receives pushes)
    #[arg(long, conflicts_with = "manual")]
    server: bool,
    /// Also install into a hooks folder that is tracked in the repository, and let a hook that
    /// replaced a shim since the last install take the chained copy's place.
    #[arg(long, conflicts_with = "manual")]
    force: bool,
    /// Write nothing; print the commands to add to your own hook manager instead.
    #[arg(long)]
    manual: bool,
    /// Also add git-hybrid's MCP server to the project's .mcp.json, so that `claude` run in
    /// this repository can delegate work to the local model (`git hybrid uninstall` takes it out
    /// again, leaving the file as it was).
    #[arg(long, conflicts_with_all = ["manual", "server"])]
    claude_code: bool,
}

pub fn run(args: Args) -> Result<Status, CommandError> {
    if args.manual {
        ui::say_all(shim::manual_instructions());
        return Ok(Status::Ok);
    }
    let (repo, _settings) = super::open()?;
    let dir = repo.hooks_dir()?;
    if args.server {
        return install_server(&repo, &dir, args.force);
    }
    if repo.git.is_bare() {
        return Err(CommandError::user(
            "this is a bare repository: nothing is committed here, it receives pushes",
        )
        .hint("install the server's check instead: git hybrid install --server"));
    }
    if !args.force && is_tracked_dir(&repo, &dir) {
        return Err(CommandError::user(format!(
            "the hooks folder {} is tracked in this repository; installing would change committed files",
            dir.display()
        ))
        .hint("use `git hybrid install --manual` to add the gate to your hook setup yourself")
        .hint("or `git hybrid install --force` to write the shims there anyway"));
    }
    // The store exists from the start, so `verify` in an installed repository that has no local
    // output yet answers "allow" rather than "no store" (and a lost store is caught here too).
    crate::store::Store::open_for(&repo)?;
    let actions = shim::install(&dir, args.force, Side::Client)?;
    for action in &actions {
        ui::say(describe(action));
    }
    ui::say(format!(
        "the gate is installed in {}; protected refs now need a Claude review for local-model output",
        dir.display()
    ));
    if args.claude_code {
        install_claude_code(&repo)?;
    }
    // Records travel with fetch, from every remote: teammates' generations and verdicts come
    // with `git fetch`, whichever remote they were pushed to.
    let mut remotes: Vec<String> = repo
        .git
        .remotes()
        .map(|names| {
            names
                .iter()
                .filter_map(|n| n.ok().flatten().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if remotes.is_empty() {
        remotes.push(crate::records::remote_name(&repo));
    }
    for remote in remotes {
        let added = crate::records::add_fetch_refspec(&repo, &remote)?;
        if added == Some(true) {
            ui::say(format!(
                "`git fetch {remote}` now brings its records too; `git hybrid sync` takes them in"
            ));
        }
        // A fresh clone knows nothing its remote's records say until its first fetch: fetched
        // now, so the gate judges by them from the first commit (the fetch's hook takes them in).
        if added.is_some() {
            match crate::records::fetch_records(&remote)? {
                Ok(()) => {}
                Err(why) => ui::say(format!(
                    "note: {remote}'s records could not be fetched now ({why}); the next `git fetch {remote}` brings them"
                )),
            }
        }
    }
    Ok(Status::Ok)
}

/// The `.mcp.json` entry Claude Code starts the MCP server from.
fn install_claude_code(repo: &Repo) -> Result<(), CommandError> {
    use crate::mcp::setup::{self, Done};
    let top = repo
        .worktree()
        .ok_or_else(|| CommandError::user("a bare repository has no .mcp.json to write"))?;
    let done = setup::add(top, repo.common_dir())?;
    let what = match done {
        Done::Created => "created .mcp.json with",
        Done::Updated => "updated in .mcp.json:",
        Done::Unchanged => ".mcp.json already has",
        _ => "added to .mcp.json:",
    };
    ui::say(format!(
        "{what} the MCP server `{}` (git-hybrid mcp); `claude` in this repository now sees its tools",
        setup::NAME
    ));
    Ok(())
}

/// The server's hook, and a view of the records the repository already holds, built now so the
/// first push does not pay for it.
fn install_server(repo: &Repo, dir: &Path, force: bool) -> Result<Status, CommandError> {
    crate::workflow::receive::setup::check_owner(repo)?;
    let actions = shim::install(dir, force, Side::Server)?;
    for action in &actions {
        ui::say(describe(action));
    }
    let own = crate::records::record_refs(repo)?
        .into_iter()
        .filter(|(name, _)| name == crate::records::RECORDS_REF)
        .collect::<Vec<_>>();
    crate::records::view(repo, &own, None)?;
    if let Some(exe) = crate::workflow::receive::setup::record_binary(repo)? {
        ui::say(format!(
            "note: git-hybrid is not in /usr/local/bin, /usr/bin or /bin, where hooks usually look: the hook runs {} (recorded in {}); install it there if that path moves",
            exe.display(),
            crate::workflow::receive::setup::BINARY_FILE
        ));
    }
    crate::workflow::receive::setup::share(repo)?;
    ui::say(format!(
        "the server's gate is installed in {}: pushes of local-model output to protected refs now need an approval in {}",
        dir.display(),
        crate::records::RECORDS_REF
    ));
    if !repo.git.is_bare() {
        ui::say(
            "note: this repository has a working tree; clones push to it, and `git hybrid install` guards its own commits",
        );
    }
    Ok(Status::Ok)
}

pub(super) fn describe(action: &Action) -> String {
    match action {
        Action::Wrote(p) => format!("wrote {}", p.display()),
        Action::Updated(p) => format!("updated {}", p.display()),
        Action::Unchanged(p) => format!("{} is already current", p.display()),
        Action::Chained(p, kept) => format!(
            "kept your hook: moved to {} and run first by the new {}",
            kept.display(),
            p.display()
        ),
        Action::Removed(p) => format!("removed {}", p.display()),
        Action::Restored(p) => format!("restored your hook {}", p.display()),
        Action::LeftAlone(p) => format!("left {} alone: it is not a git-hybrid shim", p.display()),
    }
}

/// Whether `dir` is inside the worktree and git tracks files in it.
fn is_tracked_dir(repo: &Repo, dir: &Path) -> bool {
    let (Some(top), Ok(index)) = (repo.worktree(), repo.git.index()) else {
        return false;
    };
    let Ok(top) = top.canonicalize() else {
        return false;
    };
    let Ok(dir) = dir.canonicalize() else {
        return false;
    };
    let Ok(rel) = dir.strip_prefix(&top) else {
        return false;
    };
    let prefix = format!("{}/", rel.to_string_lossy());
    index.iter().any(|e| e.path.starts_with(prefix.as_bytes()))
}
