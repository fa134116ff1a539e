//! The gate over the servers teams really run, not our own stand-ins: OpenSSH's `sshd` (the
//! hooks run as the SSH user, with sshd's own PATH and environment) and Apache's `httpd` serving
//! `git http-backend` behind basic authentication (the hooks run as the web server's user,
//! `www-data` when the test runs as root). On each: a fresh repository with no records fetches
//! and pulls, records travel inside `pre-push` with git's own credentials, unreviewed output is
//! refused by the server with `remote:` lines that say what to do, and reviewed work goes in.
//!
//! Both servers are Debian packages (`openssh-server`, `apache2`) that `.ci/run` installs; on a
//! machine without them the tests say so and pass, except under CI, where a missing server is a
//! failure rather than a silent skip.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::records::in_dir;
use crate::server::{approve_and_push, refused_by_server, remote_has};
use crate::support::{BIN, TestRepo};

/// A server process, stopped (with its whole process group) when dropped.
struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // SAFETY: kill has no memory preconditions; the group is the one the child leads.
        unsafe {
            libc::kill(-(self.child.id() as i32), libc::SIGTERM);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How a server is told from whatever else may answer on a port: a port found free can be
/// taken by another test's server before ours binds it, and a port that accepts is not yet
/// proof that ours listens there.
#[derive(Clone, Copy)]
enum Greeting {
    /// sshd speaks first: `SSH-2.0-OpenSSH_…`.
    Ssh,
    /// Apache answers a request with its `Server:` header.
    Apache,
}

impl Greeting {
    fn is_ours(self, stream: &mut TcpStream) -> bool {
        use std::io::Write;
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        if let Greeting::Apache = self
            && stream
                .write_all(b"HEAD / HTTP/1.0\r\nHost: localhost\r\n\r\n")
                .is_err()
        {
            return false;
        }
        let mut answer = Vec::new();
        let _ = stream.take(4096).read_to_end(&mut answer);
        let answer = String::from_utf8_lossy(&answer);
        match self {
            Greeting::Ssh => answer.starts_with("SSH-2.0-OpenSSH"),
            Greeting::Apache => answer
                .lines()
                .any(|l| l.to_ascii_lowercase().starts_with("server: apache")),
        }
    }
}

impl Daemon {
    /// Starts the server `launch` makes for a free port, in its own process group, and waits
    /// until that port answers as this server; a server that exits first (its port taken in
    /// between) is started again on another port. Returns the server and its port.
    fn start(
        mut launch: impl FnMut(u16) -> Command,
        greeting: Greeting,
        log: PathBuf,
    ) -> (Daemon, u16) {
        use std::os::unix::process::CommandExt;
        let mut exits = Vec::new();
        for _ in 0..3 {
            let port = free_port();
            let mut command = launch(port);
            let out = std::fs::File::create(&log).unwrap();
            command
                .stdin(Stdio::null())
                .stdout(out.try_clone().unwrap())
                .stderr(out)
                .process_group(0);
            let child = command.spawn().expect("the server starts");
            let mut daemon = Daemon {
                child,
                log: log.clone(),
            };
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                if let Ok(Some(status)) = daemon.child.try_wait() {
                    exits.push(format!(
                        "port {port}: exited ({status}): {}",
                        daemon.log_text()
                    ));
                    break;
                }
                if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port))
                    && greeting.is_ours(&mut stream)
                {
                    return (daemon, port);
                }
                assert!(
                    Instant::now() < deadline,
                    "the server never answered on {port}: {}",
                    daemon.log_text()
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        panic!("the server did not start: {}", exits.join("\n"));
    }

    fn log_text(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = std::fs::File::open(&self.log) {
            let _ = file.read_to_string(&mut text);
        }
        text
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The server's program, or `None` (after saying why) where it is not installed; under CI a
/// missing server fails the test, because CI installs them.
fn installed(program: &str, package: &str) -> Option<PathBuf> {
    let path = PathBuf::from(program);
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{program} is missing: .ci/run installs the Debian package {package}"
    );
    eprintln!("skipped: {program} is not installed (apt-get install {package})");
    None
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn user_name() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// What every transport must do, given a bare repository with the server's gate, reachable as
/// `url`, and the git configuration (`access`) a clone needs to reach it: an SSH command, a
/// credential helper.
fn the_gate_holds_over(repo: &TestRepo, url: &str, access: &[(&str, String)]) {
    for (key, value) in access {
        repo.git(&["config", key, value]);
    }
    repo.git(&["remote", "add", "origin", url]);
    // Day one: the server has a branch and no records ref yet (the first push skipped the
    // hooks). A teammate's fresh clone with the gate fetches and pulls.
    repo.git(&["push", "-q", "--no-verify", "origin", "main"]);
    assert!(!remote_has(repo, "refs/hybrid/*"));
    let clone = repo.home().join("teammate");
    std::fs::create_dir_all(repo.home()).unwrap();
    let mut args: Vec<String> = Vec::new();
    for (key, value) in access {
        args.push("-c".into());
        args.push(format!("{key}={value}"));
    }
    args.extend(["clone".into(), "-q".into(), url.into()]);
    args.push(clone.to_str().unwrap().into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    in_dir(repo, &repo.home(), &args).success();
    for (key, value) in access {
        in_dir(repo, &clone, &["config", key, value]).success();
    }
    in_dir(repo, &clone, &["hybrid", "install"]).success();
    in_dir(repo, &clone, &["fetch"])
        .success()
        .stderr_lacks("couldn't find remote ref");
    in_dir(repo, &clone, &["pull", "-q", "--ff-only"]).success();

    // A quarantine branch goes, its records first, inside pre-push and over the same transport.
    repo.git(&["push", "-q", "origin", "main", "hybrid/port"]);
    assert!(remote_has(repo, "refs/hybrid/records"));
    // The output itself onto main, past the local hooks: the server refuses, and says why in
    // `remote:` lines.
    refused_by_server(&repo.try_git(&["push", "--no-verify", "origin", "hybrid/port:main"]));
    // The teammate's clone learns the generation by fetching: merging it is blocked there too.
    in_dir(repo, &clone, &["fetch", "-q"]).success();
    in_dir(repo, &clone, &["merge", "--ff-only", "origin/hybrid/port"])
        .failure()
        .stderr_has("src/port.rs");

    // Reviewed and approved: the approval travels with the push and the server accepts it.
    approve_and_push(repo);
    // And the teammate pulls it with the approval: nothing of it is pending there.
    in_dir(repo, &clone, &["pull", "-q", "--ff-only"]).success();
    in_dir(repo, &clone, &["hybrid", "verify", "HEAD"]).success();
}

/// The options every `ssh` of the test uses: its own key, no host-key prompt, no agent.
fn ssh_command(key: &Path, port: u16) -> String {
    format!(
        "ssh -p {port} -i {} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no \
         -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR",
        key.display()
    )
}

#[test]
fn the_gate_holds_over_openssh() {
    let Some(sshd) = installed("/usr/sbin/sshd", "openssh-server") else {
        return;
    };
    let repo = TestRepo::with_generation();
    let home = repo.home();
    let keys = home.join("ssh");
    std::fs::create_dir_all(&keys).unwrap();
    for name in ["host", "user"] {
        let status = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(keys.join(name))
            .status()
            .unwrap();
        assert!(status.success());
    }
    std::fs::copy(keys.join("user.pub"), keys.join("authorized_keys")).unwrap();

    let remote = crate::records::bare_repository(&repo, "served.git");
    in_dir(&repo, &remote, &["hybrid", "install", "--server"]).success();
    // The hooks run with sshd's environment: its own PATH (where an older git-hybrid may sit,
    // or none), a HOME of the server's, no configuration of the test's.
    let server_home = home.join("server-home");
    std::fs::create_dir_all(&server_home).unwrap();
    if is_root() {
        // Privilege separation needs its empty folder, which Debian's service would make.
        std::fs::create_dir_all("/run/sshd").unwrap();
    }
    let config = keys.join("sshd_config");
    let (_sshd, port) = Daemon::start(
        |port| {
            std::fs::write(
                &config,
                format!(
                    "Port {port}\nListenAddress 127.0.0.1\nHostKey {host}\nAuthorizedKeysFile {auth}\n\
                     StrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
                     PermitRootLogin prohibit-password\nPidFile none\n\
                     SetEnv HOME={server_home} GIT_CONFIG_NOSYSTEM=1\n",
                    host = keys.join("host").display(),
                    auth = keys.join("authorized_keys").display(),
                    server_home = server_home.display(),
                ),
            )
            .unwrap();
            let mut command = Command::new(&sshd);
            command.arg("-D").arg("-e").arg("-f").arg(&config);
            command
        },
        Greeting::Ssh,
        keys.join("sshd.log"),
    );

    let url = format!("ssh://{}@127.0.0.1:{port}{}", user_name(), remote.display());
    the_gate_holds_over(
        &repo,
        &url,
        &[("core.sshCommand", ssh_command(&keys.join("user"), port))],
    );
}

/// Runs `git args` in `dir` as the web server's user (as root) or as ourselves, with the
/// server's own binary first on PATH.
fn as_server_user(dir: &Path, bin: &Path, args: &[&str]) {
    let mut command = if is_root() {
        let mut c = Command::new("/usr/sbin/runuser");
        c.args(["-u", "www-data", "--", "git"]);
        c
    } else {
        Command::new("git")
    };
    command
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null");
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_gate_holds_over_apache_smart_http() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let Some(httpd) = installed("/usr/sbin/apache2", "apache2") else {
        return;
    };
    let modules = Path::new("/usr/lib/apache2/modules");
    let backend = Path::new("/usr/lib/git-core/git-http-backend");
    let repo = TestRepo::with_generation();
    // The server's files live where its user can reach them: not under the test's private
    // folder. git-hybrid is installed there as an admin would (a copy in a bin folder).
    let site = tempfile::Builder::new()
        .prefix("git-hybrid-httpd")
        .tempdir()
        .unwrap();
    let root = site.path();
    std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy(BIN, bin.join("git-hybrid")).unwrap();
    let repos = root.join("repos");
    std::fs::create_dir_all(&repos).unwrap();
    let remote = repos.join("served.git");
    let status = Command::new("git")
        .args(["init", "-q", "--bare", "-b", "main"])
        .arg(&remote)
        .status()
        .unwrap();
    assert!(status.success());
    if is_root() {
        let status = Command::new("chown")
            .args(["-R", "www-data:www-data"])
            .arg(&repos)
            .status()
            .unwrap();
        assert!(status.success());
    }
    // The repository's owner sets the gate up, as README says.
    as_server_user(&remote, &bin, &["hybrid", "install", "--server"]);

    let status = Command::new("htpasswd")
        .args(["-bc"])
        .arg(root.join("htpasswd"))
        .args(["alice", "s3cret"])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let load = |name: &str| {
        format!(
            "LoadModule {name}_module {}/mod_{name}.so\n",
            modules.display()
        )
    };
    // The port is written in when the server starts (`Daemon::start`).
    let mut config = format!(
        "ServerRoot \"{root}\"\nServerName localhost\n\
         PidFile {root}/httpd.pid\nErrorLog /dev/stderr\nLogLevel warn\n",
        root = root.display()
    );
    config.push_str(&load("mpm_prefork"));
    for name in [
        "authz_core",
        "authz_user",
        "authn_core",
        "authn_file",
        "auth_basic",
        "alias",
        "cgi",
        "env",
    ] {
        config.push_str(&load(name));
    }
    if is_root() {
        config.push_str("User www-data\nGroup www-data\n");
    }
    config.push_str(&format!(
        "SetEnv GIT_PROJECT_ROOT {repos}\nSetEnv GIT_HTTP_EXPORT_ALL 1\n\
         ScriptAlias /git/ {backend}/\n\
         <Location /git/>\n  AuthType Basic\n  AuthName git\n  AuthUserFile {root}/htpasswd\n  \
         Require valid-user\n</Location>\n",
        repos = repos.display(),
        backend = backend.display(),
        root = root.display(),
    ));
    let (httpd, port) = Daemon::start(
        |port| {
            let listen = format!("Listen 127.0.0.1:{port}\n");
            std::fs::write(root.join("httpd.conf"), listen + &config).unwrap();
            let mut command = Command::new(&httpd);
            command
                .arg("-f")
                .arg(root.join("httpd.conf"))
                .arg("-DFOREGROUND");
            command
        },
        Greeting::Apache,
        root.join("httpd.out"),
    );

    let url = format!("http://127.0.0.1:{port}/git/served.git");
    the_gate_holds_over(
        &repo,
        &url,
        &[(
            "credential.helper",
            "!f() { echo username=alice; echo password=s3cret; }; f".to_string(),
        )],
    );
    // The hooks ran as the web server's user and kept the server's view as that user.
    if is_root() {
        let owner = std::fs::metadata(remote.join("hybrid/view.db"))
            .unwrap()
            .uid();
        let www = std::fs::metadata(&remote).unwrap().uid();
        assert_eq!(owner, www, "{}", httpd.log_text());
    }
}
