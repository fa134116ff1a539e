//! What each command prints, exactly: stdout, stderr and exit status, for its normal and its error
//! case (snapshots under `snapshots/`). Results go to stdout without a prefix; progress, hints and
//! errors to stderr with `hybrid:`. Paths, ages and versions that differ between machines are
//! replaced by placeholders before comparing.

use crate::support::{GENERATED, Run, TestRepo};

/// stdout, stderr and the exit status of a run, with machine-specific parts replaced.
fn shown(repo: &TestRepo, run: &Run) -> String {
    let scrub = |text: String| {
        let text = text
            .replace(repo.home().to_str().unwrap(), "<home>")
            .replace(repo.dir.to_str().unwrap(), "<repo>")
            .replace(crate::support::BIN, "<bin>");
        let bin_dir = std::path::Path::new(crate::support::BIN).parent().unwrap();
        let text = text.replace(bin_dir.to_str().unwrap(), "<bin-dir>");
        scrub_varying(&text)
    };
    format!(
        "exit: {:?}\n--- stdout\n{}--- stderr\n{}",
        run.code(),
        scrub(run.stdout()),
        scrub(run.stderr())
    )
}

/// Ages ("12s ago"), git's version and the binary's version vary by run and machine.
fn scrub_varying(text: &str) -> String {
    text.lines()
        .map(|line| {
            let mut words: Vec<String> = line.split(' ').map(str::to_string).collect();
            for i in 0..words.len() {
                let w = words[i].clone();
                if w == "ago" && i > 0 {
                    words[i - 1] = "<age>".into();
                }
                if w == "version" && words.get(i + 1).is_some() && i > 0 && words[i - 1] == "git" {
                    words[i + 1] = "<version>".into();
                }
            }
            words.join(" ") + "\n"
        })
        .collect()
}

#[test]
fn pending() {
    let repo = TestRepo::new();
    insta::assert_snapshot!("pending_empty", shown(&repo, &repo.hybrid(&["pending"])));
    let repo = TestRepo::with_generation();
    insta::assert_snapshot!("pending", shown(&repo, &repo.hybrid(&["pending"])));
}

#[test]
fn verify() {
    let repo = TestRepo::with_generation();
    insta::assert_snapshot!("verify_ok", shown(&repo, &repo.hybrid(&["verify", "HEAD"])));
    insta::assert_snapshot!(
        "verify_blocked",
        shown(&repo, &repo.hybrid(&["verify", "main..hybrid/port"]))
    );
    insta::assert_snapshot!(
        "verify_bad_range",
        shown(&repo, &repo.hybrid(&["verify", "main..nowhere"]))
    );
}

#[test]
fn adopt() {
    let repo = TestRepo::new();
    repo.git(&["checkout", "-q", "-b", "hybrid/port"]);
    repo.write("src/port.rs", GENERATED);
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "generated"]);
    insta::assert_snapshot!(
        "adopt",
        shown(
            &repo,
            &repo.hybrid(&["adopt", "hybrid/port", "--model", "qwen"])
        )
    );
    insta::assert_snapshot!(
        "adopt_empty",
        shown(&repo, &repo.hybrid(&["adopt", "hybrid/port..hybrid/port"]))
    );
    // Output made only of lines too short to tell apart: said so, never "will be refused".
    repo.git(&["checkout", "-q", "-b", "hybrid/short", "main"]);
    repo.write("src/short.py", "pass\nreturn 1\n}\n");
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "generated, short"]);
    insta::assert_snapshot!(
        "adopt_nothing_fingerprinted",
        shown(&repo, &repo.hybrid(&["adopt", "hybrid/short"]))
    );
}

#[test]
fn stats() {
    let repo = TestRepo::new();
    insta::assert_snapshot!("stats_empty", shown(&repo, &repo.hybrid(&["stats"])));
    insta::assert_snapshot!(
        "stats_bad_date",
        shown(&repo, &repo.hybrid(&["stats", "--since", "last tuesday"]))
    );
}

#[test]
fn model_list() {
    let repo = TestRepo::new();
    insta::assert_snapshot!(
        "model_list_empty",
        shown(&repo, &repo.hybrid(&["model", "list"]))
    );
    repo.write("not-a-model.gguf", "text");
    insta::assert_snapshot!(
        "model_add_not_gguf",
        shown(&repo, &repo.hybrid(&["model", "add", "not-a-model.gguf"]))
    );
}

#[test]
fn show() {
    let repo = TestRepo::with_generation();
    insta::assert_snapshot!(
        "show_unreviewed",
        shown(
            &repo,
            &repo.hybrid(&["show", "hybrid/port", "--color", "never"])
        )
    );
    insta::assert_snapshot!(
        "show_unknown_id",
        shown(&repo, &repo.hybrid(&["show", "hc1-ffffffff"]))
    );
}

/// Colour is decided as git decides, with every place git reads settings from: `git -c`
/// included, `color.hybrid` over `color.ui`, any of git's spellings of false.
#[test]
fn show_colours_as_git_settings_say() {
    let repo = TestRepo::with_generation();
    let coloured = |settings: &[&str]| {
        let mut args: Vec<&str> = settings.iter().flat_map(|s| ["-c", *s]).collect();
        args.extend(["hybrid", "show", "hybrid/port"]);
        repo.git(&args).contains('\u{1b}')
    };
    assert!(!coloured(&[]), "not a terminal: auto stays plain");
    assert!(coloured(&["color.ui=always"]));
    assert!(!coloured(&["color.ui=always", "color.hybrid=never"]));
    assert!(coloured(&["color.ui=off", "color.hybrid=always"]));
    assert!(!coloured(&["color.ui=always", "color.hybrid=no"]));
}

#[test]
fn doctor() {
    let repo = TestRepo::bare_init();
    insta::assert_snapshot!(
        "doctor_not_installed",
        shown(&repo, &repo.hybrid(&["doctor"]))
    );
}

#[test]
fn review_without_a_key() {
    let repo = TestRepo::with_generation();
    insta::assert_snapshot!(
        "review_without_a_key",
        shown(&repo, &repo.hybrid(&["review", "hybrid/port"]))
    );
}

#[test]
fn outside_a_repository() {
    let repo = TestRepo::new();
    let mut cmd = repo.command_in("git", &repo.home());
    std::fs::create_dir_all(repo.home()).unwrap();
    cmd.args(["hybrid", "pending"]);
    insta::assert_snapshot!("outside_a_repository", shown(&repo, &repo.run(cmd)));
}

/// `show` and `verify` read a target the same way, and `show <branch>` still finds the change
/// its review saw after the branch was merged.
#[test]
fn one_meaning_per_target() {
    use crate::support::anthropic::{FakeAnthropic, Reply};
    let repo = TestRepo::with_generation();
    repo.git(&["checkout", "-q", "hybrid/port"]);
    let show = repo.hybrid(&["show", "HEAD", "--color", "never"]).stdout();
    let verify = repo.hybrid(&["verify", "--json", "HEAD"]).stdout();
    let verify: serde_json::Value = serde_json::from_str(&verify).unwrap();
    assert!(show.contains("+pub fn parse_port"), "{show}");
    assert_eq!(verify["added"], 7);
    repo.git(&["checkout", "-q", "main"]);
    let api = FakeAnthropic::start(vec![Reply::RequestChanges, Reply::Approve]);
    repo.review(&api, &["hybrid/port"]).failure();
    repo.review(&api, &["hybrid/port"]).success();
    repo.git(&["merge", "-q", "--ff-only", "hybrid/port"]);
    repo.hybrid(&["show", "hybrid/port", "--color", "never"])
        .success()
        .stdout_has("+pub fn parse_port")
        .stdout_has("2 reviews");
}

/// Colour as git decides it: the flag, then NO_COLOR, then color.hybrid / color.ui.
#[test]
fn colour_follows_flag_no_color_and_git_config() {
    let repo = TestRepo::with_generation();
    let escapes = |env: &[(&str, &str)], args: &[&str]| {
        let mut cmd = repo.command("git");
        cmd.args(["hybrid", "show", "hybrid/port"]).args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        repo.run(cmd).stdout().contains('\u{1b}')
    };
    assert!(!escapes(&[], &[]), "not a terminal: no colour");
    assert!(escapes(&[], &["--color", "always"]));
    repo.git(&["config", "color.hybrid", "always"]);
    assert!(escapes(&[], &[]));
    assert!(!escapes(&[("NO_COLOR", "1")], &[]));
    assert!(escapes(&[("NO_COLOR", "1")], &["--color", "always"]));
    repo.git(&["config", "color.hybrid", "never"]);
    repo.git(&["config", "color.ui", "always"]);
    assert!(!escapes(&[], &[]), "color.hybrid wins over color.ui");
}

/// A review that reached nothing says so, keeps the cause (connection refused) and names where
/// the requests went.
#[test]
fn a_review_that_reached_nothing_says_so() {
    let repo = TestRepo::with_generation();
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let mut cmd = repo.command("git");
    cmd.args(["hybrid", "review", "hybrid/port"])
        .env("ANTHROPIC_API_KEY", crate::support::anthropic::KEY)
        .env("ANTHROPIC_BASE_URL", &url)
        .env("GIT_HYBRID_API_ATTEMPTS", "2");
    repo.run(cmd)
        .failure()
        .stderr_has("could not review hybrid/port")
        .stderr_lacks("reviewed hybrid/port")
        .stderr_has("Connection refused")
        .stderr_has(&format!("requests go to {url}/"));
}

/// The `--json` shapes scripts read: versioned, on stdout, with the human lines on stderr.
#[test]
fn json_for_scripts() {
    use crate::support::anthropic::{FakeAnthropic, Reply};
    let repo = TestRepo::with_generation();
    let doctor: serde_json::Value =
        serde_json::from_str(&repo.hybrid(&["doctor", "--json"]).stdout()).unwrap();
    assert_eq!(doctor["version"], 1);
    assert_eq!(doctor["problems"], 0);
    assert!(
        doctor["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["status"] == "ok")
    );
    let api = FakeAnthropic::start(vec![Reply::Approve]);
    let run = repo.review(&api, &["hybrid/port", "--json"]);
    run.success().stderr_has("approved");
    let review: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(review["version"], 1);
    assert_eq!(review["approved"], true);
    assert_eq!(review["parts"][0]["decision"], "approve");
    assert!(review["change_id"].as_str().unwrap().starts_with("hc1-"));
    assert!(!run.stdout().contains("-0.0"));
    let show: serde_json::Value =
        serde_json::from_str(&repo.hybrid(&["show", "hybrid/port", "--json"]).stdout()).unwrap();
    assert_eq!(show["version"], 1);
    assert_eq!(show["files"][0]["path"], "src/port.rs");
    assert_eq!(show["files"][0]["added"], 7);
    assert_eq!(show["files"][0]["lines"][0]["tag"], "+");
    assert_eq!(show["verdicts"][0]["decision"], "approve");
}

/// The commands whose normal and error output the snapshots above do not cover yet.
#[test]
fn every_other_command() {
    use crate::support::anthropic::{FakeAnthropic, Reply};
    let repo = TestRepo::with_generation();
    let snap = |name: &str, run: Run| insta::assert_snapshot!(name, shown(&repo, &run));
    let api = FakeAnthropic::start(vec![Reply::RequestChanges]);
    snap(
        "review_request_changes",
        repo.review(&api, &["hybrid/port"]),
    );
    snap(
        "fix_without_a_model",
        repo.hybrid(&["fix", "hybrid/port", "--route", "local"]),
    );
    let api = FakeAnthropic::start(vec![Reply::Approve]);
    snap("review_approved", repo.review(&api, &["hybrid/port"]));
    snap(
        "fix_already_approved",
        repo.hybrid(&[
            "fix",
            "hybrid/port",
            "--route",
            "local",
            "--backend",
            "openai",
            "--model",
            "m",
        ]),
    );

    repo.write(
        "specs/vague.md",
        "# Improve things\n\nMake the code better and handle errors properly.\n",
    );
    snap(
        "spec_lint_vague",
        repo.hybrid(&["spec", "lint", "specs/vague.md"]),
    );
    snap(
        "implement_vague",
        repo.hybrid(&["implement", "specs/vague.md"]),
    );
    repo.write(
        "specs/add.md",
        "# Add `sub`\n\nIn `src/lib.rs`, add `pub fn sub(a: i32, b: i32) -> i32` returning `a - b`.\n\
         `sub(5, 3)` returns `2`.\n",
    );
    snap(
        "spec_lint_precise",
        repo.hybrid(&["spec", "lint", "specs/add.md"]),
    );
    snap(
        "implement_without_a_model",
        repo.hybrid(&[
            "implement",
            "specs/add.md",
            "--route",
            "local",
            "--no-daemon",
            "--force",
        ]),
    );
    snap(
        "implement_bad_backend",
        repo.hybrid(&[
            "implement",
            "specs/add.md",
            "--route",
            "local",
            "--backend",
            "ollama",
        ]),
    );
    snap("daemon_status_none", repo.hybrid(&["daemon", "status"]));
    snap("model_rm_unknown", repo.hybrid(&["model", "rm", "nothing"]));
    snap(
        "completions_unknown_shell",
        repo.hybrid(&["completions", "tcsh"]),
    );
    snap("uninstall", repo.hybrid(&["uninstall"]));
    snap("install", repo.hybrid(&["install"]));
}

/// `spec new` writes a template that lint refuses until it is filled in.
#[test]
fn spec_new() {
    let repo = TestRepo::new();
    insta::assert_snapshot!(
        "spec_new",
        shown(
            &repo,
            &repo.hybrid(&["spec", "new", "Add sub", "--files", "src/lib.rs,src/ops.rs"])
        )
    );
    let text = std::fs::read_to_string(repo.dir.join(".hybrid/specs/add-sub.md")).unwrap();
    insta::assert_snapshot!("spec_new_template", text);
    repo.hybrid(&["spec", "lint", ".hybrid/specs/add-sub.md"])
        .failure()
        .stdout_has("4 lines still say TODO");
    repo.hybrid(&["spec", "new", "Add sub", "-o", ".hybrid/specs/add-sub.md"])
        .failure()
        .stderr_has("already exists");
}

/// A server's refusal says its real cause: a `.hybrid.toml` the gate cannot use is no
/// "local-model output without a review".
#[test]
fn server_refuses_a_broken_policy_as_what_it_is() {
    let repo = TestRepo::new();
    crate::server::server(&repo);
    repo.git(&["push", "-q", "origin", "main"]);
    repo.write(".hybrid.toml", "[gate]\nprotected = \"not a list\"\n");
    repo.git(&["add", ".hybrid.toml"]);
    // Past every local hook, as a clone without the gate would.
    repo.commit_unhooked("a broken policy");
    let run = repo.try_git(&["push", "-q", "--no-verify", "origin", "main"]);
    let text = shown(&repo, &run);
    assert!(!text.contains("local-model output"), "{text}");
    insta::assert_snapshot!("server_broken_policy", text);
}

/// A review of output that holds a secret approves what was sent and says the redacted line
/// stays unapproved (exit 1); the block that follows says the line held a secret Claude never
/// saw and how to get past, instead of sending the user to a review that would redact it again.
#[test]
fn a_review_with_a_redacted_secret_stays_honest() {
    use crate::support::anthropic::{FakeAnthropic, Reply};
    let repo = TestRepo::new();
    repo.git(&["checkout", "-q", "-b", "hybrid/cfg"]);
    repo.write(
        "src/cfg.rs",
        "pub fn bucket_region(name: &str) -> &'static str {\n    if name.starts_with(\"eu-\") { \"eu-west-1\" } else { \"us-east-1\" }\n}\npub const AWS_KEY: &str = \"AKIAIOSFODNN7EXAMPLE\";\n",
    );
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "config"]);
    repo.hybrid(&["adopt", "hybrid/cfg"]).success();
    repo.git(&["checkout", "-q", "main"]);
    let api = FakeAnthropic::start(vec![Reply::Approve]);
    let snap = |name: &str, run: Run| insta::assert_snapshot!(name, shown(&repo, &run));
    snap("review_with_a_secret", repo.review(&api, &["hybrid/cfg"]));
    snap(
        "blocked_by_a_secret",
        repo.try_git(&["merge", "-q", "--ff-only", "hybrid/cfg"]),
    );
}

/// `--quiet` (anywhere on the line, for every command) leaves out status lines and progress;
/// results, warnings and errors still print.
#[test]
fn quiet_says_only_what_went_wrong() {
    let repo = TestRepo::new();
    repo.git(&["checkout", "-q", "-b", "hybrid/port"]);
    repo.write("src/port.rs", GENERATED);
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "generated"]);
    let adopted = repo.hybrid(&["--quiet", "adopt", "hybrid/port"]);
    adopted.success();
    assert_eq!(adopted.stderr(), "", "{}", adopted.stderr());
    // A result is still a result.
    let pending = repo.hybrid(&["pending", "-q"]);
    pending.success().stdout_has("hybrid/port");
    assert_eq!(pending.stderr(), "");
    // An error still says what went wrong and what to do.
    repo.hybrid(&["-q", "review", "no/such/branch"])
        .failure()
        .stderr_has("hybrid: error:");
    // Without it, adopt says what it recorded.
    repo.git(&["checkout", "-q", "-b", "hybrid/two"]);
    repo.write(
        "src/two.rs",
        "pub fn two_of_them() -> u32 {\n    2 + 0\n}\n",
    );
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "two"]);
    repo.hybrid(&["adopt", "hybrid/two"])
        .success()
        .stderr_has("adopted hybrid/two");
}
