//! The CI recipes in `examples/`, run as written: each recipe's own commands (all but the
//! install step: the freshly built binary is on PATH) in a fresh `git clone`, against a bare
//! repository the author pushed to. Unreviewed local output fails the check; the PR bot's review
//! approves it and pushes the verdict, after which another fresh clone passes.

use std::path::{Path, PathBuf};

use crate::records::with_remote;
use crate::support::anthropic::{self, FakeAnthropic, Reply};
use crate::support::{Run, TestRepo};

fn recipe(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// GitHub Actions steps as (name, one-line `run`), in order.
fn github_steps() -> Vec<(String, String)> {
    let text = recipe("github-actions.yml");
    let mut steps = Vec::new();
    let mut name = String::new();
    for line in text.lines().map(str::trim) {
        if let Some(n) = line.strip_prefix("- name: ") {
            name = n.to_string();
        } else if let Some(run) = line.strip_prefix("run: ") {
            assert_ne!(run, "|", "the test reads one-line run steps");
            steps.push((name.clone(), run.to_string()));
        }
    }
    steps
}

/// GitLab CI's `script:` lines, in order.
fn gitlab_script() -> Vec<String> {
    let text = recipe("gitlab-ci.yml");
    let mut script = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if line.trim_end() == "  script:" {
            inside = true;
        } else if inside {
            match line.strip_prefix("    - ") {
                Some(command) => script.push(command.to_string()),
                None => inside = false,
            }
        }
    }
    assert!(!script.is_empty(), "gitlab-ci.yml has a script");
    script
}

fn fresh_clone(repo: &TestRepo, remote: &Path, name: &str) -> PathBuf {
    let dir = repo.home().join(name);
    repo.git(&[
        "clone",
        "-q",
        remote.to_str().unwrap(),
        dir.to_str().unwrap(),
    ]);
    dir
}

/// Runs `script` with `sh -e` in `dir`, with the CI's variables (and the fake API's when given).
fn sh(
    repo: &TestRepo,
    dir: &Path,
    script: &str,
    vars: &[(&str, &str)],
    api: Option<&FakeAnthropic>,
) -> Run {
    let mut cmd = repo.command_in("sh", dir);
    cmd.args(["-e", "-c", script]);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    if let Some(api) = api {
        cmd.env("ANTHROPIC_API_KEY", anthropic::KEY)
            .env("ANTHROPIC_BASE_URL", &api.url);
    }
    repo.run(cmd)
}

/// The author's clone with unreviewed local output on `hybrid/port`, pushed with its records
/// to a bare `origin`: (base, head) of the pull request that would merge it.
fn pushed_generation(repo: &TestRepo) -> (PathBuf, String, String) {
    let remote = with_remote(repo);
    repo.git(&["push", "-q", "origin", "main", "hybrid/port"]);
    (remote, repo.rev("main"), repo.rev("hybrid/port"))
}

#[test]
fn the_github_actions_recipe_blocks_then_its_bot_approves() {
    let steps = github_steps();
    assert!(steps.iter().any(|(n, _)| n == "Install git-hybrid"));
    let repo = TestRepo::with_generation();
    let (remote, base, head) = pushed_generation(&repo);
    let vars = [("BASE", base.as_str()), ("HEAD", head.as_str())];
    let run = |dir: &Path, names: &[&str], api: Option<&FakeAnthropic>| -> Run {
        let mut last = None;
        for name in names {
            let (_, command) = steps
                .iter()
                .find(|(n, _)| n == name)
                .unwrap_or_else(|| panic!("no step {name:?} in the recipe"));
            let step = sh(&repo, dir, command, &vars, api);
            if !step.0.status.success() {
                return step;
            }
            last = Some(step);
        }
        last.expect("a step ran")
    };
    let ci = fresh_clone(&repo, &remote, "ci-1");
    run(&ci, &["Fetch the records", "Who records", "Verify"], None)
        .failure()
        .stdout_has("src/port.rs")
        .stdout_has("git hybrid review");
    let api = FakeAnthropic::start(vec![Reply::Approve]);
    run(
        &ci,
        &["Review what no approval covers yet", "Verify"],
        Some(&api),
    )
    .success()
    .stdout_has("ok: ");
    // The verdict was pushed back: another fresh clone passes without any review.
    let again = fresh_clone(&repo, &remote, "ci-2");
    run(&again, &["Fetch the records", "Verify"], None)
        .success()
        .stdout_has("(change approved");
    assert_eq!(api.answered().len(), 1);
}

#[test]
fn the_gitlab_ci_recipe_blocks_then_its_bot_approves() {
    let repo = TestRepo::with_generation();
    let (remote, base, head) = pushed_generation(&repo);
    let script = gitlab_script().join("\n");
    let vars = [
        ("CI_MERGE_REQUEST_DIFF_BASE_SHA", base.as_str()),
        ("CI_COMMIT_SHA", head.as_str()),
    ];
    let ci = fresh_clone(&repo, &remote, "ci-1");
    sh(&repo, &ci, &script, &vars, None)
        .failure()
        .stdout_has("src/port.rs");
    let api = FakeAnthropic::start(vec![Reply::Approve]);
    let bot = [vars[0], vars[1], ("CI_MERGE_REQUEST_IID", "7")];
    let ci = fresh_clone(&repo, &remote, "ci-2");
    sh(&repo, &ci, &script, &bot, Some(&api))
        .success()
        .stderr_has("the verdict was sent to origin");
    let again = fresh_clone(&repo, &remote, "ci-3");
    sh(&repo, &again, &script, &vars, None)
        .success()
        .stdout_has("(change approved");
}

/// A new team repository has no records yet: both recipes pass a human pull request there (the
/// fetch matches nothing instead of failing), and a commit that says a model made it
/// (`Hybrid-Generation:`) still blocks though no record describes it — records that were never
/// fetched, or were deleted on a forge, cannot turn local output into human work.
#[test]
fn both_recipes_pass_human_work_in_a_repository_without_records() {
    let repo = TestRepo::new();
    let remote = with_remote(&repo);
    repo.git(&["push", "-q", "origin", "main"]);
    let base = repo.rev("main");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write(
        "src/human.rs",
        "pub fn greet() -> &'static str {\n    \"hello there\"\n}\n",
    );
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "a human's work"]);
    repo.git(&["push", "-q", "origin", "feature"]);
    let head = repo.rev("feature");
    let steps = github_steps();
    let step = |name: &str| {
        steps
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c.clone())
            .unwrap()
    };
    let github = [
        step("Fetch the records"),
        step("Who records"),
        step("Verify"),
    ]
    .join("\n");
    let vars = [("BASE", base.as_str()), ("HEAD", head.as_str())];
    let ci = fresh_clone(&repo, &remote, "ci-gh");
    sh(&repo, &ci, &github, &vars, None)
        .success()
        .stdout_has("ok: ")
        .stderr_has("no records here");
    let gitlab = gitlab_script().join("\n");
    let gl_vars = [
        ("CI_MERGE_REQUEST_DIFF_BASE_SHA", base.as_str()),
        ("CI_COMMIT_SHA", head.as_str()),
    ];
    let ci = fresh_clone(&repo, &remote, "ci-gl");
    sh(&repo, &ci, &gitlab, &gl_vars, None)
        .success()
        .stdout_has("ok: ");

    // A commit made by `implement` (its trailer names the generation) whose records are missing.
    repo.write("src/port.rs", crate::support::GENERATED);
    repo.git(&["add", "."]);
    repo.git(&[
        "commit",
        "-q",
        "-m",
        "hybrid: parse a port\n\nHybrid-Generation: 0123456789abcdef\nHybrid-Model: qwen2.5-coder-7b\n",
    ]);
    repo.git(&["push", "-q", "--no-verify", "origin", "feature"]);
    let head = repo.rev("feature");
    let vars = [("BASE", base.as_str()), ("HEAD", head.as_str())];
    let ci = fresh_clone(&repo, &remote, "ci-gh-2");
    sh(&repo, &ci, &github, &vars, None)
        .failure()
        .stdout_has("generation 0123456789abcdef (model qwen2.5-coder-7b)")
        .stdout_has("src/port.rs");
}
