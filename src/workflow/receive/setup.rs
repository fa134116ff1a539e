//! Setting a server up so that every push can be checked: the gate installed by the
//! repository's owner, its files shared as `core.sharedRepository` says (SSH as one user, HTTP
//! as another, both in the repository's group), and the binary the hook runs recorded where the
//! hook finds it when the hook user's `PATH` does not.
//!
//! This never changes who owns a file, and never loosens permissions the repository's own
//! setting does not ask for.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::Error;
use crate::git::Repo;

/// Where the shim finds the binary when `git-hybrid` is not on the hook's `PATH`.
pub const BINARY_FILE: &str = "hybrid/binary";

/// The `PATH` hooks commonly run with under sshd, a web server or gitolite.
const HOOK_PATH: &[&str] = &["/usr/local/bin", "/usr/bin", "/bin"];

/// Refuses to set up a repository for someone else: files this user creates there (the view,
/// its folder) would be unwritable by the hooks, which run as the repository's owner.
pub fn check_owner(repo: &Repo) -> Result<(), Error> {
    let dir = repo.common_dir();
    let owner = std::fs::metadata(dir)
        .map_err(|source| Error::Setup {
            path: dir.to_path_buf(),
            source,
        })?
        .uid();
    let me = crate::sys::euid();
    if owner == me {
        return Ok(());
    }
    Err(Error::NotOwner {
        path: dir.to_path_buf(),
        owner: user_name(owner).unwrap_or_else(|| owner.to_string()),
    })
}

/// Who owns `path`, by name when the system knows one.
pub fn owner_name(path: &Path) -> String {
    match std::fs::metadata(path) {
        Ok(m) => user_name(m.uid()).unwrap_or_else(|| m.uid().to_string()),
        Err(_) => "its owner".to_string(),
    }
}

fn user_name(uid: u32) -> Option<String> {
    // SAFETY: getpwuid returns null or a pointer to a static record valid until the next call;
    // the name is copied out at once.
    unsafe {
        let entry = libc::getpwuid(uid);
        if entry.is_null() || (*entry).pw_name.is_null() {
            return None;
        }
        Some(
            std::ffi::CStr::from_ptr((*entry).pw_name)
                .to_string_lossy()
                .into_owned(),
        )
    }
}

/// The file mode `core.sharedRepository` asks for, when it asks for sharing at all.
pub fn shared_mode(repo: &Repo) -> Option<u32> {
    let value = repo
        .git
        .config()
        .ok()?
        .get_string("core.sharedRepository")
        .ok()?
        .to_ascii_lowercase();
    match value.as_str() {
        "group" | "true" | "1" => Some(0o660),
        "all" | "world" | "everybody" | "2" => Some(0o664),
        "umask" | "false" | "0" => None,
        octal => u32::from_str_radix(octal.trim_start_matches('0'), 8)
            .ok()
            .map(|m| m & 0o666),
    }
}

/// Gives `hybrid/` and the files in it the permissions `core.sharedRepository` asks for (the
/// folder also setgid, so what another user creates there stays in the group). Files another
/// user owns are left to them.
pub fn share(repo: &Repo) -> Result<(), Error> {
    let Some(mode) = shared_mode(repo) else {
        return Ok(());
    };
    let dir = repo.common_dir().join("hybrid");
    let failed = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Setup { path, source }
    };
    std::fs::create_dir_all(&dir).map_err(failed(&dir))?;
    // Readable means enterable for a folder.
    let dir_mode = mode | ((mode & 0o444) >> 2) | 0o2000;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(dir_mode))
        .map_err(failed(&dir))?;
    let me = crate::sys::euid();
    for entry in std::fs::read_dir(&dir).map_err(failed(&dir))?.flatten() {
        let path = entry.path();
        let ours = entry.metadata().is_ok_and(|m| m.is_file() && m.uid() == me);
        if ours {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
                .map_err(failed(&path))?;
        }
    }
    Ok(())
}

/// Records this binary's absolute path for the hook; `Some(path)` when the hook's usual `PATH`
/// would not find `git-hybrid`, so the admin hears that the recorded path is what it runs.
pub fn record_binary(repo: &Repo) -> Result<Option<PathBuf>, Error> {
    let exe = std::env::current_exe().map_err(|source| Error::Setup {
        path: PathBuf::from("git-hybrid"),
        source,
    })?;
    let file = repo.common_dir().join(BINARY_FILE);
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(|source| Error::Setup {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    std::fs::write(&file, format!("{}\n", exe.display())).map_err(|source| Error::Setup {
        path: file.clone(),
        source,
    })?;
    let found = HOOK_PATH
        .iter()
        .any(|dir| Path::new(dir).join("git-hybrid").is_file());
    Ok((!found).then_some(exe))
}

/// What the server's hook will run: `Ok(path)` for the binary it finds (on the usual hook
/// `PATH`, else the recorded one), `Err(why)` when it would find none and refuse every push.
pub fn hook_binary(repo: &Repo) -> Result<PathBuf, String> {
    if let Some(found) = HOOK_PATH
        .iter()
        .map(|dir| Path::new(dir).join("git-hybrid"))
        .find(|p| p.is_file())
    {
        return Ok(found);
    }
    let file = repo.common_dir().join(BINARY_FILE);
    let recorded = std::fs::read_to_string(&file).map_err(|_| {
        format!(
            "git-hybrid is not in {} and {} names none",
            HOOK_PATH.join(":"),
            file.display()
        )
    })?;
    let path = PathBuf::from(recorded.trim());
    let runnable =
        std::fs::metadata(&path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
    if runnable {
        Ok(path)
    } else {
        Err(format!(
            "git-hybrid is not in {}, and {} names {}, which is not there",
            HOOK_PATH.join(":"),
            file.display(),
            path.display()
        ))
    }
}
