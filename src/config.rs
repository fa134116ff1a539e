//! Settings: defaults < `~/.config/git-hybrid/config.toml` < the repository's committed
//! `.hybrid.toml` < `git config hybrid.*` < `GIT_HYBRID_*` environment, resolved once into one
//! typed value (ARCHITECTURE §10).
//!
//! This module owns reading and merging those layers. It must never read secrets (they come only
//! from the environment, where the code that needs them reads them) and never guess: a file that
//! does not parse is an error with its path, so the gate fails closed instead of running with a
//! policy nobody wrote.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::git::Repo;

pub const POLICY_FILE: &str = ".hybrid.toml";

/// The reviewer model unless a layer says otherwise.
pub const DEFAULT_REVIEW_MODEL: &str = "claude-opus-5-5";
/// Tokens of diff per review request by default: large enough for most changes in one request,
/// small enough that a reviewer reads all of it.
pub const DEFAULT_PART_TOKENS: usize = 30_000;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin} is not valid: {message}")]
    Parse { origin: String, message: String },
    #[error("cannot read {origin}: {}", source.message())]
    Committed {
        origin: String,
        #[source]
        source: git2::Error,
    },
    #[error("invalid ref pattern {pattern:?} in {origin}: {message}")]
    Pattern {
        pattern: String,
        origin: String,
        message: String,
    },
    #[error("cannot read git config: {}", .0.message())]
    GitConfig(#[source] git2::Error),
    #[error("{origin} would weaken the gate: {message}")]
    Weakened { origin: String, message: String },
}

/// Declares every setting once: its section and key in a config file (the TOML layers), its
/// `git config` key and its environment variable, each read the same way. From the table come
/// the layer types, whether a layer sets anything, the field-by-field merge (later layers win),
/// and the `git config` and environment layers.
macro_rules! settings {
    ($(
        $(#[$section_meta:meta])*
        $section:ident: $Layer:ident {
            $( $(#[$field_meta:meta])* $field:ident: $ty:ty = git $git:tt, env $env:tt; )*
        }
    )*) => {
        $(
            #[derive(Debug, Default, Deserialize)]
            $(#[$section_meta])*
            struct $Layer {
                $( $(#[$field_meta])* $field: Option<$ty>, )*
                /// Values a layer gave that are not what the setting takes (a number that does
                /// not parse), by field: reported where the setting is used, never by the gate.
                #[serde(skip)]
                unreadable: Vec<(&'static str, String)>,
            }

            impl $Layer {
                fn is_empty(&self) -> bool {
                    true $(&& self.$field.is_none())*
                }

                fn merge(&mut self, later: $Layer) {
                    $(
                        if later.$field.is_some() {
                            self.$field = later.$field;
                            self.unreadable.retain(|(field, _)| *field != stringify!($field));
                        }
                    )*
                    self.unreadable.extend(later.unreadable);
                }

                #[allow(unused_variables)] // a section no git key sets
                fn from_git(config: &git2::Config) -> Result<$Layer, Error> {
                    #[allow(unused_mut)] // a section with no number to read
                    let mut bad = Vec::new();
                    Ok($Layer {
                        $( $field: settings!(@git config, $git, bad, stringify!($field)), )*
                        unreadable: bad,
                    })
                }

                fn from_env() -> $Layer {
                    #[allow(unused_mut)] // a section with no number to read
                    let mut bad = Vec::new();
                    $Layer {
                        $( $field: settings!(@env $env, bad, stringify!($field)), )*
                        unreadable: bad,
                    }
                }
            }
        )*

        /// A config file. Sections that other parts of git-hybrid read are ignored here rather
        /// than rejected, so an older binary still reads a newer policy file's gate section.
        #[derive(Debug, Default, Deserialize)]
        struct FileLayer {
            $( #[serde(default)] $section: $Layer, )*
        }

        impl FileLayer {
            fn is_empty(&self) -> bool {
                true $(&& self.$section.is_empty())*
            }

            /// Later layers win, field by field.
            fn merge(&mut self, later: FileLayer) {
                $( self.$section.merge(later.$section); )*
            }

            /// The `hybrid.*` keys of git config.
            fn from_git(config: &git2::Config) -> Result<FileLayer, Error> {
                Ok(FileLayer { $( $section: $Layer::from_git(config)?, )* })
            }

            /// The `GIT_HYBRID_*` environment.
            fn from_env() -> FileLayer {
                FileLayer { $( $section: $Layer::from_env(), )* }
            }
        }
    };
    (@git $config:ident, (str $key:literal), $bad:ident, $field:expr) => {
        $config.get_string($key).ok()
    };
    (@git $config:ident, (int $key:literal), $bad:ident, $field:expr) => {
        $config.get_string($key).ok().and_then(|text| {
            let number = $config.get_i64($key).ok().and_then(|n| n.try_into().ok());
            if number.is_none() {
                $bad.push(($field, format!("git config {} is {text:?}, not a number it takes", $key)));
            }
            number
        })
    };
    (@git $config:ident, (list $key:literal), $bad:ident, $field:expr) => {
        git_multivar($config, $key)?
    };
    (@git $config:ident, (none), $bad:ident, $field:expr) => { None };
    (@env (str $name:literal), $bad:ident, $field:expr) => { std::env::var($name).ok() };
    (@env (int $name:literal), $bad:ident, $field:expr) => {
        // Set but empty is unset, as for git's own variables.
        std::env::var($name).ok().filter(|t| !t.trim().is_empty()).and_then(|text| {
            let number = text.trim().parse().ok();
            if number.is_none() {
                $bad.push(($field, format!("{} is {text:?}, not a number it takes", $name)));
            }
            number
        })
    };
    (@env (list $name:literal), $bad:ident, $field:expr) => { env_list($name) };
    (@env (none), $bad:ident, $field:expr) => { None };
}

settings! {
    /// The gate's part of a config file.
    #[serde(deny_unknown_fields)]
    gate: GateLayer {
        protected: Vec<String> = git (list "hybrid.protected"), env (list "GIT_HYBRID_PROTECTED");
        quarantine: Vec<String> = git (list "hybrid.quarantine"), env (list "GIT_HYBRID_QUARANTINE");
        default_branch: String = git (str "hybrid.defaultBranch"), env (str "GIT_HYBRID_DEFAULT_BRANCH");
    }
    /// The reviewer's part of a config file.
    #[serde(deny_unknown_fields)]
    review: ReviewLayer {
        model: String = git (str "hybrid.reviewModel"), env (str "GIT_HYBRID_REVIEW_MODEL");
        part_tokens: usize = git (int "hybrid.reviewPartTokens"), env (int "GIT_HYBRID_REVIEW_PART_TOKENS");
        /// Which reviews' approvals count: "api" (always), and "mcp" for reviews answered in an
        /// MCP client's session. From the committed policy only, like `[trust]`.
        accept: Vec<String> = git (none), env (none);
    }
    /// Routing's part of a config file: words that send a task to Claude or keep it local, on
    /// top of the built-in rules, and how many files are still local work.
    #[serde(deny_unknown_fields)]
    route: RouteLayer {
        cloud: Vec<String> = git (none), env (none);
        local: Vec<String> = git (none), env (none);
        max_local_files: usize = git (none), env (none);
    }
    /// The local engine's part of a config file. Unknown keys are allowed here: the gate reads
    /// the committed policy on every hook, and a key a newer version adds must not block an
    /// older one.
    implement: ImplementLayer {
        backend: String = git (str "hybrid.implementBackend"), env (str "GIT_HYBRID_BACKEND");
        model: String = git (str "hybrid.implementModel"), env (str "GIT_HYBRID_LOCAL_MODEL");
        base_url: String = git (str "hybrid.implementBaseUrl"), env (str "GIT_HYBRID_OPENAI_BASE_URL");
        check: String = git (str "hybrid.implementCheck"), env (str "GIT_HYBRID_IMPLEMENT_CHECK");
        check_timeout: u64 = git (int "hybrid.implementCheckTimeout"), env (none);
        check_rounds: usize = git (int "hybrid.implementCheckRounds"), env (none);
        constrain: String = git (str "hybrid.implementConstrain"), env (str "GIT_HYBRID_CONSTRAIN");
        edit_format: String = git (str "hybrid.implementEditFormat"), env (str "GIT_HYBRID_EDIT_FORMAT");
        candidates: u32 = git (int "hybrid.implementCandidates"), env (int "GIT_HYBRID_CANDIDATES");
    }
    /// Whom the server and CI believe: read from the committed policy only, never from a local
    /// layer, because it decides which recorded approvals count where no client can be
    /// trusted (`load_with` takes it from the policy's layer alone).
    #[serde(deny_unknown_fields)]
    trust: TrustLayer {
        /// A file in the repository, in git's `allowed_signers` format.
        allowed_signers: String = git (none), env (none);
    }
    /// Which of another tool's attributions `adopt --from` takes as local output.
    #[serde(deny_unknown_fields)]
    adopt: AdoptLayer {
        /// Tool names (glob patterns): only their attributions count; all tools when unset.
        tools: Vec<String> = git (none), env (none);
        /// Model ids (glob patterns): only their attributions count; all models when unset.
        models: Vec<String> = git (none), env (none);
    }
}

/// Which attributions of other tools (Agent Trace, git-ai) are local output: AI-written lines
/// whose tool and model match these patterns (every AI line when a list is empty).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AdoptSettings {
    pub tools: Vec<String>,
    pub models: Vec<String>,
}

/// Which local engine `implement` and `fix` use when no flag says: backend, model, server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImplementSettings {
    /// `embedded` (default) or `openai`.
    pub backend: String,
    pub model: Option<String>,
    /// The OpenAI-compatible server (default Ollama's http://localhost:11434/v1).
    pub base_url: String,
    /// A command run on each answer before it becomes a commit (the check loop); none by
    /// default.
    pub check: Option<String>,
    /// Seconds a check may run (default 300).
    pub check_timeout: u64,
    /// Answers asked again after a failed check; unset, 2 after a check you set and 4 after
    /// the spec's examples (see `workflow::engine`).
    pub check_rounds: Option<usize>,
    /// How the edit format is enforced on an OpenAI-compatible server: `auto` (by what the
    /// server is), `grammar`, `json_schema`, `ollama`, `vllm` or `none`.
    pub constrain: String,
    /// How existing files are changed: `auto` (by the file's size), `whole` or `edit`.
    pub edit_format: String,
    /// Answers the embedded model writes side by side (default 1).
    pub candidates: u32,
    /// Settings a layer gave in a form they do not take (`implement` and `fix` refuse to run;
    /// the gate, which reads none of them, does not care).
    pub unreadable: Vec<(&'static str, String)>,
}

/// The allowed-signers file the committed policy names, and the commit it is read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignersFile {
    /// Its path in the repository.
    pub path: String,
    /// The default branch and the tip the policy was read from (`None` for a policy checked
    /// before it is committed).
    pub commit: Option<(String, git2::Oid)>,
}

impl SignersFile {
    /// The file's bytes as committed with the policy, and where they came from. A policy that
    /// names a file its commit lacks is an error: the requirement must not silently lapse.
    pub fn read(&self, repo: &Repo) -> Result<(Vec<u8>, String), Error> {
        let Some((branch, tip)) = &self.commit else {
            return Err(Error::Parse {
                origin: "trust.allowed_signers".into(),
                message: "the policy is not committed yet".into(),
            });
        };
        let short = branch.strip_prefix("refs/heads/").unwrap_or(branch);
        let origin = format!("{short}:{}", self.path);
        match committed_bytes(repo, *tip, &self.path)? {
            Some(bytes) => Ok((bytes, origin)),
            None => Err(Error::Parse {
                origin: format!("{short}:{POLICY_FILE}"),
                message: format!(
                    "[trust] allowed_signers names {}, which {short} does not have",
                    self.path
                ),
            }),
        }
    }
}

/// A compiled ref pattern: `*` matches within and across `/`, as in `refs/heads/*`.
#[derive(Clone, Debug)]
pub struct RefPattern(glob::Pattern);

impl RefPattern {
    fn parse(pattern: &str, origin: &str) -> Result<RefPattern, Error> {
        glob::Pattern::new(pattern)
            .map(RefPattern)
            .map_err(|e| Error::Pattern {
                pattern: pattern.to_string(),
                origin: origin.to_string(),
                message: e.to_string(),
            })
    }

    pub fn matches(&self, refname: &str) -> bool {
        self.0.matches(refname)
    }

    /// Matches ignoring ASCII case, as a case-insensitive file system resolves a loose ref.
    pub fn matches_folded(&self, refname: &str) -> bool {
        self.0.matches_with(
            refname,
            glob::MatchOptions {
                case_sensitive: false,
                ..glob::MatchOptions::new()
            },
        )
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// Everything the gate needs to know, resolved.
#[derive(Clone, Debug)]
pub struct Settings {
    pub protected: Vec<RefPattern>,
    pub quarantine: Vec<RefPattern>,
    pub default_branch: Option<String>,
    /// The reviewer model (`claude-opus-5-5` unless configured).
    pub review_model: String,
    /// Tokens of diff per review request.
    pub review_part_tokens: usize,
    /// The review settings a layer gave in a form they do not take (`review` refuses to run).
    pub review_unreadable: Vec<String>,
    /// Routing rules added to the built-in ones.
    pub route: crate::route::Rules,
    /// The local engine's defaults for `implement` and `fix`.
    pub implement: ImplementSettings,
    /// Which attributions of other tools `adopt --from` takes as local output.
    pub adopt: AdoptSettings,
    /// The committed policy's `[review] accept` lists "mcp": approvals of reviews answered in an
    /// MCP client's session count (by default only the API's do).
    pub session_reviews: bool,
    /// The committed policy's `[trust] allowed_signers`: when set, recorded approvals count on
    /// the server and in CI only when a listed signer signed them.
    pub allowed_signers: Option<SignersFile>,
    /// Ref names are matched ignoring case too: where the repository says `core.ignorecase`
    /// (macOS, Windows, SMB storage: `refs/TAGS/v2` is `refs/tags/v2` there) and always on a
    /// server (a bare repository), which cannot know what storage its clones have.
    pub fold_case: bool,
    /// Which layers contributed, for `doctor`.
    pub sources: Vec<String>,
    /// Local settings (user config, `git config`, environment) that change what the committed
    /// policy guards: every hook run says so, and `doctor` names them.
    pub overrides: Vec<String>,
}

impl Settings {
    /// Resolves every layer for a repository.
    ///
    /// The repository policy is read from `.hybrid.toml` as committed on the default branch, never
    /// from the working tree: a quarantine branch (or an uncommitted edit) that rewrites the policy
    /// must not be able to unprotect the refs it is kept away from. Changing the policy takes a
    /// commit on the default branch, which passes through the gate like any other.
    pub fn load(repo: &Repo) -> Result<Settings, Error> {
        Settings::load_with(repo, None)
    }

    /// `load`, with the committed policy read from `policy_at` — a name for messages and the
    /// commit — instead of the default branch: what CI judges a range by (its base, as the
    /// branch it merges into has it), whatever the checkout's branches say.
    pub fn load_with(
        repo: &Repo,
        policy_at: Option<(String, git2::Oid)>,
    ) -> Result<Settings, Error> {
        let config = repo.git.config().map_err(Error::GitConfig)?;
        let mut layers: Vec<(String, FileLayer)> = Vec::new();
        if let Some(path) = user_config_path()
            && let Some(layer) = read_file_layer(&path)?
        {
            layers.push((path.display().to_string(), layer));
        }
        let from_git = FileLayer::from_git(&config)?;
        let from_env = FileLayer::from_env();
        // Where the policy lives is decided by every layer but the policy itself.
        let branch_hint = [&from_env, &from_git]
            .into_iter()
            .chain(layers.iter().map(|(_, l)| l))
            .find_map(|l| l.gate.default_branch.clone());
        let default_branch = repo.default_branch_tip(branch_hint.as_deref());
        let mut overrides = Vec::new();
        // Where the policy comes from is announced whenever it is not the remote's default
        // branch: a local setting that points elsewhere changes the rule without a commit.
        if policy_at.is_none()
            && let (Some((remote_default, tracking)), Some((chosen, _))) =
                (repo.origin_head(), default_branch.as_ref())
            && ![&remote_default, &tracking].contains(&chosen)
        {
            overrides.push(format!(
                "the policy is read from {chosen} (hybrid.defaultBranch, GIT_HYBRID_DEFAULT_BRANCH or the user config), not from origin's default branch {remote_default}"
            ));
        }
        let guarded = default_branch.as_ref().map(|(name, _)| name.clone());
        let default_branch = policy_at.or(default_branch);
        // The gate's patterns as the committed policy (or the defaults) set them, to tell which
        // local layers change them.
        let mut committed_gate = (None, None);
        let mut committed_signers = None;
        let mut session_reviews = false;
        if let Some((branch, tip)) = &default_branch {
            let origin = format!("{branch}:{POLICY_FILE}");
            if let Some(text) = committed_file(repo, *tip, POLICY_FILE)? {
                let layer: FileLayer = toml::from_str(&text).map_err(|e| Error::Parse {
                    origin: origin.clone(),
                    message: e.message().to_string(),
                })?;
                committed_gate = (layer.gate.protected.clone(), layer.gate.quarantine.clone());
                session_reviews = accepts_sessions(layer.review.accept.as_deref(), &origin)?;
                committed_signers = layer.trust.allowed_signers.clone().map(|path| SignersFile {
                    path,
                    commit: Some((branch.clone(), *tip)),
                });
                layers.push((origin, layer));
            }
        }
        layers.push(("git config hybrid.*".into(), from_git));
        layers.push(("GIT_HYBRID_* environment".into(), from_env));

        let mut merged = FileLayer::default();
        let mut sources = vec!["defaults".to_string()];
        for (origin, layer) in layers {
            if !layer.is_empty() {
                sources.push(origin.clone());
            }
            if !origin.ends_with(POLICY_FILE) {
                for (what, local, committed) in [
                    ("protected", &layer.gate.protected, &committed_gate.0),
                    ("quarantine", &layer.gate.quarantine, &committed_gate.1),
                ] {
                    if let Some(list) = local.as_ref().filter(|l| Some(*l) != committed.as_ref()) {
                        overrides.push(format!(
                            "{origin} sets {what} = {list:?}, not what the committed policy says"
                        ));
                    }
                }
            }
            merged.merge(layer);
        }
        // `[trust]` and `[review] accept` count from the committed policy alone
        // (`committed_signers` and `session_reviews`, set below).
        merged.trust = TrustLayer::default();
        merged.review.accept = None;
        let mut settings = Settings::resolve(merged, sources)?.with_overrides(overrides);
        settings.allowed_signers = committed_signers;
        settings.session_reviews = session_reviews;
        settings.fold_case =
            repo.git.is_bare() || config.get_bool("core.ignorecase").unwrap_or(false);
        if let Some(branch) = &guarded {
            settings.guards_default(branch, &settings.sources.join(" < "))?;
        }
        Ok(settings)
    }

    fn with_overrides(mut self, overrides: Vec<String>) -> Settings {
        self.overrides = overrides;
        self
    }

    /// The default branch must stay protected, whatever the layers say: a policy (committed or
    /// local) that quarantines it or leaves it out is refused, so the gate fails closed instead of
    /// letting local output flow.
    pub fn guards_default(&self, default_ref: &str, origin: &str) -> Result<(), Error> {
        if self.is_protected(default_ref) {
            return Ok(());
        }
        Err(Error::Weakened {
            origin: origin.to_string(),
            message: format!(
                "the default branch {default_ref} would {}",
                if self.is_quarantine(default_ref) {
                    "be a quarantine ref"
                } else {
                    "not be protected"
                }
            ),
        })
    }

    /// Checks a policy file's text as the gate would read it once committed, so that a broken
    /// policy never reaches the default branch (where it would block every update).
    pub fn validate_policy(
        text: &str,
        origin: &str,
        default_ref: Option<&str>,
    ) -> Result<(), Error> {
        let layer: FileLayer = toml::from_str(text).map_err(|e| Error::Parse {
            origin: origin.to_string(),
            message: e.message().to_string(),
        })?;
        accepts_sessions(layer.review.accept.as_deref(), origin)?;
        let settings = Settings::resolve(layer, Vec::new())?;
        match default_ref {
            Some(default_ref) => settings.guards_default(default_ref, origin),
            None => Ok(()),
        }
    }

    fn resolve(layer: FileLayer, sources: Vec<String>) -> Result<Settings, Error> {
        let FileLayer {
            gate,
            review,
            route,
            implement,
            trust,
            adopt,
        } = layer;
        let adopt = AdoptSettings {
            tools: adopt.tools.unwrap_or_default(),
            models: adopt.models.unwrap_or_default(),
        };
        for pattern in adopt.tools.iter().chain(&adopt.models) {
            RefPattern::parse(pattern, "adopt")?;
        }
        if let Some(path) = &trust.allowed_signers
            && (path.trim().is_empty()
                || path.starts_with('/')
                || path.split('/').any(|c| c == ".."))
        {
            return Err(Error::Parse {
                origin: "trust.allowed_signers".to_string(),
                message: format!("{path:?} is not a path inside the repository"),
            });
        }
        // Checked where it is used (`implement`, `fix`), not here: a mistyped engine must not
        // block every hook that reads the settings.
        let implement = ImplementSettings {
            backend: implement.backend.unwrap_or_else(|| "embedded".to_string()),
            model: implement.model.filter(|m| !m.is_empty()),
            base_url: implement
                .base_url
                .unwrap_or_else(|| "http://localhost:11434/v1".to_string()),
            check: implement.check.filter(|c| !c.trim().is_empty()),
            check_timeout: implement.check_timeout.unwrap_or(300),
            check_rounds: implement.check_rounds,
            constrain: implement.constrain.unwrap_or_else(|| "auto".to_string()),
            edit_format: implement.edit_format.unwrap_or_else(|| "auto".to_string()),
            candidates: implement.candidates.unwrap_or(1),
            unreadable: implement.unreadable,
        };
        let compile = |list: Option<Vec<String>>, default: &[&str], what: &str| {
            let list = list.unwrap_or_else(|| default.iter().map(|s| s.to_string()).collect());
            list.iter()
                .map(|p| RefPattern::parse(p, what))
                .collect::<Result<Vec<_>, _>>()
        };
        let protected = compile(
            gate.protected,
            &["refs/heads/*", "refs/tags/*"],
            "protected",
        )?;
        // The reference-transaction shim skips every other namespace without starting the binary
        // (that is what keeps remote-tracking updates free), so a pattern elsewhere would never
        // be checked: refuse it rather than pretend to protect it.
        if let Some(p) = protected.iter().find(|p| {
            !(p.as_str().starts_with("refs/heads/") || p.as_str().starts_with("refs/tags/"))
        }) {
            return Err(Error::Pattern {
                pattern: p.as_str().to_string(),
                origin: "protected".to_string(),
                message: "protected refs must be under refs/heads/ or refs/tags/".to_string(),
            });
        }
        if protected.is_empty() {
            return Err(Error::Weakened {
                origin: "protected".to_string(),
                message: "an empty list protects nothing".to_string(),
            });
        }
        let quarantine = compile(gate.quarantine, &["refs/heads/hybrid/*"], "quarantine")?;
        // Quarantine wins over protected, so a broad quarantine pattern unprotects everything it
        // matches: each must name its own namespace under refs/heads/ (`refs/heads/hybrid/*`),
        // never all branches (`refs/heads/*`) or tags.
        if let Some(p) = quarantine.iter().find(|p| {
            let first = p
                .as_str()
                .strip_prefix("refs/heads/")
                .and_then(|rest| rest.split('/').next())
                .unwrap_or("*");
            first.is_empty() || first.contains(['*', '?', '['])
        }) {
            return Err(Error::Weakened {
                origin: "quarantine".to_string(),
                message: format!(
                    "{:?} is too broad: a quarantine pattern must start with refs/heads/<literal name>/ (such as refs/heads/hybrid/*)",
                    p.as_str()
                ),
            });
        }
        Ok(Settings {
            protected,
            quarantine,
            default_branch: gate.default_branch,
            review_model: review
                .model
                .unwrap_or_else(|| DEFAULT_REVIEW_MODEL.to_string()),
            review_part_tokens: review.part_tokens.unwrap_or(DEFAULT_PART_TOKENS),
            review_unreadable: review.unreadable.into_iter().map(|(_, m)| m).collect(),
            route: crate::route::Rules {
                cloud: route.cloud.unwrap_or_default(),
                local: route.local.unwrap_or_default(),
                max_local_files: route
                    .max_local_files
                    .unwrap_or(crate::route::MAX_LOCAL_FILES),
            },
            implement,
            adopt,
            session_reviews: false,
            allowed_signers: trust
                .allowed_signers
                .map(|path| SignersFile { path, commit: None }),
            fold_case: false,
            sources,
            overrides: Vec::new(),
        })
    }

    /// Quarantine wins over protected: `hybrid/*` is never protected, whatever the patterns say.
    pub fn is_protected(&self, refname: &str) -> bool {
        !self.is_quarantine(refname)
            && self
                .protected
                .iter()
                .any(|p| p.matches(refname) || (self.fold_case && p.matches_folded(refname)))
    }

    /// A name that is protected only when case is ignored (`refs/TAGS/v2`, `refs/heads/MAIN`
    /// under a policy naming `refs/heads/main`): on storage that folds case it is another
    /// spelling of a protected ref, so it is refused outright rather than judged as its own.
    pub fn is_case_alias(&self, refname: &str) -> bool {
        self.fold_case
            && !self.is_quarantine(refname)
            && !self.protected.iter().any(|p| p.matches(refname))
            && self.protected.iter().any(|p| p.matches_folded(refname))
    }

    pub fn is_quarantine(&self, refname: &str) -> bool {
        self.quarantine.iter().any(|p| p.matches(refname))
    }
}

/// An XDG base folder: `$var` when set and not empty, else `$HOME/<under_home>`, else the
/// current folder. The one place the user's folders are looked up (config, data, cache,
/// runtime).
pub fn xdg_dir(var: &str, under_home: &str) -> PathBuf {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| home_dir().join(under_home))
}

/// `$HOME`, else the current folder.
pub fn home_dir() -> PathBuf {
    std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from("."), PathBuf::from)
}

pub(crate) fn user_config_path() -> Option<PathBuf> {
    Some(
        xdg_dir("XDG_CONFIG_HOME", ".config")
            .join("git-hybrid")
            .join("config.toml"),
    )
}

fn read_file_layer(path: &Path) -> Result<Option<FileLayer>, Error> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(Error::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    toml::from_str(&text).map(Some).map_err(|e| Error::Parse {
        origin: path.display().to_string(),
        message: e.message().to_string(),
    })
}

/// Whether `[review] accept` lets session reviews count. API reviews always count: a policy that
/// leaves them out, or names a reviewer there is none of, is refused rather than guessed at.
fn accepts_sessions(accept: Option<&[String]>, origin: &str) -> Result<bool, Error> {
    let Some(accept) = accept else {
        return Ok(false);
    };
    let invalid = |message: String| Error::Parse {
        origin: origin.to_string(),
        message,
    };
    if let Some(other) = accept
        .iter()
        .find(|a| !["api", "mcp"].contains(&a.as_str()))
    {
        return Err(invalid(format!(
            "[review] accept lists {other:?}; it takes \"api\" and \"mcp\""
        )));
    }
    if !accept.iter().any(|a| a == "api") {
        return Err(invalid(
            "[review] accept must list \"api\": API reviews always count".into(),
        ));
    }
    Ok(accept.iter().any(|a| a == "mcp"))
}

/// A file's bytes as committed in `commit`'s tree, or `None` when it has none.
fn committed_bytes(repo: &Repo, commit: git2::Oid, path: &str) -> Result<Option<Vec<u8>>, Error> {
    let origin = || format!("{commit}:{path}");
    let committed = |source| Error::Committed {
        origin: origin(),
        source,
    };
    let tree = repo
        .git
        .find_commit(commit)
        .and_then(|c| c.tree())
        .map_err(committed)?;
    let entry = match tree.get_path(Path::new(path)) {
        Ok(entry) => entry,
        Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
        Err(source) => return Err(committed(source)),
    };
    let blob = repo.git.find_blob(entry.id()).map_err(committed)?;
    Ok(Some(blob.content().to_vec()))
}

/// A text file as committed in `commit`'s tree, or `None` when it has none.
fn committed_file(repo: &Repo, commit: git2::Oid, path: &str) -> Result<Option<String>, Error> {
    let Some(bytes) = committed_bytes(repo, commit, path)? else {
        return Ok(None);
    };
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| Error::Parse {
            origin: format!("{commit}:{path}"),
            message: "not UTF-8 text".into(),
        })
}

fn git_multivar(config: &git2::Config, name: &str) -> Result<Option<Vec<String>>, Error> {
    let mut values = Vec::new();
    let entries = match config.multivar(name, None) {
        Ok(entries) => entries,
        Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
        Err(e) => return Err(Error::GitConfig(e)),
    };
    let mut entries = entries;
    while let Some(entry) = entries.next() {
        let entry = entry.map_err(Error::GitConfig)?;
        if let Ok(v) = entry.value() {
            values.push(v.to_string());
        }
    }
    Ok((!values.is_empty()).then_some(values))
}

fn env_list(name: &str) -> Option<Vec<String>> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(protected: &[&str]) -> Settings {
        Settings {
            protected: protected
                .iter()
                .map(|p| RefPattern::parse(p, "test").unwrap())
                .collect(),
            quarantine: vec![RefPattern::parse("refs/heads/hybrid/*", "test").unwrap()],
            default_branch: None,
            review_model: "m".into(),
            review_part_tokens: 1,
            review_unreadable: vec![],
            route: crate::route::Rules::default(),
            adopt: AdoptSettings::default(),
            session_reviews: false,
            allowed_signers: None,
            fold_case: false,
            sources: vec![],
            overrides: vec![],
            implement: ImplementSettings {
                backend: "embedded".into(),
                model: None,
                base_url: String::new(),
                check: None,
                check_timeout: 300,
                check_rounds: None,
                constrain: "auto".into(),
                edit_format: "auto".into(),
                candidates: 1,
                unreadable: vec![],
            },
        }
    }

    #[test]
    fn quarantine_beats_protected() {
        let s = settings(&["refs/heads/*"]);
        assert!(s.is_protected("refs/heads/main"));
        assert!(s.is_protected("refs/heads/feature/x"));
        assert!(!s.is_protected("refs/heads/hybrid/x"));
        assert!(!s.is_protected("refs/remotes/origin/main"));
        assert!(!s.is_protected("ORIG_HEAD"));
    }

    #[test]
    fn narrower_policy() {
        let s = settings(&["refs/heads/main", "refs/heads/release/*"]);
        assert!(s.is_protected("refs/heads/release/1.0"));
        assert!(!s.is_protected("refs/heads/feature"));
    }

    /// A number that does not parse is kept as a message for the command that uses it, not
    /// dropped; a later layer that sets the same key cleanly replaces it, as values do.
    #[test]
    fn a_number_that_does_not_parse_is_reported_until_a_later_layer_sets_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        let mut config = git2::Config::open(&path).unwrap();
        config
            .set_str("hybrid.implementCandidates", "four")
            .unwrap();
        config.set_i64("hybrid.implementCheckRounds", -1).unwrap();
        config
            .set_str("hybrid.implementCheckTimeout", "2 minutes")
            .unwrap();
        let layer = ImplementLayer::from_git(&config).unwrap();
        assert_eq!(layer.candidates, None);
        assert_eq!(layer.check_timeout, None);
        let fields: Vec<_> = layer.unreadable.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["check_timeout", "check_rounds", "candidates"]);
        assert!(
            layer.unreadable[2]
                .1
                .contains("hybrid.implementCandidates is \"four\""),
            "{:?}",
            layer.unreadable
        );
        let mut merged = ImplementLayer::default();
        merged.merge(layer);
        merged.merge(ImplementLayer {
            candidates: Some(2),
            ..ImplementLayer::default()
        });
        let fields: Vec<_> = merged.unreadable.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["check_timeout", "check_rounds"]);
        assert_eq!(merged.candidates, Some(2));
    }
}
