//! What the operating system says about processes and the machine: who we run as, whether a
//! process is alive, the command line of the process that started us, the CPU's cores and the
//! RAM; and it signals the process groups of children we started.
//!
//! The readers of `/proc` are Linux-only and say so: elsewhere (a macOS build with Metal) each
//! answers what it can portably, or "unknown" (`None`), never a Linux guess. Callers decide
//! what unknown means; the gate treats an unreadable command line as the cautious case. This
//! module never writes anything.

/// Sends `signal` to every process in the group whose leader is `pid` (a child started in a
/// group of its own); a group already gone is fine.
pub fn signal_group(pid: u32, signal: rustix::process::Signal) {
    if let Some(group) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process_group(group, signal);
    }
}

/// The effective uid this process runs as.
pub fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Whether a process is alive. On Linux a zombie counts as gone (a daemon killed with SIGKILL
/// stays a zombie until something reaps it); elsewhere, whether a signal could reach it.
pub fn alive(pid: i64) -> bool {
    let Ok(raw) = i32::try_from(pid) else {
        return false;
    };
    let Some(pid) = rustix::process::Pid::from_raw(raw) else {
        return false;
    };
    alive_pid(pid)
}

#[cfg(target_os = "linux")]
fn alive_pid(pid: rustix::process::Pid) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{}/stat", pid.as_raw_nonzero())) else {
        return false;
    };
    // The state follows the command name, which is in parentheses and may hold spaces.
    let state = stat
        .rfind(')')
        .and_then(|i| stat[i + 1..].split_whitespace().next());
    !matches!(state, Some("Z" | "X" | "x"))
}

#[cfg(not(target_os = "linux"))]
fn alive_pid(pid: rustix::process::Pid) -> bool {
    // EPERM means it exists and belongs to someone else: alive all the same.
    match rustix::process::test_kill_process(pid) {
        Ok(()) => true,
        Err(e) => e == rustix::io::Errno::PERM,
    }
}

/// The command line of the process that started this one (git, for a hook the shim `exec`s
/// into); `None` where the platform does not show it (anything but Linux) or it is gone.
pub fn parent_command_line() -> Option<Vec<String>> {
    #[cfg(target_os = "linux")]
    {
        let ppid = std::os::unix::process::parent_id();
        let raw = std::fs::read(format!("/proc/{ppid}/cmdline")).ok()?;
        Some(
            raw.split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect(),
        )
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// Physical cores (hyperthreads share a core's arithmetic units, and llama.cpp runs slower when
/// given them): from /proc/cpuinfo on Linux, the logical CPU count where that cannot be read.
pub fn physical_cores() -> i32 {
    let logical = std::thread::available_parallelism()
        .map(|n| n.get() as i32)
        .unwrap_or(2);
    physical_cores_listed()
        .map(|n| n.min(logical))
        .unwrap_or(logical)
}

#[cfg(target_os = "linux")]
fn physical_cores_listed() -> Option<i32> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let mut cores = std::collections::HashSet::new();
    let mut physical = "";
    for line in info.lines() {
        let mut parts = line.splitn(2, ':');
        match (parts.next().map(str::trim), parts.next().map(str::trim)) {
            (Some("physical id"), Some(v)) => physical = v,
            (Some("core id"), Some(v)) => {
                cores.insert(format!("{physical}/{v}"));
            }
            _ => {}
        }
    }
    (!cores.is_empty()).then_some(cores.len() as i32)
}

#[cfg(not(target_os = "linux"))]
fn physical_cores_listed() -> Option<i32> {
    None
}

/// Total RAM in GiB: from /proc/meminfo on Linux, unknown elsewhere.
pub fn ram_gb() -> Option<f64> {
    #[cfg(target_os = "linux")]
    {
        let info = std::fs::read_to_string("/proc/meminfo").ok()?;
        let kb: f64 = info
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kb / 1024.0 / 1024.0)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn this_process_is_alive_and_nonsense_pids_are_not() {
        assert!(super::alive(i64::from(std::process::id())));
        assert!(!super::alive(0));
        assert!(!super::alive(-1));
        assert!(!super::alive(i64::MAX));
    }
}
