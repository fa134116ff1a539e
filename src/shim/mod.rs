//! The hook shims: rendering them from `hooks/`, installing them into a hooks dir next to whatever
//! hooks the user already had, and taking them out again.
//!
//! A user's hook is never overwritten or edited: it is renamed to `<hook>.hybrid-chained` (a
//! rename keeps its bytes and mode exactly), the shim runs it first, and uninstall renames it back.
//! Shims are written atomically (temp file + rename), so a hook is never seen half-written.
//! This module must never delete a file that is not one of its own shims.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Bumped when the shims' text changes, so `doctor` and `install` can tell an outdated shim.
pub const SHIM_VERSION: &str = "v5";
/// How a shim recognises itself; a file without this line is the user's.
const MARKER: &str = "# git-hybrid shim ";
/// The suffix a replaced user hook is kept under.
pub const CHAINED_SUFFIX: &str = ".hybrid-chained";

const PRELUDE: &str = include_str!("../../hooks/prelude.sh");

/// The hooks git-hybrid installs, with their bodies.
pub const HOOKS: [(&str, &str); 4] = [
    ("pre-commit", include_str!("../../hooks/pre-commit")),
    (
        "pre-merge-commit",
        include_str!("../../hooks/pre-merge-commit"),
    ),
    (
        "reference-transaction",
        include_str!("../../hooks/reference-transaction"),
    ),
    ("pre-push", include_str!("../../hooks/pre-push")),
];

/// The hooks `install --server` puts into a repository that receives pushes.
pub const SERVER_HOOKS: [(&str, &str); 1] =
    [("pre-receive", include_str!("../../hooks/pre-receive"))];

/// Which set of hooks: a clone's, or a server's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

impl Side {
    pub fn hooks(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Side::Client => &HOOKS,
            Side::Server => &SERVER_HOOKS,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{hook} is the user's hook and {chained} already holds an earlier one; refusing to choose between them"
    )]
    ChainConflict { hook: PathBuf, chained: PathBuf },
}

type Result<T> = std::result::Result<T, Error>;

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> Error + 'a {
    move |source| Error::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// The full text of one shim.
pub fn render(hook: &str, body: &str) -> String {
    let prelude = PRELUDE
        .replace("@VERSION@", SHIM_VERSION)
        .replace("@HOOK@", hook);
    format!("#!/bin/sh\n{prelude}{body}")
}

/// The state of one hook in a hooks dir.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HookState {
    Missing,
    /// Our shim, as this binary would write it.
    Current,
    /// Our shim, from another version.
    Outdated,
    /// Somebody else's hook: git-hybrid is not in it.
    Foreign,
}

#[derive(Clone, Debug)]
pub struct HookStatus {
    pub hook: &'static str,
    pub path: PathBuf,
    pub state: HookState,
    /// Whether a replaced user hook is kept beside it.
    pub chained: bool,
}

pub fn status(dir: &Path) -> Vec<HookStatus> {
    status_of(dir, Side::Client)
}

/// The state of each hook of `side` in `dir`.
pub fn status_of(dir: &Path, side: Side) -> Vec<HookStatus> {
    side.hooks()
        .iter()
        .map(|(hook, body)| {
            let path = dir.join(hook);
            let state = match fs::read_to_string(&path) {
                Err(_) if !path.exists() => HookState::Missing,
                Ok(text) if text == render(hook, body) => HookState::Current,
                Ok(text) if text.contains(MARKER) => HookState::Outdated,
                _ => HookState::Foreign,
            };
            HookStatus {
                hook,
                chained: chained_path(&path).exists(),
                path,
                state,
            }
        })
        .collect()
}

fn chained_path(hook_path: &Path) -> PathBuf {
    let mut name = hook_path.as_os_str().to_owned();
    name.push(CHAINED_SUFFIX);
    PathBuf::from(name)
}

/// What install or uninstall did to one hook, for the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Wrote(PathBuf),
    Updated(PathBuf),
    Unchanged(PathBuf),
    /// The user's hook was kept: moved to the second path, and the shim runs it first.
    Chained(PathBuf, PathBuf),
    Removed(PathBuf),
    /// The user's hook is back where it was.
    Restored(PathBuf),
    /// Not ours: left alone.
    LeftAlone(PathBuf),
}

/// Installs every shim into `dir`. With `force`, a hook that replaced our shim after an earlier
/// install takes the place of the chained copy instead of stopping the install.
pub fn install(dir: &Path, force: bool, side: Side) -> Result<Vec<Action>> {
    fs::create_dir_all(dir).map_err(io("create", dir))?;
    // Check every hook before touching any, so a refusal leaves the dir as it was.
    let statuses = status_of(dir, side);
    if !force
        && let Some(s) = statuses
            .iter()
            .find(|s| s.state == HookState::Foreign && s.chained)
    {
        return Err(Error::ChainConflict {
            hook: s.path.clone(),
            chained: chained_path(&s.path),
        });
    }
    let mut actions = Vec::new();
    for (s, (hook, body)) in statuses.iter().zip(side.hooks()) {
        let text = render(hook, body);
        match s.state {
            HookState::Current => actions.push(Action::Unchanged(s.path.clone())),
            HookState::Outdated => {
                write_atomic(&s.path, &text)?;
                actions.push(Action::Updated(s.path.clone()));
            }
            HookState::Missing => {
                write_atomic(&s.path, &text)?;
                actions.push(Action::Wrote(s.path.clone()));
            }
            HookState::Foreign => {
                let chained = chained_path(&s.path);
                fs::rename(&s.path, &chained).map_err(io("move", &s.path))?;
                write_atomic(&s.path, &text)?;
                actions.push(Action::Chained(s.path.clone(), chained));
            }
        }
    }
    Ok(actions)
}

/// Removes our shims from `dir` and puts back the hooks they replaced.
pub fn uninstall(dir: &Path) -> Result<Vec<Action>> {
    let mut actions = Vec::new();
    let both = status_of(dir, Side::Client)
        .into_iter()
        .chain(status_of(dir, Side::Server));
    for s in both {
        let chained = chained_path(&s.path);
        match s.state {
            HookState::Current | HookState::Outdated => {
                if s.chained {
                    // A rename over our shim restores the user's hook in one step.
                    fs::rename(&chained, &s.path).map_err(io("restore", &chained))?;
                    actions.push(Action::Restored(s.path));
                } else {
                    fs::remove_file(&s.path).map_err(io("remove", &s.path))?;
                    actions.push(Action::Removed(s.path));
                }
            }
            HookState::Missing if s.chained => {
                fs::rename(&chained, &s.path).map_err(io("restore", &chained))?;
                actions.push(Action::Restored(s.path));
            }
            HookState::Foreign => actions.push(Action::LeftAlone(s.path)),
            HookState::Missing => {}
        }
    }
    Ok(actions)
}

fn write_atomic(path: &Path, text: &str) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".hybrid-shim")
        .tempfile_in(dir)
        .map_err(io("create a temporary file in", dir))?;
    tmp.write_all(text.as_bytes())
        .map_err(io("write", tmp.path()))?;
    tmp.as_file()
        .set_permissions(fs::Permissions::from_mode(0o755))
        .map_err(io("make executable", path))?;
    tmp.persist(path).map_err(|e| Error::Io {
        action: "write",
        path: path.to_path_buf(),
        source: e.error,
    })?;
    Ok(())
}

/// What to add to a hook manager's config instead of letting install write files (`--manual`).
pub fn manual_instructions() -> Vec<String> {
    let mut out = vec![
        "add these commands to your hook manager (husky, lefthook, pre-commit...), one per hook;"
            .into(),
        "reference-transaction and pre-push must pass their standard input through unchanged:"
            .into(),
    ];
    for (hook, _) in HOOKS {
        out.push(format!("  {hook}: git-hybrid hook {hook} \"$@\""));
    }
    out.push(
        "or run `git hybrid install` to write self-contained shims that chain your hooks.".into(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_is_idempotent_and_uninstall_restores_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let user = dir.path().join("pre-commit");
        fs::write(&user, b"#!/bin/sh\necho mine \xff\n").unwrap();
        fs::set_permissions(&user, fs::Permissions::from_mode(0o750)).unwrap();

        let first = install(dir.path(), false, Side::Client).unwrap();
        assert!(matches!(first[0], Action::Chained(..)));
        let second = install(dir.path(), false, Side::Client).unwrap();
        assert!(second.iter().all(|a| matches!(a, Action::Unchanged(_))));
        assert!(
            status(dir.path())
                .iter()
                .all(|s| s.state == HookState::Current)
        );

        uninstall(dir.path()).unwrap();
        assert_eq!(fs::read(&user).unwrap(), b"#!/bin/sh\necho mine \xff\n");
        assert_eq!(
            fs::metadata(&user).unwrap().permissions().mode() & 0o777,
            0o750
        );
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "only the user's hook remains");
    }

    #[test]
    fn a_hook_that_replaced_the_shim_needs_force() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("pre-push"), "#!/bin/sh\necho one\n").unwrap();
        install(dir.path(), false, Side::Client).unwrap();
        fs::write(dir.path().join("pre-push"), "#!/bin/sh\necho two\n").unwrap();
        assert!(matches!(
            install(dir.path(), false, Side::Client),
            Err(Error::ChainConflict { .. })
        ));
        install(dir.path(), true, Side::Client).unwrap();
        assert_eq!(
            fs::read_to_string(dir.path().join("pre-push.hybrid-chained")).unwrap(),
            "#!/bin/sh\necho two\n"
        );
    }
}
