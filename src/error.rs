//! The one place where errors become what the user reads and the exit code git sees.
//!
//! Domain modules return their own `thiserror` enums with context (paths, refs, ids). Here each is
//! turned into a message plus hints that say what to do next, and an exit code: 1 for a blocked
//! update, a failed check or a user mistake, 3 for an internal error. (2, usage, is clap's.)
//! Nothing here may print a secret; no module error carries one.

use crate::cloud::client;
use crate::{change, cloud, config, daemon, gate, git, local, provenance, shim, store};

pub const EXIT_BLOCKED: u8 = 1;
pub const EXIT_INTERNAL: u8 = 3;

#[derive(Debug)]
pub struct CommandError {
    pub message: String,
    pub hints: Vec<String>,
    pub code: u8,
}

impl CommandError {
    /// The message and its hints as the user reads them: `error: …` then `hint: …` lines.
    pub fn lines(&self) -> Vec<String> {
        std::iter::once(format!("error: {}", self.message))
            .chain(self.hints.iter().map(|hint| format!("hint: {hint}")))
            .collect()
    }

    pub fn user(message: impl Into<String>) -> CommandError {
        CommandError {
            message: message.into(),
            hints: Vec::new(),
            code: EXIT_BLOCKED,
        }
    }

    pub fn internal(message: impl Into<String>) -> CommandError {
        CommandError {
            message: message.into(),
            hints: Vec::new(),
            code: EXIT_INTERNAL,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> CommandError {
        self.hints.push(hint.into());
        self
    }
}

/// The full message chain of an error, so the cause is never hidden behind a summary.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        // libgit2's own text, without its "class=…; code=…" suffix.
        let more = match s.downcast_ref::<git2::Error>() {
            Some(g) => g.message().to_string(),
            None => s.to_string(),
        };
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

impl From<store::Error> for CommandError {
    fn from(e: store::Error) -> Self {
        let path = e.path().display().to_string();
        let err = CommandError::user(chain(&e));
        match e {
            store::Error::Corrupt { .. } => err
                .hint(format!(
                    "move the file aside (mv {path} {path}.broken) and run `git hybrid doctor`; provenance recorded in it must then be adopted again"
                ))
                .hint("until then every update of a protected ref is blocked"),
            store::Error::TooNew { .. } => err.hint(
                "upgrade git-hybrid (./install.sh in an up-to-date source tree); this binary will not write to a newer store",
            ),
            store::Error::CreateDir { .. } | store::Error::Open { .. } => err.hint(format!(
                "check the permissions of {path} and its folder; run `git hybrid doctor`"
            )),
            store::Error::Query { .. } => err.hint("run `git hybrid doctor` to check the store"),
            store::Error::Lost { marker, .. } => err
                .hint(format!("restore {path} from a backup (with its -wal file, if any); until then every update of a protected ref is blocked"))
                .hint(format!(
                    "if the records are truly gone, start over knowingly: `git update-ref -d {marker}`, then `git hybrid adopt` the local-model branches again"
                )),
        }
    }
}

impl From<git::Error> for CommandError {
    fn from(e: git::Error) -> Self {
        let err = CommandError::user(chain(&e));
        match e {
            git::Error::NotARepo(ref source) if source.code() == git2::ErrorCode::Owner => {
                // git's own safe.directory check: the repository is another user's.
                let path = source.message().split('\'').nth(1).unwrap_or(".").to_string();
                let owner = crate::workflow::receive::setup::owner_name(std::path::Path::new(&path));
                err.hint(format!(
                    "{path} belongs to {owner}: run git-hybrid as that user (sudo -u {owner} git -C {path} hybrid …), as its hooks do"
                ))
                .hint(format!(
                    "or, if you mean to work in it as yourself: git config --global --add safe.directory {path}"
                ))
            }
            git::Error::NotARepo(_) => err.hint("run this inside a git repository"),
            git::Error::Resolve { .. } => {
                err.hint("name a commit, branch or tag that exists (see `git log --oneline`); a new repository has none before its first commit")
            }
            _ => err,
        }
    }
}

impl From<change::Error> for CommandError {
    fn from(e: change::Error) -> Self {
        CommandError::user(chain(&e)).hint("run `git fsck` to check the repository's objects")
    }
}

impl From<config::Error> for CommandError {
    fn from(e: config::Error) -> Self {
        let err = CommandError::user(chain(&e));
        match e {
            // The committed policy (`<branch>:.hybrid.toml`) cannot be fixed through the hooks
            // that cannot read it.
            config::Error::Parse { origin, .. } if origin.contains(':') => err
                .hint(format!("fix {} and commit it", config::POLICY_FILE))
                .hint("a commit that changes nothing but .hybrid.toml, into a valid policy, passes the hooks"),
            config::Error::Weakened { .. } => err
                .hint("the default branch must stay protected and quarantine patterns must name their own namespace (refs/heads/hybrid/*)")
                .hint("look for the setting in `git hybrid doctor`: git config hybrid.protected / hybrid.quarantine, GIT_HYBRID_PROTECTED / GIT_HYBRID_QUARANTINE, ~/.config/git-hybrid/config.toml, .hybrid.toml"),
            _ => err.hint(
                "fix the setting it names; `git hybrid doctor` shows where each setting comes from",
            ),
        }
    }
}

impl From<shim::Error> for CommandError {
    fn from(e: shim::Error) -> Self {
        let err = CommandError::user(chain(&e));
        match e {
            shim::Error::ChainConflict { .. } => err.hint(
                "look at both files; `git hybrid install --force` keeps the current hook and drops the older chained copy",
            ),
            shim::Error::Io { .. } => err.hint("check the hooks folder's permissions"),
        }
    }
}

impl From<gate::HookError> for CommandError {
    fn from(e: gate::HookError) -> Self {
        match e {
            gate::HookError::Git(e) => e.into(),
            gate::HookError::Store(e) => e.into(),
            gate::HookError::Change(e) => e.into(),
            gate::HookError::Evaluate(e) => e.into(),
            e @ gate::HookError::Input(_) => CommandError::internal(chain(&e))
                .hint("git passed the hook input this version does not understand; check `git hybrid doctor`"),
        }
    }
}

impl From<gate::EvaluateError> for CommandError {
    fn from(e: gate::EvaluateError) -> Self {
        match e {
            gate::EvaluateError::Git(e) => e.into(),
            gate::EvaluateError::Store(e) => e.into(),
            gate::EvaluateError::Change(e) => e.into(),
            e @ gate::EvaluateError::UnresolvablePin { .. } => CommandError::user(chain(&e)).hint(
                "push or fetch the branch that holds that commit first (it is judged when it arrives), or pin a commit this repository has; a pin to another repository needs a .gitmodules entry with its URL",
            ),
        }
    }
}

impl From<provenance::Error> for CommandError {
    fn from(e: provenance::Error) -> Self {
        match e {
            provenance::Error::Git(e) => e.into(),
            provenance::Error::Store(e) => e.into(),
            provenance::Error::Change(e) => e.into(),
            e @ provenance::Error::Empty { .. } => {
                CommandError::user(chain(&e)).hint("name a commit or range that changes files")
            }
        }
    }
}

/// What to do about a failed Anthropic call: one place, whichever command called.
pub fn client_hint(e: &client::Error) -> String {
    use client::Error as E;
    match e {
        E::NoKey => "export ANTHROPIC_API_KEY=<your Anthropic API key> and run it again".into(),
        E::Auth { .. } => "check ANTHROPIC_API_KEY: the API did not accept it".into(),
        E::Api { status: 404, .. } => {
            "check the model id given with --model (or GIT_HYBRID_REVIEW_MODEL)".into()
        }
        E::Timeout(_) | E::Exhausted { .. } | E::Connect(_) => format!(
            "requests go to {} (ANTHROPIC_BASE_URL when set); check that address and your network, then try again (GIT_HYBRID_API_TIMEOUT sets the wait)",
            client::shown_url(&client::base_url())
        ),
        E::NotRun(_) => "submit it again".into(),
        E::Api { .. } | E::Protocol(_) => {
            "run it again; `GIT_HYBRID_LOG=debug` shows each attempt".into()
        }
    }
}

impl From<client::Error> for CommandError {
    fn from(e: client::Error) -> Self {
        CommandError::user(chain(&e)).hint(client_hint(&e))
    }
}

impl From<cloud::review::Error> for CommandError {
    fn from(e: cloud::review::Error) -> Self {
        match e {
            cloud::review::Error::Store(e) => e.into(),
            cloud::review::Error::Client(e) => e.into(),
            cloud::review::Error::Change(e) => e.into(),
            e @ cloud::review::Error::Ignore(_) => {
                CommandError::user(chain(&e)).hint("fix the pattern in .hybridignore")
            }
            e @ cloud::review::Error::Json(_) => CommandError::internal(chain(&e)),
            e => CommandError::user(chain(&e)),
        }
    }
}

impl From<crate::spec::ReadError> for CommandError {
    fn from(e: crate::spec::ReadError) -> Self {
        CommandError::user(chain(&e))
            .hint("give the path of a Markdown spec inside this repository")
    }
}

impl From<local::implement::Error> for CommandError {
    fn from(e: local::implement::Error) -> Self {
        use local::implement::Error as E;
        match e {
            E::Store(e) => e.into(),
            E::Repo(e) => e.into(),
            E::Provenance(e) => e.into(),
            E::Spec(e) => e.into(),
            e @ E::Unborn => CommandError::user(chain(&e))
                .hint("make a first commit, then implement on top of it"),
            e @ E::Bare => {
                CommandError::user(chain(&e)).hint("run it in a clone with a working tree")
            }
            e @ E::NotQuarantine { .. } => CommandError::user(chain(&e))
                .hint("name a branch under hybrid/, e.g. --branch hybrid/my-task"),
            e @ E::BranchExists { .. } => {
                CommandError::user(chain(&e)).hint("pick another --branch, or delete the old one")
            }
            E::Backend(e) => backend_error(e),
            e @ E::Unusable { .. } => CommandError::user(chain(&e))
                .hint("nothing was written; make the spec more precise, or try a stronger model"),
            e @ E::MaxTokens { .. } => CommandError::user(chain(&e))
                .hint("nothing was written; raise --max-tokens, or make the task smaller"),
            e @ E::Check(_) => CommandError::user(chain(&e))
                .hint("nothing was written; check the temporary folder's free space and permissions (TMPDIR)"),
            e @ E::Git(_) => CommandError::internal(chain(&e)),
        }
    }
}

/// An implementer's failure, with the hint for whoever can act on its kind.
pub fn backend_error(e: crate::backend::Error) -> CommandError {
    use crate::backend::Error as E;
    let err = CommandError::user(chain(&e));
    match e {
        E::Load(_) => err.hint(
            "check the model file (git hybrid model list), or pick another with --model",
        ),
        E::TooLong(_) => err.hint(
            "nothing was written; shorten the spec or the context (--context-tokens), or raise --ctx",
        ),
        E::Unreachable(_) => err.hint(
            "start the model server, or point --base-url at the one that runs (Claude: check the network)",
        ),
        E::Refused(_) => err.hint(
            "the answer above says why; check --model against what the server serves (Claude: ANTHROPIC_API_KEY)",
        ),
        E::Broken(_) => err.hint("nothing was written; run it again, and see the server's log if it keeps breaking"),
        E::Cancelled => err.hint("nothing was written: the job stopped when it was cancelled"),
        E::Engine(_) => CommandError::internal(chain(&e))
            .hint("run it again with GIT_HYBRID_LOG=debug; if it fails the same way, report it with that log"),
    }
}

impl From<local::models::Error> for CommandError {
    fn from(e: local::models::Error) -> Self {
        use local::models::Error as E;
        let err = CommandError::user(chain(&e));
        match e {
            E::None => {
                err.hint("register one with: git hybrid model add PATH.gguf (or pass --model PATH)")
            }
            E::Unknown(_) => err.hint("see the registered models with: git hybrid model list"),
            E::NotGguf { .. } => {
                err.hint("pass a .gguf model file; model files are checked before they are used")
            }
            E::Corrupt { .. } => {
                err.hint("fix or remove the registry file, then add the models again")
            }
            E::Read { .. } | E::Write { .. } => err.hint("check the path and its permissions"),
            E::Busy { .. } => err.hint("wait for the other pull to finish; it registers the model when done"),
            E::Download { .. } => err.hint("check the URL; a cut-off download resumes when you run the same command again"),
            E::Checksum { .. } => err.hint("check the --sha256 value against the model's publisher; model files are untrusted input"),
        }
    }
}

impl From<daemon::Error> for CommandError {
    fn from(e: daemon::Error) -> Self {
        use daemon::Error as E;
        let err = CommandError::user(chain(&e));
        match e {
            E::NotRunning => err.hint("start one with: git hybrid daemon start"),
            E::AlreadyRunning(_) => {
                err.hint("`git hybrid daemon status` shows it; `git hybrid daemon stop` stops it")
            }
            E::Lingering { pid, .. } => err.hint(format!(
                "it finishes the job it runs first: `git hybrid daemon status` shows it; `kill {pid}` stops it at once (the job resumes at the next start)"
            )),
            E::Lost => err
                .hint("`git hybrid daemon start`, then check the branch with `git hybrid pending`"),
            _ => err.hint(format!(
                "see the daemon's log: {}",
                daemon::log_path().display()
            )),
        }
    }
}

impl From<daemon::server::JobError> for CommandError {
    fn from(e: daemon::server::JobError) -> Self {
        use daemon::server::JobError as E;
        match e {
            E::Daemon(e) => e.into(),
            E::Repo(e) => e.into(),
            E::Store(e) => e.into(),
            E::Spec(e) => e.into(),
            E::Config(e) => e.into(),
            E::Model(e) => e.into(),
            E::Implement(e) => e.into(),
            e @ E::Load(_) => CommandError::user(chain(&e))
                .hint("check the file with `git hybrid model list`, or run with --no-daemon to see the whole error"),
            e @ (E::Busy { .. } | E::NoJob(_)) => CommandError::user(chain(&e))
                .hint("`git hybrid daemon status` shows what the daemon is doing"),
            e @ E::Bare => CommandError::user(chain(&e))
                .hint("run implement in a repository with a working tree"),
            e @ (E::Payload { .. } | E::Poisoned | E::Unrecorded(_)) => {
                CommandError::internal(chain(&e)).hint(format!(
                    "restart the daemon (`git hybrid daemon stop`), and see its log: {}",
                    daemon::log_path().display()
                ))
            }
        }
    }
}

impl From<crate::workflow::Error> for CommandError {
    fn from(e: crate::workflow::Error) -> Self {
        use crate::workflow::Error as E;
        match e {
            E::Model(e) => e.into(),
            E::Implement(e) => e.into(),
            E::Daemon(e) => e.into(),
            E::Store(e) => e.into(),
            E::Cloud(e) => e.into(),
            E::Review(e) => e.into(),
            E::Repo(e) => e.into(),
            E::Change(e) => e.into(),
            E::Provenance(e) => e.into(),
            E::Spec(e) => e.into(),
            E::Verify(e) => e.into(),
            E::Records(e) => e.into(),
            e @ E::SessionsOff => CommandError::user(chain(&e)).hint(
                "review it with the API instead (the review tool, or `git hybrid review`), or have the policy accept session reviews: `accept = [\"api\", \"mcp\"]` under [review] in .hybrid.toml, committed on the default branch",
            ),
            E::Session(e) => {
                use crate::cloud::review::session::SessionError as S;
                match e {
                    S::Review(e) => e.into(),
                    e @ S::Plan(_) => CommandError::internal(chain(&e)),
                    e @ S::Unknown(_) => CommandError::user(chain(&e))
                        .hint("call review_request again for a fresh id, and submit its parts' answers"),
                    e @ S::Count { .. } => CommandError::user(chain(&e))
                        .hint("submit one verdict per part, in the order review_request listed them"),
                }
            }
            e @ E::UnknownBackend(_) => CommandError::user(chain(&e)).hint(
                "fix `[implement] backend` in .hybrid.toml, git config hybrid.implementBackend or GIT_HYBRID_BACKEND",
            ),
            e @ E::UnknownConstrain(_) => CommandError::user(chain(&e)).hint(
                "fix `[implement] constrain` in .hybrid.toml, git config hybrid.implementConstrain or GIT_HYBRID_CONSTRAIN",
            ),
            e @ E::UnknownEditFormat(_) => CommandError::user(chain(&e)).hint(
                "fix `[implement] edit_format` in .hybrid.toml, git config hybrid.implementEditFormat or GIT_HYBRID_EDIT_FORMAT",
            ),
            e @ E::Candidates(_) => CommandError::user(chain(&e)).hint(
                "fix `[implement] candidates` in .hybrid.toml, git config hybrid.implementCandidates or GIT_HYBRID_CANDIDATES",
            ),
            e @ E::Unreadable(_) => CommandError::user(chain(&e))
                .hint("set a whole number there, or remove the setting; a flag for it wins too (`--candidates`, `--check-rounds`, `--check-timeout`, `review --part-tokens`)"),
            e @ E::NoModelName => CommandError::user(chain(&e)).hint(
                "pass --model <name> (as the server lists it), or set it once: git config hybrid.implementModel <name>",
            ),
            e @ E::Load(_) => CommandError::user(chain(&e))
                .hint("check the model file, or pick another with --model"),
            e @ (E::Client(_) | E::Json(_)) => CommandError::internal(chain(&e)),
        }
    }
}

impl From<crate::workflow::implement::RunError> for CommandError {
    fn from(e: crate::workflow::implement::RunError) -> Self {
        match e {
            crate::workflow::implement::RunError::Here(e) => e.into(),
            crate::workflow::implement::RunError::Daemon(f) => f.0.into(),
        }
    }
}

/// How the daemon words a failed job for its client: the same message, hints and exit code the
/// command would give had it run the job itself.
pub fn explain_job(e: daemon::server::JobError) -> daemon::protocol::Failure {
    let e = CommandError::from(e);
    daemon::protocol::Failure {
        message: e.message,
        hints: e.hints,
        internal: e.code == EXIT_INTERNAL,
    }
}

impl From<daemon::protocol::Failure> for CommandError {
    fn from(f: daemon::protocol::Failure) -> Self {
        CommandError {
            message: f.message,
            hints: f.hints,
            code: if f.internal {
                EXIT_INTERNAL
            } else {
                EXIT_BLOCKED
            },
        }
    }
}

impl From<crate::records::Error> for CommandError {
    fn from(e: crate::records::Error) -> Self {
        use crate::records::Error as E;
        match e {
            E::Store(e) => e.into(),
            E::Repo(e) => e.into(),
            E::Provenance(e) => e.into(),
            e @ E::Spawn(_) => CommandError::user(chain(&e)).hint("check that git is on PATH"),
            e @ E::Raced { .. } => CommandError::user(chain(&e)),
            e @ E::Unreadable { .. } => CommandError::user(chain(&e)).hint(
                "a record is never edited after it is written: find who pushed it (git log refs/hybrid/records), and restore the ref from a clone that has it",
            ),
            e @ (E::Git(_) | E::Serialise { .. }) => CommandError::internal(chain(&e)),
            E::Trust(e) => e.into(),
            E::Rewritten {
                ref refname,
                ref last,
                ..
            } => {
                let restore = match refname.strip_prefix(crate::records::REMOTE_RECORDS) {
                    Some(rest) => {
                        let remote = rest.trim_end_matches("/records");
                        format!(
                            "this clone still has them at {last}: git push --force {remote} {last}:{} puts them back (merge in first whatever the rewrite added)",
                            crate::records::RECORDS_REF
                        )
                    }
                    None => format!("this clone still has them: git update-ref {refname} {last}"),
                };
                CommandError::user(chain(&e))
                    .hint(restore)
                    .hint("then ask who rewrote it; on a forge, protect refs/hybrid/records from forced pushes")
            }
        }
    }
}

impl From<crate::attribution::Error> for CommandError {
    fn from(e: crate::attribution::Error) -> Self {
        use crate::attribution::Error as E;
        match e {
            E::Git(e) => e.into(),
            E::Store(e) => e.into(),
            E::Change(e) => e.into(),
            E::Provenance(e) => e.into(),
            e @ E::Unreadable { .. } => CommandError::user(chain(&e))
                .hint("nothing was recorded from that range; fix or remove the note (git notes --ref=<ref> show <commit>) and adopt again"),
            e @ E::Pattern { .. } => CommandError::user(chain(&e))
                .hint("[adopt] tools and models are glob patterns, such as \"ollama/*\""),
        }
    }
}

impl From<crate::workflow::verify::VerifyError> for CommandError {
    fn from(e: crate::workflow::verify::VerifyError) -> Self {
        use crate::workflow::verify::VerifyError as E;
        match e {
            E::Records(e) => e.into(),
            E::Store(e) => e.into(),
            E::Trust(e) => e.into(),
        }
    }
}

impl From<crate::workflow::receive::Error> for CommandError {
    fn from(e: crate::workflow::receive::Error) -> Self {
        use crate::workflow::receive::Error as E;
        match e {
            E::Hook(e) => e.into(),
            E::Records(e) => e.into(),
            E::Trust(e) => e.into(),
            E::Root(e) => e.into(),
            e @ E::Quarantine { .. } => CommandError::internal(chain(&e))
                .hint("the push was refused; run `git fsck` on the server repository"),
            E::NotOwner {
                ref path,
                ref owner,
            } => {
                let hint = format!(
                    "run it as {owner}: sudo -u {owner} git -C {} hybrid install --server",
                    path.display()
                );
                CommandError::user(chain(&e)).hint(hint)
            }
            e @ E::Setup { .. } => CommandError::user(chain(&e))
                .hint("check the repository's permissions (and core.sharedRepository), then install again"),
        }
    }
}

impl From<crate::trust::Error> for CommandError {
    fn from(e: crate::trust::Error) -> Self {
        use crate::trust::Error as E;
        match e {
            e @ (E::Spawn(_) | E::Temp(_)) => CommandError::user(chain(&e))
                .hint("records are signed and checked with OpenSSH's ssh-keygen: install openssh-client"),
            E::Policy(e) => e.into(),
            e @ E::Sign { .. } => CommandError::user(chain(&e)).hint(
                "git is set up to sign with SSH (gpg.format=ssh): check user.signingkey, or load the key into ssh-agent",
            ),
            e @ E::Pinned { .. } => CommandError::user(chain(&e)).hint(
                "this is the server's set-up, not your push: its admin fixes the file or unsets hybrid.allowedSigners in the server repository",
            ),
        }
    }
}

impl From<crate::trust::RootError> for CommandError {
    fn from(e: crate::trust::RootError) -> Self {
        use crate::trust::RootError as E;
        match e {
            E::Git(e) => CommandError::internal(format!("git: {}", e.message())),
            e @ E::Spawn(_) => CommandError::user(chain(&e))
                .hint("commit signatures are checked with git verify-commit: is git on PATH?"),
        }
    }
}

impl From<cloud::spec::Error> for CommandError {
    fn from(e: cloud::spec::Error) -> Self {
        use cloud::spec::Error as E;
        match e {
            E::Store(e) => e.into(),
            E::Client(e) => e.into(),
            e @ (E::EmptyTask | E::TaskTooLong(_)) => CommandError::user(chain(&e))
                .hint("git hybrid spec \"add rate limiting to the login handler\""),
            e @ (E::Outside(_) | E::Missing(_)) => CommandError::user(chain(&e))
                .hint("--files takes paths inside this repository, relative to its top"),
            e @ E::NoSpec(_) => CommandError::user(chain(&e))
                .hint("run it again; GIT_HYBRID_LOG=debug shows each attempt"),
        }
    }
}

impl From<crate::workflow::fix::Error> for CommandError {
    fn from(e: crate::workflow::fix::Error) -> Self {
        use crate::workflow::fix::Error as E;
        match e {
            E::Implement(e) => e.into(),
            E::Review(e) => e.into(),
            E::Store(e) => e.into(),
            E::Git(e) => e.into(),
            E::Provenance(e) => e.into(),
            e @ E::NoReview { .. } => {
                CommandError::user(chain(&e)).hint("review it first: git hybrid review <branch>")
            }
            e @ E::Approved { .. } => {
                CommandError::user(chain(&e)).hint("nothing to fix; merge it")
            }
            E::MovedSinceReview { ref branch, .. } => {
                let hint = format!(
                    "review the branch as it stands first: git hybrid review {branch}; then fix answers that review's findings"
                );
                CommandError::user(chain(&e)).hint(hint)
            }
            e @ E::NoCloud { .. } => CommandError::user(chain(&e))
                .hint("set ANTHROPIC_API_KEY, or give them to the local model with --route local"),
            e @ E::NoLocal { .. } => CommandError::user(chain(&e))
                .hint("run the fix with --route auto or --route local to load the local model"),
        }
    }
}

/// A value that would not serialise as JSON: a bug, never the user's input.
impl From<serde_json::Error> for CommandError {
    fn from(e: serde_json::Error) -> Self {
        CommandError::internal(format!("could not write JSON: {e}"))
    }
}

impl From<std::io::Error> for CommandError {
    fn from(e: std::io::Error) -> Self {
        CommandError::internal(chain(&e))
    }
}
