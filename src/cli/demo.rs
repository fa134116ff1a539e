//! `git hybrid demo`: the whole loop in a throwaway repository, with the real tools — spec, lint,
//! implement with the local model, the gate blocking the merge, and (with ANTHROPIC_API_KEY) the
//! review that opens it. Every step is a real command, printed before it runs.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::Status;
use crate::error::CommandError;
use crate::ui;

/// Runs the hybrid workflow end to end in a temporary repository and shows each step.
///
/// Needs a local model (`git hybrid model add`, or --model PATH). With ANTHROPIC_API_KEY set,
/// Claude reviews the result; without it, the demo stops at the gate.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The local model: a registered name or a GGUF path [default: the registry's default]
    #[arg(long)]
    model: Option<String>,
    /// Keep the demo repository instead of deleting it
    #[arg(long)]
    keep: bool,
}

const LIB: &str = "//! A tiny service configuration library.\n\n/// The default port when none is configured.\npub const DEFAULT_PORT: u16 = 8080;\n";

const SPEC: &str = "# Add port parsing\n\n## Goal\n\nParse a port number given by the user.\n\n## Files to touch\n\n- create src/port.rs (follow the crate root's style)\n\n## Signatures\n\n`pub fn parse_port(value: &str) -> Result<u16, String>`\n\n## Requirements\n\n- trim whitespace; an empty value is an error \"port must not be empty\"\n- a value above 65535 or 0 is an error \"port out of range\"\n\n## Tests\n\n- `parse_port(\"8080\")` returns `Ok(8080)`\n- `parse_port(\"\")` returns `Err(\"port must not be empty\")`\n";

struct Demo {
    dir: PathBuf,
    path: std::ffi::OsString,
}

impl Demo {
    /// Runs one step: prints it, runs it, shows its output; returns whether it succeeded.
    fn step(&self, title: &str, args: &[&str]) -> Result<bool, CommandError> {
        ui::say(format!("── {title}: git {}", args.join(" ")));
        let out = self.git(args).output()?;
        for line in String::from_utf8_lossy(&out.stdout)
            .lines()
            .chain(String::from_utf8_lossy(&out.stderr).lines())
        {
            eprintln!("   {line}");
        }
        Ok(out.status.success())
    }

    /// Runs git without showing it; returns whether it succeeded.
    fn quietly(&self, args: &[&str]) -> Result<bool, CommandError> {
        Ok(self.git(args).output()?.status.success())
    }

    fn git(&self, args: &[&str]) -> Command {
        let mut git = Command::new("git");
        git.args(args)
            .current_dir(&self.dir)
            .env("PATH", &self.path)
            .env("GIT_AUTHOR_NAME", "Demo Human")
            .env("GIT_AUTHOR_EMAIL", "demo@example.com")
            .env("GIT_COMMITTER_NAME", "Demo Human")
            .env("GIT_COMMITTER_EMAIL", "demo@example.com");
        git
    }

    fn write(&self, rel: &str, text: &str) -> Result<(), CommandError> {
        let path = self.dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, text)?;
        Ok(())
    }
}

pub fn run(args: Args) -> Result<Status, CommandError> {
    // The model first: without one there is no demo, and nothing should be set up for nothing.
    let model = crate::local::models::Registry::resolve(args.model.as_deref())?;
    let root = tempfile::Builder::new()
        .prefix("git-hybrid-demo")
        .tempdir()?;
    let dir = root.path().join("project");
    std::fs::create_dir_all(&dir)?;
    // The hooks must find this very binary.
    let exe = std::env::current_exe()?;
    let mut paths = vec![exe.parent().unwrap_or(Path::new(".")).to_path_buf()];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let demo = Demo {
        dir: dir.clone(),
        path: std::env::join_paths(paths).map_err(|e| CommandError::internal(e.to_string()))?,
    };
    ui::say(format!("demo repository: {}", dir.display()));
    let ok = |done: bool, what: &str| {
        if done {
            Ok(())
        } else {
            Err(CommandError::user(format!(
                "the demo stopped: {what} failed (output above)"
            )))
        }
    };
    ok(
        demo.step("a repository", &["init", "-q", "-b", "main"])?,
        "git init",
    )?;
    demo.write("src/lib.rs", LIB)?;
    ok(demo.step("a human commit", &["add", "."])?, "git add")?;
    ok(
        demo.step(
            "a human commit",
            &["commit", "-q", "-m", "library skeleton"],
        )?,
        "commit",
    )?;
    ok(demo.step("the gate", &["hybrid", "install"])?, "install")?;
    let have_key = std::env::var_os("ANTHROPIC_API_KEY").is_some_and(|k| !k.is_empty());
    let spec = ".hybrid/specs/add-port-parsing.md";
    if have_key {
        ok(
            demo.step(
                "Claude writes the spec",
                &[
                    "hybrid",
                    "spec",
                    "Add a parse_port function for user-given port numbers",
                    "--files",
                    "src/lib.rs",
                    "-o",
                    spec,
                ],
            )?,
            "spec",
        )?;
    } else {
        ui::say("── the spec: no ANTHROPIC_API_KEY, so the bundled example spec is used");
        demo.write(spec, SPEC)?;
    }
    ok(
        demo.step(
            "the spec is precise enough",
            &["hybrid", "spec", "lint", spec],
        )?,
        "spec lint",
    )?;
    let model = model.display().to_string();
    let branch = "hybrid/add-port-parsing";
    let implemented = demo.step(
        "the local model implements it",
        &[
            "hybrid",
            "implement",
            spec,
            "--model",
            &model,
            "--route",
            "local",
            "--no-daemon",
            "--force",
        ],
    )?;
    // A small model's answer may fail the spec's examples: the branch is still made (and the
    // gate must still hold it), so the loop goes on — the review is told the check failed.
    if !implemented {
        ok(
            demo.quietly(&["rev-parse", "--verify", "-q", branch])?,
            "implement",
        )?;
        ui::say(
            "── the answer still fails the spec's examples: the branch is kept for the review to judge",
        );
    }
    demo.step(
        "what it wrote",
        &["log", "--all", "--oneline", "--decorate"],
    )?;
    demo.step("what is unreviewed", &["hybrid", "pending"])?;
    let merged = demo.step("merging it unreviewed", &["merge", "--ff-only", branch])?;
    if merged {
        return Err(CommandError::internal(
            "the gate let unreviewed local output through: this is a bug",
        ));
    }
    ui::say("── the gate blocked the merge, as it must");
    demo.step(
        "tidy up after the refused merge",
        &["reset", "-q", "--hard"],
    )?;
    if have_key {
        let approved = demo.step("Claude reviews it", &["hybrid", "review", branch])?;
        if approved {
            ok(
                demo.step(
                    "merging the approved change",
                    &["merge", "--ff-only", branch],
                )?,
                "merge",
            )?;
        } else {
            demo.step(
                "fixing the findings",
                &["hybrid", "fix", branch, "--model", &model],
            )?;
        }
        demo.step("what it cost", &["hybrid", "stats"])?;
    } else {
        ui::say("── set ANTHROPIC_API_KEY to see Claude review it and the gate open");
    }
    if args.keep {
        let kept = root.keep();
        ui::say(format!("kept {}", kept.join("project").display()));
    }
    ui::say("demo done");
    Ok(Status::Ok)
}
