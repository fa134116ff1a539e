#!/usr/bin/env python3
"""Same-repository replay: how often the gate flags human commits, and whether it still catches
pasted local output, on a real project's history, with the real binary.

    PATH="$CARGO_TARGET_DIR/release:$PATH" benches/fp_replay.py <repository>... [--adopt 10] [--verify 150]
        [--skip 200 [--skip 1000 ...]]

A window of consecutive non-merge commits on the first-parent history (ending `--skip` commits
before the tip) is replayed in a scratch clone: `--adopt` of them, evenly spread, are adopted as
unreviewed local output (`git hybrid adopt <commit>`); every other commit of the window is checked
as a human commit with `git hybrid verify --json <commit>^..<commit>`. Reported:
- false positives: human commits blocked, and the lines behind them;
- recall: every block of 3+ consecutive lines of new adopted output (significant lines, none of
  them in the parent's tree), re-indented with CRLF endings and pasted into a new file on top of
  the tip, must be blocked.
Prints one summary line per measure and, for several repositories or windows, a table with the
totals; exits 0 (a measurement, not a test).
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile


def run(args, cwd, check=True, env=None):
    out = subprocess.run(args, cwd=cwd, capture_output=True, text=True, errors="replace", env=env)
    if check and out.returncode != 0:
        sys.exit(f"{' '.join(args)} failed: {out.stderr}")
    return out


def git(cwd, *args, check=True):
    return run(["git", *args], cwd, check=check).stdout


def significant(line):
    """Mirrors the fingerprint's notion of a non-trivial line (8+ non-space bytes, a word)."""
    squeezed = "".join(line.split())
    return len(squeezed) >= 8 and any(c.isalnum() for c in squeezed)


def squeeze(line):
    return "".join(line.split())


# Lock files provenance leaves out (src/provenance/mod.rs, LOCK_FILES): written by package
# managers, never output, so never pasted output either.
LOCK_FILES = {
    "Cargo.lock", "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml",
    "bun.lock", "poetry.lock", "Pipfile.lock", "uv.lock", "pdm.lock", "Gemfile.lock",
    "composer.lock", "go.sum", "flake.lock", "mix.lock", "pubspec.lock", "Podfile.lock",
    "packages.lock.json", "gradle.lockfile",
}


def added_blocks(repo, commit):
    """Runs of 3+ consecutive significant added lines in a commit's own diff that are new output:
    none of them anywhere in the parent's tree (what provenance records)."""
    before = {squeeze(l) for l in git(repo, "grep", "-I", "-h", "-e", "", f"{commit}^", check=False).splitlines()}
    diff = git(repo, "show", "--format=", "--unified=0", "--no-color", "--no-ext-diff", commit)
    blocks, run_, locked = [], [], False
    for line in diff.splitlines():
        if line.startswith("+++ "):
            locked = line.rsplit("/", 1)[-1] in LOCK_FILES
            continue
        if (not locked and line.startswith("+") and significant(line[1:])
                and squeeze(line[1:]) not in before):
            run_.append(line[1:])
            continue
        if len(run_) >= 3:
            blocks.append(run_)
        run_ = []
    if len(run_) >= 3:
        blocks.append(run_)
    return blocks


def replay(source, skip, a):
    env = dict(os.environ, GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1",
               GIT_AUTHOR_NAME="Replay", GIT_AUTHOR_EMAIL="replay@example.com",
               GIT_COMMITTER_NAME="Replay", GIT_COMMITTER_EMAIL="replay@example.com")
    os.environ.update(env)
    with tempfile.TemporaryDirectory() as scratch:
        label = f"{os.path.basename(os.path.dirname(source.rstrip('/'))) or 'repo'}@{skip}"
        tmp = os.path.join(a.keep, label) if a.keep else scratch
        os.makedirs(tmp, exist_ok=True)
        repo = os.path.join(tmp, "repo")
        run(["git", "clone", "-q", "--no-checkout", source, repo], tmp)
        # Records stay in the scratch clone: none is sent back to the replayed repository.
        git(repo, "remote", "remove", "origin")
        commits = git(repo, "rev-list", "--first-parent", "--no-merges", "--reverse", "HEAD").split()
        total = a.adopt + a.verify
        end = max(total, len(commits) - skip)
        # A short history clamps several skips to one window: replay it once.
        if (source, end) in a.seen:
            print(f"{label}: the same window as an earlier skip (the history is short); not replayed again",
                  file=sys.stderr)
            return None
        a.seen.add((source, end))
        window = commits[end - total:end]
        step = total // a.adopt
        adopted = [c for i, c in enumerate(window) if i % step == step // 2][: a.adopt]
        humans = [c for c in window if c not in adopted][: a.verify]
        git(repo, "checkout", "-q", "--detach", window[-1])
        run(["git", "hybrid", "install"], repo)
        for c in adopted:
            out = run(["git", "hybrid", "adopt", c, "--model", "replay"], repo, check=False)
            if out.returncode != 0 and "changes nothing" not in out.stderr:
                sys.exit(out.stderr)
        blocked, culprits = 0, collections.Counter()
        for c in humans:
            out = run(["git", "hybrid", "verify", "--json", f"{c}^..{c}"], repo, check=False)
            if out.returncode == 0:
                continue
            if out.returncode != 1:
                sys.exit(out.stderr)
            if not out.stdout.strip():
                # Not a verdict: an error (a root commit has no parent to compare with).
                print(f"  skipped {c[:10]}: {out.stderr.strip().splitlines()[0]}", file=sys.stderr)
                continue
            blocked += 1
            verdict = json.loads(out.stdout)
            if a.show:
                print(f"  blocked {c[:10]}: {json.dumps(verdict['uncovered'])}", file=sys.stderr)
            for group in verdict["uncovered"]:
                for f in group["files"]:
                    text = git(repo, "show", f"{c}:{f['path']}", check=False).splitlines()
                    for n in f["lines"]:
                        if 0 < n <= len(text):
                            culprits[text[n - 1].strip()[:80]] += 1
        name = os.path.basename(os.path.dirname(source.rstrip("/"))) or source
        print(f"{name}: {blocked} of {len(humans)} human commits blocked "
              f"({100.0 * blocked / max(1, len(humans)):.1f}%) with {len(adopted)} commits adopted as local output")
        for line, n in culprits.most_common(8):
            print(f"    {n:3}x {line}")
        # Recall: pasted blocks of adopted output, re-indented, in a new file.
        pastes = [b for c in adopted for b in added_blocks(repo, c)][: a.max_pastes]
        caught = 0
        base = git(repo, "rev-parse", "HEAD").strip()
        for i, block in enumerate(pastes):
            path = os.path.join(repo, "pasted", f"p{i}.txt")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", newline="") as fh:
                fh.write("".join("        " + l.strip() + "  \r\n" for l in block))
            git(repo, "add", path)
            git(repo, "-c", "core.hooksPath=/dev/null", "commit", "-q", "-m", f"paste {i}")
            out = run(["git", "hybrid", "verify", "HEAD^..HEAD"], repo, check=False)
            caught += out.returncode == 1
            if out.returncode != 1 and a.show:
                print(f"  paste {i} not caught:\n" + "".join("    | " + l.rstrip() + "\n" for l in block),
                      file=sys.stderr)
            git(repo, "reset", "-q", "--hard", base)
        print(f"{name}: recall {caught} of {len(pastes)} pasted blocks (3+ lines, re-indented, CRLF, "
              f"in a new file) blocked ({100.0 * caught / max(1, len(pastes)):.1f}%)")
        return name, blocked, len(humans), caught, len(pastes)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("source", nargs="+")
    p.add_argument("--adopt", type=int, default=10)
    p.add_argument("--verify", type=int, default=150)
    p.add_argument("--skip", type=int, action="append",
                   help="commits left out at the tip before the window (repeat for several windows; default 200)")
    p.add_argument("--max-pastes", type=int, default=60)
    p.add_argument("--show", action="store_true", help="print each blocked commit's verdict and each paste not caught")
    p.add_argument("--keep", help="replay in this folder (one subfolder per repository@skip) and keep it")
    a = p.parse_args()
    a.seen = set()
    rows = [(*row, skip) for source in a.source for skip in (a.skip or [200])
            if (row := replay(source, skip, a)) is not None]
    if len(rows) > 1:
        print("\nrepository@skip                 blocked / human commits    recall")
        for name, blocked, humans, caught, pastes, skip in rows:
            print(f"  {name + '@' + str(skip):30} {blocked:4} / {humans:<4} ({100.0 * blocked / max(1, humans):4.1f}%)"
                  f"   {caught} / {pastes}")
        total = sum(r[1] for r in rows), sum(r[2] for r in rows)
        print(f"  {'all':30} {total[0]:4} / {total[1]:<4} ({100.0 * total[0] / max(1, total[1]):4.2f}%); "
              f"windows at 0: {sum(r[1] == 0 for r in rows)} of {len(rows)}")


if __name__ == "__main__":
    main()
