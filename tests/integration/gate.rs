//! The gate's rule through every path to a protected ref (issue: "Must hold").

use crate::support::{GENERATED, TestRepo};

/// Asserts that main did not move.
#[track_caller]
fn main_unmoved(repo: &TestRepo, before: &str) {
    assert_eq!(
        repo.rev("refs/heads/main"),
        before,
        "main must stay where it was"
    );
}

#[test]
fn merge_ff_only_is_blocked() {
    let repo = TestRepo::with_generation();
    let before = repo.rev("main");
    repo.try_git(&["merge", "--ff-only", "hybrid/port"])
        .blocked();
    main_unmoved(&repo, &before);
}

#[test]
fn merge_no_ff_is_blocked() {
    let repo = TestRepo::with_generation();
    let before = repo.rev("main");
    repo.try_git(&["merge", "--no-ff", "-m", "merge", "hybrid/port"])
        .blocked();
    main_unmoved(&repo, &before);
}

#[test]
fn merge_no_ff_no_verify_is_still_blocked() {
    let repo = TestRepo::with_generation();
    let before = repo.rev("main");
    repo.try_git(&["merge", "--no-ff", "--no-verify", "-m", "m", "hybrid/port"])
        .blocked();
    main_unmoved(&repo, &before);
}

#[test]
fn cherry_pick_is_blocked() {
    let repo = TestRepo::with_generation();
    let before = repo.rev("main");
    repo.try_git(&["cherry-pick", "hybrid/port"]).blocked();
    main_unmoved(&repo, &before);
}

#[test]
fn rebase_is_blocked() {
    let repo = TestRepo::with_generation();
    repo.write("NOTES.md", "a human note on main\n");
    repo.git(&["add", "NOTES.md"]);
    repo.git(&["commit", "-q", "-m", "human note"]);
    let before = repo.rev("main");
    repo.try_git(&["rebase", "hybrid/port"]).blocked();
    main_unmoved(&repo, &before);
}

#[test]
fn reset_hard_is_blocked() {
    let repo = TestRepo::with_generation();
    let before = repo.rev("main");
    repo.try_git(&["reset", "--hard", "hybrid/port"]).blocked();
    main_unmoved(&repo, &before);
}

#[test]
fn update_ref_and_branch_force_are_blocked() {
    let repo = TestRepo::with_generation();
    let before = repo.rev("main");
    let generated = repo.rev("hybrid/port");
    repo.try_git(&["update-ref", "refs/heads/main", &generated])
        .blocked();
    repo.try_git(&["branch", "-f", "release", "hybrid/port"])
        .blocked();
    repo.try_git(&["tag", "v1", "hybrid/port"]).blocked();
    main_unmoved(&repo, &before);
    assert!(
        repo.try_git(&["rev-parse", "--verify", "-q", "release"])
            .code()
            != Some(0)
    );
}

/// Puts the generated file into the working tree of main, as a user copying it over would.
fn copy_generated(repo: &TestRepo) {
    repo.write("src/port.rs", GENERATED);
}

#[test]
fn commit_is_blocked() {
    let repo = TestRepo::with_generation();
    let before = repo.rev("main");
    copy_generated(&repo);
    repo.git(&["add", "src/port.rs"]);
    repo.try_git(&["commit", "-q", "-m", "port"]).blocked();
    main_unmoved(&repo, &before);
}

#[test]
fn commit_no_verify_is_blocked() {
    let repo = TestRepo::with_generation();
    let before = repo.rev("main");
    copy_generated(&repo);
    repo.git(&["add", "src/port.rs"]);
    repo.try_git(&["commit", "-q", "--no-verify", "-m", "port"])
        .blocked();
    main_unmoved(&repo, &before);
}

#[test]
fn commit_all_is_blocked() {
    let repo = TestRepo::with_generation();
    let before = repo.rev("main");
    // A tracked file edited in place: only `commit -a` stages it.
    repo.write(
        "src/lib.rs",
        format!("pub fn add(a: i32, b: i32) -> i32 {{\n    a + b\n}}\n{GENERATED}"),
    );
    let run = repo.try_git(&["commit", "-q", "-a", "-m", "port"]);
    run.blocked();
    // The pre-commit hook saw it (not only reference-transaction): the index lock's content.
    assert_eq!(
        repo.count("SELECT COUNT(*) FROM events WHERE hook = 'pre-commit' AND decision = 'block'"),
        1
    );
    main_unmoved(&repo, &before);
}

#[test]
fn commit_with_pathspec_uses_the_temporary_index() {
    let repo = TestRepo::with_generation();
    let before = repo.rev("main");
    repo.write(
        "src/lib.rs",
        format!("pub fn add(a: i32, b: i32) -> i32 {{\n    a + b\n}}\n{GENERATED}"),
    );
    repo.write("README.md", "# project\n\nA human edited this.\n");
    repo.git(&["add", "README.md"]);
    // `commit -- path` builds a temporary index (GIT_INDEX_FILE) holding only that path.
    repo.try_git(&["commit", "-q", "-m", "port", "--", "src/lib.rs"])
        .blocked();
    assert_eq!(
        repo.count("SELECT COUNT(*) FROM events WHERE hook = 'pre-commit' AND decision = 'block'"),
        1
    );
    main_unmoved(&repo, &before);
    // The human path alone goes through.
    repo.git(&["commit", "-q", "-m", "readme", "--", "README.md"]);
}

#[test]
fn pasted_lines_with_other_indentation_are_blocked() {
    let repo = TestRepo::with_generation();
    let before = repo.rev("main");
    let pasted: String = GENERATED
        .lines()
        .skip(1)
        .take(5)
        .map(|l| format!("\t\t{}\n", l.trim()))
        .collect();
    repo.write(
        "src/config.rs",
        format!("pub fn load(value: &str) -> Result<u16, String> {{\n{pasted}}}\n"),
    );
    repo.git(&["add", "src/config.rs"]);
    let run = repo.try_git(&["commit", "-q", "-m", "config"]);
    run.blocked().stderr_has("src/config.rs");
    main_unmoved(&repo, &before);
}

/// Evidence, not coincidence: one line a generation happened to write, typed into a human
/// commit elsewhere, is not output arriving. Three of its lines together are, and so is output
/// brought two lines at a time once the pieces meet.
#[test]
fn a_lone_line_of_a_generation_passes_and_a_block_of_three_is_blocked() {
    let repo = TestRepo::with_generation();
    let line = |n: usize| GENERATED.lines().nth(n).unwrap().trim().to_string();
    repo.write(
        "src/other.rs",
        format!(
            "fn helper(value: &str) {{\n    {}\n    println!(\"{{trimmed}}\");\n}}\n",
            line(1)
        ),
    );
    repo.git(&["add", "src/other.rs"]);
    repo.git(&["commit", "-q", "-m", "one common line"]);
    // Said as what it is: a line like the output, judged not to arrive.
    repo.hybrid(&["verify", "HEAD~1..HEAD"])
        .success()
        .stdout_has("no local output arrives (1 line only resembles it)");
    // The next two lines of the generation, right after the first: three in a row now.
    let before = repo.rev("main");
    repo.write(
        "src/other.rs",
        format!(
            "fn helper(value: &str) {{\n    {}\n    {}\n        {}\n    }}\n    println!(\"{{trimmed}}\");\n}}\n",
            line(1),
            line(2),
            line(3)
        ),
    );
    repo.try_git(&["commit", "-q", "-a", "-m", "two more lines"])
        .blocked()
        .stderr_has("src/other.rs");
    main_unmoved(&repo, &before);
    repo.git(&["checkout", "-q", "--", "."]);
    // Three lines in a row in a file of their own, the same.
    let block: String = (1..=3).map(|n| format!("{}\n", line(n))).collect();
    repo.write("src/block.rs", block);
    repo.git(&["add", "src/block.rs"]);
    repo.try_git(&["commit", "-q", "-m", "block"]).blocked();
    main_unmoved(&repo, &before);
}

/// Output brought two lines at a time, each piece kept apart by lines of one's own, never makes
/// a run of three: once the file holds six of the generation's lines, the piece that brings the
/// sixth is blocked.
#[test]
fn output_brought_in_pieces_kept_apart_is_blocked_once_they_add_up() {
    let repo = TestRepo::new();
    let output: Vec<String> = (0..8)
        .map(|i| {
            format!("    total_{i} = compute_weighted_score(values, factor={i}, floor=0.{i})\n")
        })
        .collect();
    repo.git(&["checkout", "-q", "-b", "hybrid/wide"]);
    repo.write(
        "src/score.py",
        format!("def score(values):\n{}", output.concat()),
    );
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "generated"]);
    repo.hybrid(&["adopt", "hybrid/wide"]).success();
    repo.git(&["checkout", "-q", "main"]);
    let mut body = String::from("def mine(values):\n");
    for (n, piece) in output.chunks(2).enumerate().take(3) {
        body.push_str(&format!(
            "    note_{n} = describe_my_own_reasoning(values, step={n})\n"
        ));
        body.push_str(&piece.concat());
        repo.write("src/mine.py", &body);
        repo.git(&["add", "."]);
        let run = repo.try_git(&["commit", "-q", "-m", "a piece"]);
        if n < 2 {
            run.success();
        } else {
            run.blocked_by("hybrid/wide").stderr_has("src/mine.py");
        }
    }
}

/// Lines the destination already shows exactly, in any file, are not output arriving: a block
/// copied or moved from one file of main to another passes, even when it was output that reached
/// main by a path no hook saw. Re-indented, it is new text and still blocked.
#[test]
fn lines_main_already_shows_exactly_are_not_output_arriving() {
    let repo = TestRepo::with_generation();
    repo.write("src/port.rs", GENERATED);
    repo.git(&["add", "src/port.rs"]);
    repo.commit_unhooked("output by a path no hook saw");
    repo.write("src/copy.rs", GENERATED);
    repo.git(&["add", "src/copy.rs"]);
    repo.git(&["commit", "-q", "-m", "the same block, copied"]);
    let before = repo.rev("main");
    let indented: String = GENERATED.lines().map(|l| format!("    {l}\n")).collect();
    repo.write("src/indented.rs", indented);
    repo.git(&["add", "src/indented.rs"]);
    repo.try_git(&["commit", "-q", "-m", "re-indented"])
        .blocked()
        .stderr_has("src/indented.rs");
    main_unmoved(&repo, &before);
}

/// What main already shows is no evidence either: output that reached main by a path no hook
/// saw, copied whole into the documentation, does not make a lone line of it elsewhere in the
/// same commit (`let trimmed = value.trim();`, re-indented in a person's own function) count as
/// the generation arriving.
#[test]
fn output_main_shows_copied_into_docs_is_no_evidence_for_a_lone_line() {
    let repo = TestRepo::with_generation();
    repo.write("src/port.rs", GENERATED);
    repo.git(&["add", "src/port.rs"]);
    repo.commit_unhooked("output by a path no hook saw");
    repo.write(
        "docs/ports.md",
        format!("# Ports\n\n```rust\n{GENERATED}```\n"),
    );
    repo.write(
        "src/other.rs",
        "fn width(value: &str) -> usize {\n  let trimmed = value.trim();\n  trimmed.len()\n}\n",
    );
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "document parse_port"]);
    assert_eq!(
        repo.git(&["log", "-1", "--format=%s"]).trim(),
        "document parse_port"
    );
}

/// One line put back beside a generation's lines (a comment restored, a line re-added) is a
/// one-line paste at most, and passes; two lines brought together into its run are a paste.
#[test]
fn one_line_restored_beside_a_generations_lines_passes_and_two_are_blocked() {
    let repo = TestRepo::with_generation();
    let lines: Vec<&str> = GENERATED.lines().collect();
    let without = |skip: &[usize]| -> String {
        lines
            .iter()
            .enumerate()
            .filter(|(i, _)| !skip.contains(i))
            .map(|(_, l)| format!("{l}\n"))
            .collect()
    };
    // The output reached main by a path no hook saw, less two of its lines.
    repo.write("src/port.rs", without(&[1, 3]));
    repo.git(&["add", "src/port.rs"]);
    repo.commit_unhooked("output, less two lines");
    // One of them put back: passes.
    repo.write("src/port.rs", without(&[1]));
    repo.git(&["commit", "-q", "-a", "-m", "restore the early return"]);
    // Both brought back at once: a run the commit brings two lines of.
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    let before = repo.rev("main");
    repo.write("src/port.rs", GENERATED);
    repo.try_git(&["commit", "-q", "-a", "-m", "restore both"])
        .blocked()
        .stderr_has("src/port.rs");
    main_unmoved(&repo, &before);
}

/// A generation's deletion arrives when the line is gone from the result: moving the block the
/// line sits in elsewhere is not that deletion (a person's block move), deleting it is.
#[test]
fn moving_a_block_holding_a_line_a_generation_deleted_passes_and_deleting_it_is_blocked() {
    let repo = TestRepo::new();
    let file = |lines: &[&str]| -> String { lines.iter().map(|l| format!("{l}\n")).collect() };
    let check = "    require_admin_session(request, audit_log=True)";
    let delete = [
        "def delete_account(request):",
        check,
        "    account = load_account(request.user_id)",
        "    account.delete()",
    ];
    let export = [
        "def export_account(request):",
        "    account = load_account(request.user_id)",
        "    records = account.collect_records(include_archived=True)",
        "    archive = build_archive(records, compression=\"zip\")",
        "    notify_owner(account.owner_email, archive.size_bytes)",
        "    return archive.download_link(expires_in_hours=24)",
    ];
    repo.write(
        "app/views.py",
        file(&[&delete[..], &[""], &export[..]].concat()),
    );
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "views"]);
    repo.git(&["checkout", "-q", "-b", "hybrid/cleanup"]);
    let unchecked: Vec<&str> = delete.iter().copied().filter(|l| *l != check).collect();
    repo.write(
        "app/views.py",
        file(&[&unchecked[..], &[""], &export[..]].concat()),
    );
    repo.git(&["commit", "-q", "-a", "-m", "generated: drop the check"]);
    repo.hybrid(&["adopt", "hybrid/cleanup"]).success();
    repo.git(&["checkout", "-q", "main"]);
    // A person moves delete_account, check and all, below export_account: the check line is
    // removed from between the neighbours the generation removed it from, in a block that is
    // added again whole.
    repo.write(
        "app/views.py",
        file(&[&export[..], &[""], &delete[..]].concat()),
    );
    repo.git(&["commit", "-q", "-a", "-m", "export first"]);
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    // The same move with the check left out of the block and put back somewhere else, away
    // from its neighbours: delete_account loses it, which is the generation's deletion.
    let before = repo.rev("main");
    let mut export_checked = export.to_vec();
    export_checked.insert(5, check);
    repo.write(
        "app/views.py",
        file(&[&export_checked[..], &[""], &unchecked[..]].concat()),
    );
    repo.try_git(&["commit", "-q", "-a", "-m", "export first, check moved"])
        .blocked_by("hybrid/cleanup")
        .stderr_has("app/views.py (removed)");
    main_unmoved(&repo, &before);
    repo.git(&["reset", "-q", "--hard"]);
    // The generation's deletion itself, re-done by hand or cherry-picked: blocked.
    repo.try_git(&["cherry-pick", "hybrid/cleanup"])
        .blocked_by("hybrid/cleanup")
        .stderr_has("app/views.py");
}

#[test]
fn human_commits_are_allowed() {
    let repo = TestRepo::with_generation();
    repo.write(
        "src/math.rs",
        "pub fn multiply(left: i64, right: i64) -> i64 {\n    left * right\n}\n",
    );
    repo.git(&["add", "src/math.rs"]);
    repo.git(&["commit", "-q", "-m", "human math"]);
    repo.write(
        "src/math.rs",
        "pub fn multiply(left: i64, right: i64) -> i64 {\n    left.saturating_mul(right)\n}\n",
    );
    repo.git(&["commit", "-q", "-a", "-m", "human fix"]);
    assert_eq!(
        repo.count("SELECT COUNT(*) FROM events WHERE decision = 'block'"),
        0
    );
    assert!(repo.count("SELECT COUNT(*) FROM events WHERE decision = 'allow'") >= 4);
}

#[test]
fn commits_on_quarantine_branches_are_allowed() {
    let repo = TestRepo::with_generation();
    repo.git(&["checkout", "-q", "hybrid/port"]);
    repo.write(
        "src/port.rs",
        format!("{GENERATED}\n// more generated work follows here\n"),
    );
    repo.git(&["commit", "-q", "-a", "-m", "more"]);
    repo.git(&["checkout", "-q", "-b", "hybrid/other"]);
    repo.write("src/other.rs", GENERATED);
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "copy"]);
    repo.git(&["reset", "-q", "--hard", "hybrid/port"]);
}

#[test]
fn merging_a_human_branch_is_allowed() {
    let repo = TestRepo::with_generation();
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write(
        "src/feature.rs",
        "pub fn feature_enabled() -> bool {\n    std::env::var(\"FEATURE\").is_ok()\n}\n",
    );
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "feature"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["merge", "-q", "--no-ff", "-m", "merge feature", "feature"]);
    repo.git(&["checkout", "-q", "-b", "feature2"]);
    repo.write("docs.md", "more human docs here\n");
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "docs"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["merge", "-q", "--ff-only", "feature2"]);
}

#[test]
fn first_commit_on_an_unborn_branch_is_allowed() {
    let repo = TestRepo::bare_init();
    repo.hybrid(&["install"]).success();
    repo.write("a.txt", "the very first human line in this repository\n");
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "root"]);
    // And an orphan branch's first commit once local output exists.
    let repo = TestRepo::with_generation();
    repo.git(&["checkout", "-q", "--orphan", "pages"]);
    repo.git(&["rm", "-rq", "--cached", "."]);
    repo.write(
        "index.html",
        "<html><body>hand written page</body></html>\n",
    );
    repo.git(&["add", "index.html"]);
    repo.git(&["commit", "-q", "-m", "pages root"]);
}

#[test]
fn detached_head_work_is_allowed_until_it_reaches_a_protected_ref() {
    let repo = TestRepo::with_generation();
    repo.git(&["checkout", "-q", "--detach", "hybrid/port"]);
    repo.write(
        "src/port.rs",
        format!("{GENERATED}// detached tweak by a human\n"),
    );
    repo.git(&["commit", "-q", "-a", "-m", "detached"]);
    let before = repo.rev("main");
    repo.try_git(&["branch", "-f", "main", "HEAD"]).blocked();
    main_unmoved(&repo, &before);
}

#[test]
fn pushes_to_protected_remote_refs_are_blocked() {
    let repo = TestRepo::with_generation();
    let remote = repo.home().join("remote.git");
    std::fs::create_dir_all(&remote).unwrap();
    repo.git_in(&remote, &["init", "-q", "--bare"]).success();
    let url = remote.to_str().unwrap();
    repo.git(&["push", "-q", url, "main"]);
    repo.try_git(&["push", "-q", url, "hybrid/port:main"])
        .blocked();
    repo.try_git(&["push", "-q", url, "hybrid/port:refs/heads/feature"])
        .blocked();
    // The quarantine branch itself may travel.
    repo.git(&["push", "-q", url, "hybrid/port"]);
}

#[test]
fn verify_reports_and_fails_on_uncovered_output() {
    let repo = TestRepo::with_generation();
    let run = repo.hybrid(&["verify", "--json", "main..hybrid/port"]);
    assert_eq!(run.code(), Some(1), "{}", run.stderr());
    let json: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(json["decision"], "block");
    assert_eq!(json["uncovered"][0]["model"], "qwen2.5-coder-7b");
    assert_eq!(json["uncovered"][0]["files"][0]["path"], "src/port.rs");
    assert_eq!(
        json["uncovered"][0]["files"][0]["lines"]
            .as_array()
            .unwrap()
            .len(),
        7
    );
    assert!(json["change_id"].as_str().unwrap().starts_with("hc1-"));

    repo.hybrid(&["verify", "HEAD~0"])
        .success()
        .stdout_has("ok:");
    // The verdict is the command's result: on stdout, as git prints results.
    repo.hybrid(&["verify", "main..hybrid/port"])
        .failure()
        .stdout_has("blocked: main..hybrid/port")
        .stdout_has("git hybrid review hybrid/port")
        .stderr_lacks("blocked");
}

#[test]
fn verify_reads_three_dot_ranges_as_git_does() {
    let repo = TestRepo::with_generation();
    // main moves on with a human commit after the quarantine branch left it.
    repo.git(&["checkout", "-q", "main"]);
    repo.write(
        "NOTES.md",
        "A human note, written after the branch left main.\n",
    );
    repo.git(&["add", "NOTES.md"]);
    repo.git(&["commit", "-q", "-m", "notes"]);
    // `main...hybrid/port`: the branch against its merge-base with main, so the output alone.
    let run = repo.hybrid(&["verify", "--json", "main...hybrid/port"]);
    assert_eq!(run.code(), Some(1), "{}", run.stderr());
    let json: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(json["uncovered"][0]["files"][0]["path"], "src/port.rs");
    // The other way round: main's own work since the branch left, which is human.
    repo.hybrid(&["verify", "hybrid/port...main"])
        .success()
        .stdout_has("ok:");
    // An empty side is HEAD, as in git (HEAD is main here).
    repo.hybrid(&["verify", "hybrid/port..."])
        .success()
        .stdout_has("ok:");
    // A side that names nothing is named in the error.
    repo.hybrid(&["verify", "main...no-such-branch"])
        .failure()
        .stderr_has("no-such-branch");
}

#[test]
fn pending_lists_generations() {
    let repo = TestRepo::with_generation();
    let run = repo.hybrid(&["pending", "--json"]);
    run.success();
    let json: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(json[0]["branch"], "refs/heads/hybrid/port");
    assert_eq!(json[0]["uncovered"], 7);
    repo.hybrid(&["pending"])
        .success()
        .stdout_has("hybrid/port")
        .stdout_has("qwen2.5-coder-7b")
        .stdout_has("7/7 lines unreviewed");
    // Adopting the same range again records nothing new.
    repo.hybrid(&["adopt", "hybrid/port"])
        .success()
        .stderr_has("already adopted");
}

/// What a blocked user reads, exactly: the lines by generation and file, and the fix.
#[test]
fn block_message_snapshot() {
    let repo = TestRepo::with_generation();
    repo.write("src/port.rs", GENERATED);
    repo.write(
        "src/other.rs",
        format!("// a human comment line here\n{}", &GENERATED[..120]),
    );
    repo.git(&["add", "."]);
    let run = repo.try_git(&["commit", "-q", "-m", "port"]);
    insta::assert_snapshot!(format!("exit: {:?}\n{}", run.code(), run.stderr()));
}

/// Lines the repository already had are not the model's: adopting a generation that reuses them
/// records only its new lines, and a human who writes the old line again is not blocked.
#[test]
fn lines_already_in_the_base_are_not_local_output() {
    let repo = TestRepo::new();
    repo.git(&["checkout", "-q", "-b", "hybrid/reuse"]);
    repo.write(
        "src/sum.rs",
        "pub fn add(a: i32, b: i32) -> i32 {\n    let total_sum = a.checked_add(b).expect(\"overflow\");\n",
    );
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "gen"]);
    repo.hybrid(&["adopt", "hybrid/reuse"])
        .success()
        .stderr_has("2 added lines, 1 fingerprinted");
    repo.git(&["checkout", "-q", "main"]);
    repo.write(
        "src/again.rs",
        "pub fn add(a: i32, b: i32) -> i32 {\n    a - -b\n}\n",
    );
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "human reuses an existing line"]);
    repo.write(
        "src/again.rs",
        "    let total_sum = a.checked_add(b).expect(\"overflow\");\n",
    );
    repo.git(&["add", "."]);
    repo.try_git(&["commit", "-q", "-m", "new generated line"])
        .failure()
        .stderr_has("1 line of unreviewed local-model output");
}
