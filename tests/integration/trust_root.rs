//! The trust root — the policy's `[gate]` and `[trust]`, the allowed-signers file — changes on
//! the default branch only by a commit a current signer signed, or is pinned in the server's own
//! config where no push reaches. Otherwise a pusher drops `[trust]` (or adds their own key) in
//! one push and approves their own output in the next.

use std::path::Path;

use crate::records::in_dir;
use crate::server::{generation, keygen, require_alice, server};
use crate::support::TestRepo;
use crate::support::anthropic::{FakeAnthropic, Reply};

/// Commits what is staged, signed with `key` when given.
fn commit(repo: &TestRepo, message: &str, key: Option<&Path>) {
    let mut args = vec!["-c".to_string(), "gpg.format=ssh".to_string()];
    if let Some(key) = key {
        args.push("-c".into());
        args.push(format!("user.signingkey={}", key.display()));
    }
    args.extend(["commit", "-q", "--no-verify", "-m", message].map(String::from));
    if key.is_some() {
        args.push("-S".into());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    repo.git(&args);
}

#[track_caller]
fn refused_as_root_change(run: &crate::support::Run) {
    run.failure()
        .stderr_has("changes this repository's trust root on refs/heads/main")
        .stderr_has("only a signer main:.hybrid/allowed_signers lists may change it");
}

#[test]
fn only_a_current_signer_changes_the_trust_root_on_the_server() {
    let repo = TestRepo::with_generation();
    server(&repo);
    let alice = require_alice(&repo);
    repo.git(&["push", "-q", "origin", "main"]);
    let (mallory, mallory_pub) = keygen(&repo, "mallory");
    let before = repo.rev("main");

    // Dropping [trust], unsigned: refused.
    repo.write(".hybrid.toml", "# no signers any more\n");
    repo.git(&["add", ".hybrid.toml"]);
    commit(&repo, "relax the policy", None);
    refused_as_root_change(&repo.try_git(&["push", "--no-verify", "origin", "main"]));
    // Adding one's own key, signed by that (unlisted) key: refused.
    repo.git(&["reset", "-q", "--hard", &before]);
    let listed = std::fs::read_to_string(repo.dir.join(".hybrid/allowed_signers")).unwrap();
    repo.write(
        ".hybrid/allowed_signers",
        format!("{listed}mallory@example.com {mallory_pub}\n"),
    );
    repo.git(&["add", "."]);
    commit(&repo, "add a signer", Some(&mallory));
    refused_as_root_change(&repo.try_git(&["push", "--no-verify", "origin", "main"]));
    // The same change signed by alice, a current signer: accepted.
    repo.git(&["reset", "-q", "--hard", &before]);
    repo.write(
        ".hybrid/allowed_signers",
        format!("{listed}mallory@example.com {mallory_pub}\n"),
    );
    repo.git(&["add", "."]);
    commit(&repo, "alice adds mallory", Some(&alice));
    repo.git(&["push", "-q", "--no-verify", "origin", "main"]);
    // Other settings stay anyone's to change.
    repo.write(
        ".hybrid.toml",
        "[trust]\nallowed_signers = \".hybrid/allowed_signers\"\n\n[review]\nmodel = \"claude-opus-5-5\"\n",
    );
    repo.git(&["add", "."]);
    commit(&repo, "pin the reviewer", None);
    repo.git(&["push", "-q", "--no-verify", "origin", "main"]);
}

#[test]
fn signers_pinned_on_the_server_are_out_of_any_pushs_reach() {
    let repo = TestRepo::with_generation();
    let remote = server(&repo);
    let alice = require_alice(&repo);
    repo.git(&["push", "-q", "origin", "main"]);
    // The admin pins the list on the server.
    let pinned = repo.home().join("server-signers");
    std::fs::copy(repo.dir.join(".hybrid/allowed_signers"), &pinned).unwrap();
    in_dir(
        &repo,
        &remote,
        &["config", "hybrid.allowedSigners", pinned.to_str().unwrap()],
    )
    .success();
    // Alice (a listed signer) drops [trust] from the policy, signed: the root change is hers
    // to make — and the pinned list still decides whose approvals count.
    repo.write(".hybrid.toml", "# signers are pinned on the server\n");
    repo.git(&["add", ".hybrid.toml"]);
    commit(&repo, "signers live on the server now", Some(&alice));
    repo.git(&["push", "-q", "--no-verify", "origin", "main"]);
    repo.git(&["config", "user.email", "mallory@example.com"]);
    generation(&repo, "unsigned");
    let api = FakeAnthropic::start(vec![Reply::Approve]);
    repo.review(&api, &["hybrid/unsigned"]).success();
    repo.try_git(&["push", "origin", "hybrid/unsigned:refs/heads/unsigned"])
        .failure()
        .stderr_has("src/unsigned.rs")
        .stderr_has("the server's hybrid.allowedSigners")
        .stderr_lacks(pinned.to_str().unwrap());
    // A pinned file the server cannot read refuses, and says it is the server's set-up.
    in_dir(
        &repo,
        &remote,
        &["config", "hybrid.allowedSigners", "/nonexistent/signers"],
    )
    .success();
    repo.try_git(&["push", "origin", "hybrid/unsigned:refs/heads/unsigned"])
        .failure()
        .stderr_has("this is the server's set-up, not your push")
        // The server's own paths stay on the server.
        .stderr_lacks("/nonexistent/signers");
}

#[test]
fn ci_fails_a_range_that_changes_the_trust_root_unsigned() {
    let repo = TestRepo::with_generation();
    let alice = require_alice(&repo);
    let base = repo.rev("main");
    repo.write(".hybrid.toml", "# no signers any more\n");
    repo.git(&["add", ".hybrid.toml"]);
    commit(&repo, "relax the policy", None);
    let range = format!("{base}..main");
    repo.hybrid(&["verify", &range])
        .failure()
        .stdout_has("changes the trust root without a signature");
    repo.hybrid(&["verify", "--json", &range])
        .failure()
        .stdout_has("\"unsigned_trust_root_changes\"");
    repo.git(&["reset", "-q", "--hard", &base]);
    repo.write(".hybrid.toml", "# no signers any more\n");
    repo.git(&["add", ".hybrid.toml"]);
    commit(&repo, "alice relaxes the policy", Some(&alice));
    repo.hybrid(&["verify", &range]).success();
}

/// Where signers are required, a teammate's unsigned approval that reached a listed signer's
/// clone does not make her review "already approved": she reviews, her signed approval travels,
/// and the server takes the push. A clone that does not sign is told why another review of its
/// own would not count.
#[test]
fn a_listed_signer_approves_what_a_teammates_uncounted_approval_covers() {
    let repo = TestRepo::with_generation();
    let remote = server(&repo);
    let alice = require_alice(&repo);
    repo.git(&["push", "-q", "origin", "main"]);
    let api = FakeAnthropic::start(vec![Reply::Approve, Reply::Approve]);
    // Bob approves his own change, unsigned: counted here, not by the server.
    repo.review(&api, &["hybrid/port"]).success();
    repo.git(&["push", "-q", "origin", "hybrid/port"]);
    repo.try_git(&["push", "origin", "hybrid/port:refs/heads/release"])
        .failure()
        .stderr_has("remote: hybrid: this server's gate refused the push");
    repo.review(&api, &["hybrid/port"])
        .failure()
        .stderr_has("is approved here, but by no signer main:.hybrid/allowed_signers lists")
        .stderr_has("a signer main:.hybrid/allowed_signers lists reviews it in a clone that signs");
    assert_eq!(api.answered().len(), 1);

    // Alice, a listed signer whose git signs, fetches Bob's approval with his change.
    let clone = crate::records::teammate(&repo, &remote);
    let git = |args: &[&str]| in_dir(&repo, &clone, args);
    git(&["hybrid", "install"]).success();
    git(&["config", "gpg.format", "ssh"]).success();
    git(&["config", "user.signingkey", alice.to_str().unwrap()]).success();
    git(&["config", "user.email", "alice@example.com"]).success();
    git(&["fetch", "-q"]).success();
    git(&["branch", "hybrid/port", "origin/hybrid/port"]).success();
    let mut review = repo.command_in("git", &clone);
    review
        .args(["hybrid", "review", "hybrid/port"])
        .env("ANTHROPIC_API_KEY", crate::support::anthropic::KEY)
        .env("ANTHROPIC_BASE_URL", &api.url);
    repo.run(review).success().stderr_has(
        "approved here, but by no signer main:.hybrid/allowed_signers lists; reviewing it",
    );
    assert_eq!(api.answered().len(), 2, "her review was sent");
    git(&["push", "-q", "origin", "hybrid/port:refs/heads/release"]).success();
}
