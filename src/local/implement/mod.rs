//! `implement`: a spec in, a commit on a quarantine branch out, recorded as local output.
//!
//! The commit is built in memory from HEAD's tree — no worktree, no checkout — so the user's
//! working tree, index and HEAD are never touched, and nothing is half-written when a step fails.
//! The order matters for the gate: the commit object is written first, then its lines are
//! recorded as a generation, and only then does the branch appear. A failure before the end
//! leaves no branch; a branch never exists whose lines the gate does not know.
//!
//! An answer becomes a commit only when it changes something and drops nothing the spec did not
//! ask to drop (`answer`); with a check configured, it runs on each answer first and its failure
//! goes back to the model (`check`). Every call is in the ledger, whether the command succeeds
//! or not.

mod answer;
mod check;
mod choose;
mod commit;
mod context;
mod outline;
mod prompt;
mod restore;
mod syntax;

use std::time::{Duration, Instant};

use git2::Oid;

pub use answer::{Refusal, definitions};
pub use check::{Check, Ran as Checked, keep_head_and_tail};
pub use prompt::EditFormat;

use super::{Backend, ChatMessage, Generated};
use crate::config::Settings;
use crate::git::Repo;
use crate::provenance;
use crate::spec::Spec;
use crate::store::{self, CheckRecord, Store, UsageRow};
use answer::Changed;

/// Unusable answers (unparsable, changing nothing, dropping definitions) are sent back to the
/// model this many times before giving up.
pub const MAX_REPAIRS: usize = 2;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Spec(#[from] crate::spec::ReadError),
    #[error("HEAD has no commit yet: there is nothing to build on")]
    Unborn,
    #[error("implement needs a repository with a working tree (this one is bare)")]
    Bare,
    #[error(
        "{branch} is not a quarantine branch (refs/heads/hybrid/* by default); local output may only go there"
    )]
    NotQuarantine { branch: String },
    #[error("the branch {branch} already exists")]
    BranchExists { branch: String },
    #[error("the local model failed: {0}")]
    Backend(#[from] super::Error),
    #[error("the model did not finish its answer within {produced} tokens")]
    MaxTokens { produced: u64 },
    #[error("the model's answer could not be used after {attempts} attempts: {last}")]
    Unusable { attempts: usize, last: Refusal },
    #[error(transparent)]
    Check(#[from] check::Error),
    #[error("git: {}", .0.message())]
    Git(#[from] git2::Error),
    #[error(transparent)]
    Repo(#[from] crate::git::Error),
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(transparent)]
    Provenance(#[from] provenance::Error),
}

/// Runs `check` on HEAD's tree with the working tree's copy of `files` written over it, in a
/// temporary directory — the way an answer is checked, with the user's files in the answer's
/// place. Nothing in the working tree is written. Also returns the files that could not be
/// taken from the working tree (absent, not UTF-8 text, or a path that leaves the tree): the
/// check saw HEAD's version of those, or none.
pub fn check_worktree(
    repo: &Repo,
    check: &Check,
    files: &[String],
) -> Result<(Checked, Vec<String>), Error> {
    let top = repo.worktree().ok_or(Error::Bare)?;
    let base = match repo.head_tree()? {
        Some(tree) => tree,
        // An unborn branch: the files alone, over nothing.
        None => {
            let empty = repo.git.treebuilder(None)?.write()?;
            repo.git.find_tree(empty)?
        }
    };
    let mut mine = Changed::new();
    let mut not_read = Vec::new();
    for rel in files {
        // A spec's path is written into the temporary tree: one that climbs out of it (or is
        // absolute) would be written outside it.
        let inside = std::path::Path::new(rel)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        let text = inside
            .then(|| std::fs::read(top.join(rel)).ok())
            .flatten()
            .and_then(|bytes| String::from_utf8(bytes).ok());
        match text {
            Some(text) => {
                mine.insert(rel.clone(), text);
            }
            None => not_read.push(rel.clone()),
        }
    }
    Ok((check::run(&repo.git, &base, &mine, check)?, not_read))
}

/// What `implement` made.
#[derive(Clone, Debug)]
pub struct Implemented {
    pub branch: String,
    pub commit: Oid,
    pub generation_id: String,
    pub files: Vec<String>,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub wall: Duration,
    /// Time to the first token of the first answer (prompt reading, or model latency).
    pub first_token: Duration,
    pub attempts: usize,
    /// Files the context could not hold, said out loud rather than dropped silently.
    pub left_out: Vec<String>,
    /// The last check run on the committed answer, when a check ran.
    pub check: Option<CheckRecord>,
}

/// What to implement, and how.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    pub spec: &'a Spec,
    /// The quarantine branch to create; `None` derives `hybrid/<slug>` from the spec's title.
    pub branch: Option<&'a str>,
    /// Tokens of repository context at most.
    pub context_tokens: usize,
    /// Whole files or EDIT blocks for the files that exist.
    pub edit_format: EditFormat,
    /// The daemon job running this, recorded with the generation.
    pub job_id: Option<i64>,
    /// Why this backend was chosen (the routing decision), kept with the generation.
    pub route: Option<serde_json::Value>,
    /// An existing quarantine branch to add a commit to (a fix), instead of a new branch from
    /// HEAD.
    pub onto: Option<&'a str>,
    /// Run after each answer; its failure is the next attempt's feedback.
    pub check: Option<&'a Check>,
    /// Set when whoever waits stops waiting: the generation stops at its next token and nothing
    /// is committed.
    pub cancel: Option<&'a crate::backend::Cancel>,
}

/// The answers so far: tokens, time and attempts, for the generation and the ledger.
struct Tally {
    tokens_in: u64,
    tokens_out: u64,
    first_token: Option<Duration>,
    attempts: usize,
}

/// Runs the model on the spec and leaves its work on a quarantine branch.
pub fn implement(
    repo: &Repo,
    settings: &Settings,
    store: &mut Store,
    backend: &mut dyn Backend,
    request: &Request<'_>,
    progress: &mut dyn FnMut(&str),
) -> Result<Implemented, Error> {
    let git = &repo.git;
    let (base, branch) = commit::base_and_branch(git, settings, request)?;
    let base_tree = base.tree()?;
    let prompt = prompt::build(
        git,
        &base_tree,
        request.spec,
        request.context_tokens,
        request.edit_format,
        backend,
    );
    // Work added onto a reviewed branch is the fix loop's, and the ledger says so.
    let phase = if request.onto.is_some() {
        "fix"
    } else {
        "implement"
    };
    let started = Instant::now();
    let mut tally = Tally {
        tokens_in: 0,
        tokens_out: 0,
        first_token: None,
        attempts: 0,
    };
    let (changed, check) = converse(
        git, store, backend, request, &prompt, &base_tree, phase, &mut tally, progress,
    )?;
    let wall = started.elapsed();
    let made = commit::record_and_branch(
        repo,
        store,
        backend,
        request,
        &commit::Made {
            base: &base,
            base_tree: &base_tree,
            branch: &branch,
            changed: &changed,
            check: check.as_ref(),
            tokens: (tally.tokens_in, tally.tokens_out),
            wall,
            attempts: tally.attempts,
        },
    )?;
    Ok(Implemented {
        branch,
        commit: made.commit,
        generation_id: made.generation_id,
        files: changed.keys().cloned().collect(),
        tokens_in: tally.tokens_in,
        tokens_out: tally.tokens_out,
        wall,
        first_token: tally.first_token.unwrap_or_default(),
        attempts: tally.attempts,
        left_out: prompt.left_out,
        check,
    })
}

/// The conversation with the model until an answer is usable and, when there is a check,
/// passes it (or the check's rounds are spent): a malformed answer is shown back with what is
/// wrong with it, a failing one is not shown again (small models copy what they see) and the
/// model is told what the check said. Every answer is recorded in the ledger.
#[allow(clippy::too_many_arguments)]
fn converse(
    git: &git2::Repository,
    store: &mut Store,
    backend: &mut dyn Backend,
    request: &Request<'_>,
    prompt: &prompt::Prompt,
    base_tree: &git2::Tree<'_>,
    phase: &'static str,
    tally: &mut Tally,
    progress: &mut dyn FnMut(&str),
) -> Result<(Changed, Option<CheckRecord>), Error> {
    let mut messages = prompt.messages.clone();
    let first_prompt = messages.len();
    // Asked once in the other format, at most: a model that fails both is not helped by a third.
    let mut shape = prompt.shape.clone();
    let mut switched = false;
    // Judging an answer reads a file it writes up to four times (apply, merge, what changed,
    // restore), for every answer: read from the tree once.
    let files = std::cell::RefCell::new(std::collections::HashMap::new());
    let read = |path: &str| {
        files
            .borrow_mut()
            .entry(path.to_string())
            .or_insert_with(|| commit::read_file(git, base_tree, path))
            .clone()
    };
    let model = backend.model().to_string();
    let (mut repairs, mut checks) = (0, 0);
    loop {
        let stopped = || request.cancel.is_some_and(|c| c.is_cancelled());
        if stopped() {
            return Err(crate::backend::Error::Cancelled.into());
        }
        tally.attempts += 1;
        let attempts = tally.attempts;
        progress(&format!("generating with {model} (attempt {attempts})"));
        if attempts > 1 {
            backend.retrying(attempts);
        }
        // Each answer is judged as soon as it is finished, while the others are still being
        // written, and `choose` says which passing one is kept: the first in order, unless the
        // check tells their behaviour apart and others agree against it. Writing stops once no
        // answer still being written can change that; else what the first went wrong with is
        // what the model hears next.
        let merged = shape.merged();
        let limits = shape.limits();
        let progress = std::cell::RefCell::new(&mut *progress);
        let mut judged: Vec<Judged> = Vec::new();
        let mut choice = choose::Choice::new(backend.candidates());
        let mut failed: Option<(usize, Changed, check::Ran)> = None;
        let mut check_error: Option<check::Error> = None;
        backend.generate_candidates(
            &messages,
            &mut |n| {
                (progress.borrow_mut())(&format!(
                    "generating with {model} (attempt {attempts}): {n} received"
                ));
                request
                    .cancel
                    .map_or(crate::backend::Flow::Continue(()), |c| c.flow())
            },
            &mut |index, generated| {
                tracing::trace!(answer = %generated.text, index, "local model answer");
                let asked = answer::Asked {
                    single: prompt.single.as_deref(),
                    merged: &merged,
                    limits: generated.grammar.then_some(limits),
                };
                let evaluated = match &generated.looped {
                    Some(looped) => Some(answer::evaluate_looped(
                        &generated.text,
                        looped,
                        &read,
                        &request.spec.text,
                        asked,
                    )),
                    None => (!generated.truncated).then(|| {
                        answer::evaluate(&generated.text, &read, &request.spec.text, asked)
                    }),
                };
                let worth = choice.worth_checking(index);
                match (&evaluated, request.check) {
                    (Some(Ok(changed)), None) if worth => choice.passed(choose::Passing {
                        index,
                        behaviour: None,
                        answer: (changed.clone(), None),
                    }),
                    (Some(Ok(changed)), Some(c)) if worth && !stopped() => {
                        (progress.borrow_mut())(&format!(
                            "checking attempt {attempts}: {}",
                            c.shown()
                        ));
                        match check::run(git, base_tree, changed, c) {
                            Ok(ran) if ran.passed => choice.passed(choose::Passing {
                                index,
                                behaviour: crate::spec::examples::behaviour(&ran.output),
                                answer: (changed.clone(), Some(ran)),
                            }),
                            Ok(ran) => {
                                if failed.as_ref().is_none_or(|(first, ..)| index < *first) {
                                    failed = Some((index, changed.clone(), ran));
                                }
                            }
                            Err(e) => {
                                check_error.get_or_insert(e);
                                judged.push((index, generated, evaluated));
                                return crate::backend::Flow::Break(());
                            }
                        }
                    }
                    _ => {}
                }
                choice.finished(index);
                judged.push((index, generated, evaluated));
                if choice.settled() {
                    crate::backend::Flow::Break(())
                } else {
                    crate::backend::Flow::Continue(())
                }
            },
        )?;
        judged.sort_by_key(|(index, ..)| *index);
        // Every answer is paid for (in money or in time) whether it is used or not.
        let mut refused: Option<(Refusal, String)> = None;
        let mut cut: Option<u64> = None;
        for (_, generated, evaluated) in judged {
            tally.first_token.get_or_insert(generated.first_token);
            tally.tokens_in += generated.tokens_in;
            tally.tokens_out += generated.tokens_out;
            record_call(
                store,
                backend,
                phase,
                &generated,
                matches!(evaluated, Some(Ok(_))),
            )?;
            match evaluated {
                None => {
                    cut.get_or_insert(generated.tokens_out);
                }
                Some(Err(refusal)) => {
                    refused.get_or_insert((refusal, generated.text));
                }
                Some(Ok(_)) => {}
            }
        }
        if let Some(e) = check_error {
            return Err(e.into());
        }
        if stopped() {
            return Err(crate::backend::Error::Cancelled.into());
        }
        let first_passing = choice.first_passing();
        if let Some(choose::Passing {
            index,
            answer: (changed, ran),
            ..
        }) = choice.into_kept()
        {
            if first_passing != Some(index) {
                tracing::info!(
                    attempt = attempts,
                    kept = index,
                    first = ?first_passing,
                    "the answers that pass agree on another behaviour than the first: kept answer {index}"
                );
            }
            let record = ran
                .zip(request.check)
                .map(|(ran, c)| ran.into_record(c, checks + 1));
            return Ok((changed, record));
        }
        if let (Some((_, changed, ran)), Some(c)) = (failed, request.check) {
            checks += 1;
            if checks > c.rounds {
                return Ok((changed, Some(ran.into_record(c, checks))));
            }
            tracing::info!(attempt = attempts, status = %ran.status, "the check failed");
            // A wrong implementation is not shown again: small models copy what they see.
            // The next answer starts from the first prompt, told what the check said.
            messages.truncate(first_prompt);
            messages.push(ChatMessage {
                role: "user",
                content: prompt::check_failed(c.shown(), &ran.status, &ran.output),
            });
            continue;
        }
        let Some((refusal, text)) = refused else {
            // Asking again would stop at the same limit: say so instead.
            return Err(Error::MaxTokens {
                produced: cut.unwrap_or_default(),
            });
        };
        if repairs >= MAX_REPAIRS {
            return Err(Error::Unusable {
                attempts,
                last: refusal,
            });
        }
        repairs += 1;
        tracing::info!(attempt = attempts, error = %refusal, "asking the model again");
        let other = (!switched).then(|| shape.other_after(&refusal)).flatten();
        if let Some(other) = &other {
            tracing::info!(format = ?other.format, "asking for the other edit format");
            other.constrain(backend);
            shape = other.clone();
            switched = true;
        }
        if matches!(
            refusal,
            answer::Refusal::Syntax { .. } | answer::Refusal::Looped(_)
        ) {
            // Broken code is not shown again (small models copy what they see, cut-off
            // ending and loop included): the next answer starts from the first prompt, told
            // where the last one stopped parsing or what it repeated.
            messages.truncate(first_prompt);
        } else {
            // A format mistake is fixed best with the answer in view.
            messages.push(ChatMessage {
                role: "assistant",
                content: text,
            });
        }
        messages.push(ChatMessage {
            role: "user",
            content: prompt::refused(
                &refusal,
                other.as_ref().map(|s| s.format),
                other.as_ref().and_then(prompt::Shape::told),
            ),
        });
    }
}

/// One answer of an attempt: its place among the candidates, what came back, and what it was
/// judged (`None`: cut off by the token limit).
type Judged = (usize, Generated, Option<Result<Changed, Refusal>>);

/// One answer in the ledger, as soon as it arrives: a command that fails later still shows
/// what it spent.
fn record_call(
    store: &mut Store,
    backend: &dyn Backend,
    phase: &str,
    generated: &Generated,
    usable: bool,
) -> Result<(), Error> {
    store.record_usage(&UsageRow {
        phase: phase.into(),
        provider: backend.provider(),
        model: backend.model().into(),
        input_tokens: generated.tokens_in as i64,
        output_tokens: generated.tokens_out as i64,
        usd: backend.cost_usd(generated),
        wall_ms: generated.wall.as_millis() as i64,
        ok: usable,
        ..UsageRow::default()
    })?;
    Ok(())
}
