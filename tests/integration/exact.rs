//! A generation's change itself is gated, and what covers it is exact. Fingerprints cannot see
//! output made of short lines, a whitespace-only change, a deletion, or approved lines put in
//! another order; each generation therefore records its edits (every line it added or removed,
//! with the lines on either side), and a protected update that brings one of them back — by
//! merge, cherry-pick, squash, or a patch typed again — needs an approval whose request carried
//! that very edit. Locally, on a gated server, and in CI's fresh clone.

use crate::records::in_dir;
use crate::server::server;
use crate::support::anthropic::{FakeAnthropic, Reply};
use crate::support::{Run, TestRepo};

/// Commits `files` on a new `hybrid/<name>` from `from` and adopts the branch as local output.
fn generation(repo: &TestRepo, name: &str, from: &str, files: &[(&str, &str)]) {
    let branch = format!("hybrid/{name}");
    repo.git(&["checkout", "-q", "-b", &branch, from]);
    for (path, content) in files {
        repo.write(path, content);
    }
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", &format!("{name} (generated)")]);
    repo.hybrid(&["adopt", &branch, "--model", "qwen"])
        .success();
    repo.git(&["checkout", "-q", "main"]);
}

/// Commits `files` on main as a person would (the hooks run).
fn human(repo: &TestRepo, message: &str, files: &[(&str, &str)]) {
    for (path, content) in files {
        repo.write(path, content);
    }
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", message]);
}

/// A generation approved by a review and merged into main.
fn approved_and_merged(repo: &TestRepo, name: &str, files: &[(&str, &str)]) {
    generation(repo, name, "main", files);
    let api = FakeAnthropic::start(vec![Reply::Approve]);
    repo.review(&api, &[&format!("hybrid/{name}")]).success();
    repo.git(&["merge", "-q", "--ff-only", &format!("hybrid/{name}")]);
}

#[track_caller]
fn refused(run: &Run, file: &str) {
    run.failure()
        .stderr_has("of unreviewed local-model output")
        .stderr_has(file);
}

/// Undoes what a refused merge or cherry-pick left in the working tree and index.
fn clean(repo: &TestRepo) {
    let _ = repo.try_git(&["cherry-pick", "--abort"]);
    repo.git(&["reset", "-q", "--hard"]);
}

const CHECK: &str = "\
def withdraw(user, account, amount):
    if not user.owns(account):
        raise PermissionError(\"not your account\")
    account.balance -= amount
    return account.balance
";

#[test]
fn output_made_only_of_short_lines_is_gated_by_its_change() {
    let repo = TestRepo::new();
    human(&repo, "a module", &[("app.py", CHECK)]);
    let short = format!("{CHECK}\ndef f():\n    return 1\n");
    generation(&repo, "short", "main", &[("app.py", &short)]);
    // Nothing in it has a fingerprint; adopt says what it recorded and that it is gated.
    let main = repo.rev("main");
    refused(
        &repo.try_git(&["merge", "--ff-only", "hybrid/short"]),
        "app.py",
    );
    clean(&repo);
    // Siblings: a cherry-pick onto a main that moved on, a squash merge, the patch typed again.
    human(
        &repo,
        "docs",
        &[("README.md", "# project\n\nMore words.\n")],
    );
    let moved = repo.rev("main");
    refused(&repo.try_git(&["cherry-pick", "hybrid/short"]), "app.py");
    clean(&repo);
    repo.git(&["merge", "-q", "--squash", "hybrid/short"]);
    refused(&repo.try_git(&["commit", "-q", "-m", "squashed"]), "app.py");
    clean(&repo);
    repo.write("app.py", &short);
    repo.git(&["add", "app.py"]);
    refused(
        &repo.try_git(&["commit", "-q", "-m", "typed it myself"]),
        "app.py",
    );
    clean(&repo);
    // Mailed as a patch and applied with `git am`: the same edits reach main.
    let patch = repo.home().join("short.patch");
    std::fs::create_dir_all(repo.home()).unwrap();
    std::fs::write(
        &patch,
        repo.git(&["format-patch", "--stdout", "-1", "hybrid/short"]),
    )
    .unwrap();
    refused(
        &repo.try_git(&["am", "-q", patch.to_str().unwrap()]),
        "app.py",
    );
    let _ = repo.try_git(&["am", "--abort"]);
    clean(&repo);
    assert_eq!(repo.rev("main"), moved);
    assert_ne!(main, moved);
    // Not a false alarm on people: the same short lines elsewhere, between other lines.
    human(
        &repo,
        "a human's short function",
        &[("other.py", "import os\n\ndef f():\n    return 1\n")],
    );
    // The review approves what it was sent: the same change then lands.
    let api = FakeAnthropic::start(vec![Reply::Approve]);
    repo.review(&api, &["hybrid/short"]).success();
    repo.git(&["merge", "-q", "--no-edit", "hybrid/short"]);
}

#[test]
fn a_whitespace_only_change_to_approved_output_is_new_output() {
    let repo = TestRepo::new();
    let script = "#!/bin/sh\nD=/srv/app\nrm -rf $D/tmp\necho cleaned\n";
    approved_and_merged(&repo, "clean", &[("clean.sh", script)]);
    // One space: `rm -rf $D /tmp`. Every fingerprint stays the same.
    let spaced = script.replace("$D/tmp", "$D /tmp");
    generation(&repo, "spaced", "main", &[("clean.sh", &spaced)]);
    refused(
        &repo.try_git(&["merge", "--ff-only", "hybrid/spaced"]),
        "clean.sh",
    );
    clean(&repo);
    // A tab instead, typed by hand from the generation in its place: the same edit arrives,
    // unapproved.
    let tabbed = script.replace("$D/tmp", "$D\t/tmp");
    generation(&repo, "tabbed", "main", &[("clean.sh", &tabbed)]);
    repo.write("clean.sh", &tabbed);
    repo.git(&["add", "clean.sh"]);
    refused(
        &repo.try_git(&["commit", "-q", "-m", "retyped"]),
        "clean.sh",
    );
    clean(&repo);
    // The one line alone in another file is no evidence that the generation arrived: a lone
    // line a person can type as easily (gate::evidence).
    human(
        &repo,
        "one line elsewhere",
        &[("elsewhere.sh", "rm -rf $D\t/tmp\n")],
    );
    // The approved line itself, as it was sent, still lands anywhere.
    human(&repo, "same line", &[("again.sh", "rm -rf $D/tmp\n")]);
}

#[test]
fn a_generation_that_only_deletes_lines_is_gated() {
    let repo = TestRepo::new();
    human(&repo, "a module", &[("app.py", CHECK)]);
    let unchecked = CHECK
        .replace("    if not user.owns(account):\n", "")
        .replace("        raise PermissionError(\"not your account\")\n", "");
    generation(&repo, "unchecked", "main", &[("app.py", &unchecked)]);
    refused(
        &repo.try_git(&["merge", "--ff-only", "hybrid/unchecked"]),
        "app.py (removed)",
    );
    clean(&repo);
    // verify says the same, with the lines as the old file numbers them.
    repo.hybrid(&["verify", "main..hybrid/unchecked"])
        .failure()
        .stdout_has("app.py (removed): 2 lines (2-3)");
    // A person deleting an unrelated line is not output.
    human(
        &repo,
        "tidy",
        &[("app.py", &CHECK.replace("    return account.balance\n", ""))],
    );
}

#[test]
fn approved_lines_put_in_another_order_are_new_output() {
    let repo = TestRepo::new();
    let ordered = "\
def transfer(source, target, amount):
    check_balance(source, amount)
    debit(source, amount)
    credit(target, amount)
";
    approved_and_merged(&repo, "transfer", &[("bank.py", ordered)]);
    // Every line approved, in an order no review saw: the check after the money moved.
    let reordered = "\
def transfer(source, target, amount):
    debit(source, amount)
    credit(target, amount)
    check_balance(source, amount)
";
    generation(&repo, "reorder", "main", &[("bank.py", reordered)]);
    refused(
        &repo.try_git(&["merge", "--ff-only", "hybrid/reorder"]),
        "bank.py",
    );
    clean(&repo);
    let api = FakeAnthropic::start(vec![Reply::Approve]);
    repo.review(&api, &["hybrid/reorder"]).success();
    repo.git(&["merge", "-q", "--ff-only", "hybrid/reorder"]);
}

/// The server and CI judge a generation's change from its records alone.
#[test]
fn the_server_and_a_fresh_clone_gate_a_generations_change() {
    let repo = TestRepo::new();
    human(&repo, "a module", &[("app.py", CHECK)]);
    let remote = server(&repo);
    repo.git(&["push", "-q", "origin", "main"]);
    let unchecked = CHECK.replace("    if not user.owns(account):\n", "");
    let short = format!("{unchecked}\ndef f():\n    return 1\n");
    generation(&repo, "both", "main", &[("app.py", &short)]);
    repo.git(&["push", "-q", "origin", "hybrid/both"]);
    let pushed = repo.try_git(&["push", "--no-verify", "origin", "hybrid/both:main"]);
    pushed
        .failure()
        .stderr_has("remote: hybrid: this server's gate refused the push")
        .stderr_has("app.py");
    // CI: a fresh clone with the records fetched fails the range.
    let ci = repo.home().join("ci");
    repo.git(&[
        "clone",
        "-q",
        remote.to_str().unwrap(),
        ci.to_str().unwrap(),
    ]);
    in_dir(&repo, &ci, &["hybrid", "install"]).success();
    in_dir(
        &repo,
        &ci,
        &["hybrid", "verify", "origin/main..origin/hybrid/both"],
    )
    .failure()
    .stdout_has("app.py (removed)")
    .stdout_has("app.py: 2 lines");
    // Once reviewed, both let it through.
    let api = FakeAnthropic::start(vec![Reply::Approve]);
    repo.review(&api, &["hybrid/both"]).success();
    repo.git(&["push", "-q", "origin", "hybrid/both:main"]);
    in_dir(&repo, &ci, &["fetch", "-q"]).success();
    in_dir(
        &repo,
        &ci,
        &["hybrid", "verify", "origin/main~1..origin/main"],
    )
    .success();
}
