#!/usr/bin/env python3
"""What the local engine delivers, measured: every task of tasks.py implemented by the demo model
through the real binary (`git hybrid implement --no-daemon`), in one or more modes: `none` (no
check), `spec` (no check given: the spec's own examples are the check, as for a user who sets
none), `check` (the check loop runs the task's visible test). The result is scored by the hidden
test, which the model never sees. Prints one line per task and run, then the pass rates, mean
attempts and mean seconds per task of each mode.

    benches/implement_quality/run.py [--model FILE.gguf] [--mode none|spec|check|both|all]
                                     [--half tuning|held|all] [--only NAMES] [--existing]
                                     [--rounds N]
                                     [--candidates N] [--edit-format F] [--max-tokens N]
                                     [--json OUT] [--logs DIR]
                                     [--selftest]

`--logs DIR` keeps each run's stderr in DIR/TASK-MODE.log (with GIT_HYBRID_LOG=trace it holds
every answer the model wrote).

`--half` picks the tasks: `tuning` (the default: what changes to the engine may be tried on),
`held` (the held-out third, for reporting only) or `all`. `--selftest` runs no model: it writes
each task's reference answer and checks that the visible and hidden tests, and the spec's own
examples (`git hybrid spec check`), pass on it.

The binary comes from CARGO_TARGET_DIR (default ~/.cache/git-hybrid/target)/release; the model
defaults to the demo model in the cache (scripts/fetch-demo-model.sh).
"""
import argparse
import json
import os
import pathlib
import shutil
import statistics
import signal
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from tasks import TASKS  # noqa: E402

HOME = pathlib.Path.home()
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", HOME / ".cache/git-hybrid/target"))
DEMO = HOME / ".cache/git-hybrid/models/Qwen2.5-Coder-0.5B-Instruct-Q4_K_M.gguf"


def run(cmd, cwd, env=None, timeout=600):
    # `git hybrid` runs git-hybrid as git's child: killing git alone at the timeout left the model
    # running on the cores the next tasks are timed on. The whole process group goes.
    with subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, start_new_session=True) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def test_command(task, which):
    """The shell command that runs a task's visible (`check_*`) or hidden test at the top."""
    if task["lang"] == "python":
        return f"python3 {which}.py"
    # The tests include src/lib.rs, where a crate's `//!` docs are refused: they include a copy
    # with those made plain comments.
    return (r"sed -E 's#^([[:space:]]*)//!#\1//#' src/lib.rs > tested_lib.rs && "
            f"sed 's#include!(\"src/lib.rs\")#include!(\"tested_lib.rs\")#' {which}.rs > {which}_t.rs && "
            f"rustc --edition 2021 --test {which}_t.rs -o ./{which}-bin 2>&1 && ./{which}-bin")


def select(only, half, existing=False):
    """The tasks asked for: by name (comma-separated), of a half (`tuning`, `held`, `all`), and
    with `existing` only those that change a file that is there before (where the edit format
    matters)."""
    names = set(only.split(",")) if only else None
    return [t for t in TASKS if (names is None or t["name"] in names)
            and (half == "all" or t["held"] == (half == "held"))
            and (not existing or t["given"] is not None)]


def write(top, rel, text):
    path = top / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def prepare(task, work, env):
    """A repository holding the task's spec, visible test, given file and other files."""
    repo = work / "repo"
    repo.mkdir()
    ext = "py" if task["lang"] == "python" else "rs"
    write(repo, ".hybrid/specs/task.md", task["spec"])
    write(repo, f"check.{ext}", task["visible"])
    for rel, text in task["extra"].items():
        write(repo, rel, text)
    if task["given"] is not None:
        write(repo, task["file"], task["given"])
    run(["git", "init", "-q", "-b", "main"], repo, env)
    run(["git", "add", "-A"], repo, env)
    run(["git", "commit", "-q", "-m", "task"], repo, env)
    return repo


def hidden_passes(task, checkout, env):
    ext = "py" if task["lang"] == "python" else "rs"
    (checkout / f"hidden.{ext}").write_text(task["hidden"])
    try:
        hidden = subprocess.run(["sh", "-c", test_command(task, "hidden")], cwd=checkout, env=env,
                                capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        # An answer that loops fails its hidden test; the run goes on.
        return False, "the hidden test ran past 120 s"
    return hidden.returncode == 0, hidden.stdout + hidden.stderr


def selftest(tasks, env):
    """Each task's reference answer passes its visible and hidden tests, and the check the spec's
    own examples become (`git hybrid spec check`) where there is one: an example no right answer
    passes is a false alarm of the examples reader that fails every answer. A held-out task's
    failure is named, not shown (its text stays unread by whoever tunes the engine)."""
    bad = 0
    for task in tasks:
        work = pathlib.Path(tempfile.mkdtemp(prefix="hybrid-quality-"))
        try:
            repo = prepare(task, work, env)
            write(repo, task["file"], task["reference"])
            visible = subprocess.run(["sh", "-c", test_command(task, "check")], cwd=repo, env=env,
                                     capture_output=True, text=True, timeout=120)
            hidden, said = hidden_passes(task, repo, env)
            examples = run(["git", "hybrid", "spec", "check", ".hybrid/specs/task.md", "--json"],
                           repo, env, timeout=300)
            try:
                checked = json.loads(examples.stdout)
                from_examples = "pass" if checked["passed"] else "FAIL"
                said += "" if checked["passed"] else checked["output"]
            except ValueError:
                # No examples a check can be made of: nothing to audit.
                from_examples = "none"
            ok = visible.returncode == 0 and hidden and from_examples != "FAIL"
            bad += not ok
            shown = "" if ok or task["held"] else chr(10) + visible.stdout + visible.stderr + said
            print(f"{task['name']:<16} {'ok' if ok else 'BROKEN'}  examples {from_examples}{shown}",
                  flush=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if bad else 0)


def attempt(task, mode, model, rounds, env, candidates=None, edit_format=None, max_tokens=1024,
            logs=None):
    work = pathlib.Path(tempfile.mkdtemp(prefix="hybrid-quality-"))
    try:
        repo = prepare(task, work, env)
        cmd = ["git", "hybrid", "implement", ".hybrid/specs/task.md", "--no-daemon", "--json",
               "--model", str(model), "--threads", "2", "--max-tokens", str(max_tokens), "--branch", "hybrid/task",
               # The local engine is what is measured: no task goes to Claude.
               "--route", "local"]
        if candidates:
            cmd += ["--candidates", str(candidates)]
        if edit_format:
            cmd += ["--edit-format", edit_format]
        if mode == "check":
            # A task's visible test takes a second or two: an answer that loops is cut off at
            # 30 s rather than at the default 300 s, which would measure the timeout.
            cmd += ["--check", test_command(task, "check"), "--check-timeout", "30"]
        elif mode == "none":
            cmd += ["--no-check"]
        else:
            cmd += ["--check-timeout", "30"]
        if rounds is not None and mode != "none":
            cmd += ["--check-rounds", str(rounds)]
        started = time.monotonic()
        done = run(cmd, repo, env)
        seconds = time.monotonic() - started
        if logs:
            (pathlib.Path(logs) / f"{task['name']}-{mode}.log").write_text(done.stderr)
        report = {}
        try:
            report = json.loads(done.stdout)
        except json.JSONDecodeError:
            pass
        branch = run(["git", "rev-parse", "--verify", "-q", "hybrid/task"], repo, env).returncode == 0
        passed = False
        if branch:
            checkout = work / "result"
            run(["git", "worktree", "add", "-q", "--detach", str(checkout), "hybrid/task"], repo, env)
            passed, _ = hidden_passes(task, checkout, env)
        error = ""
        if done.returncode != 0:
            lines = [l for l in done.stderr.splitlines() if l.startswith("hybrid: error:")]
            error = lines[-1].split("error:", 1)[1].strip()[:100] if lines else ""
        return {
            "task": task["name"], "lang": task["lang"], "kind": task["kind"], "held": task["held"],
            "mode": mode, "passed": passed,
            "branch": branch, "attempts": report.get("attempts"), "seconds": round(seconds, 1),
            "check": (report.get("check") or {}).get("state"), "error": error,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=str(DEMO))
    parser.add_argument("--mode", default="both", choices=["none", "spec", "check", "both", "all"])
    parser.add_argument("--half", default="tuning", choices=["tuning", "held", "all"])
    parser.add_argument("--selftest", action="store_true")
    parser.add_argument("--only", help="task names, comma-separated")
    parser.add_argument("--existing", action="store_true",
                        help="only the tasks that change a file that exists (where --edit-format matters)")
    parser.add_argument("--rounds", type=int,
                        help="answers asked again after a failed check (the binary's default when unset: "
                             "2 after the visible test, 4 after the spec's examples)")
    parser.add_argument("--candidates", type=int,
                        help="answers written side by side per attempt (the first passing one is kept, "
                             "or the one most agree with where the spec's Python examples vote); "
                             "the binary's default when unset")
    parser.add_argument("--edit-format", choices=["auto", "whole", "edit", "merge"],
                        help="how existing files are changed (the binary's default when unset)")
    parser.add_argument("--max-tokens", type=int, default=1024,
                        help="most tokens an answer may have (a whole file needs about 20 a line)")
    parser.add_argument("--json")
    parser.add_argument("--logs", help="a folder to keep each run's stderr in")
    args = parser.parse_args()
    binary = TARGET / "release"
    if not (binary / "git-hybrid").exists():
        sys.exit(f"build first: cargo build --release (looked in {binary})")
    env = dict(os.environ)
    env["PATH"] = f"{binary}:{env['PATH']}"
    env.update(GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.com",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.com",
               GIT_CONFIG_GLOBAL="/dev/null")
    modes = {"both": ["none", "check"], "all": ["none", "spec", "check"]}.get(args.mode, [args.mode])
    tasks = select(args.only, args.half, args.existing)
    if args.selftest:
        selftest([t for t in tasks if t["reference"]], env)
    if args.logs:
        pathlib.Path(args.logs).mkdir(parents=True, exist_ok=True)
    results = []
    for mode in modes:
        for task in tasks:
            r = attempt(task, mode, args.model, args.rounds, env, args.candidates, args.edit_format,
                        args.max_tokens, args.logs)
            results.append(r)
            print(f"{mode:<5} {r['task']:<14} {r['lang']:<6} {'PASS' if r['passed'] else 'fail'}  "
                  f"attempts {r['attempts'] or '-'}  {r['seconds']:>6.1f} s  check {r['check'] or '-'}"
                  f"{'  ' + r['error'] if r['error'] else ''}", flush=True)
    print()
    for mode in modes:
        rows = [r for r in results if r["mode"] == mode]
        passed = sum(r["passed"] for r in rows)
        attempts = [r["attempts"] for r in rows if r["attempts"]]
        name = {"none": "no check", "spec": "spec check", "check": "check loop"}[mode]
        print(f"{name:<10}: {passed}/{len(rows)} pass the hidden tests "
              f"({100 * passed / len(rows):.0f}%), mean attempts {statistics.mean(attempts) if attempts else 0:.2f} "
              f"(of the runs that made a branch), mean {statistics.mean(r['seconds'] for r in rows):.1f} s a task")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
