#!/usr/bin/env python3
"""The peer line: Aider (PyPI `aider-chat`) on the same tasks, with the same model served by
llama-cpp-python's OpenAI-compatible server, scored by the same hidden tests.

    benches/implement_quality/aider.py --aider PATH/TO/aider --server-python PATH/TO/python
                                       [--model FILE.gguf] [--mode none|check|both]
                                       [--half tuning|held|all] [--only NAME] [--edit-format F]
                                       [--json OUT]

Each task's repository is prepared as run.py prepares it; Aider gets the spec as its one
message, the task's file to edit (and the other files as read-only context), and its own
defaults otherwise (edit format, repository map, lint). In `check` mode it also gets the
task's visible test as `--test-cmd` with `--auto-test`: its own test loop, as git-hybrid's check
loop gets the same test. Its answer budget is 1024 tokens (git-hybrid's runs use 600).
Neither Aider nor the server is part of git-hybrid; install them outside the repository, e.g.

    python3 -m venv ~/.cache/git-hybrid/aider && ~/.cache/git-hybrid/aider/bin/pip install aider-chat
    scripts/fetch-openai-server.sh
"""
import argparse
import json
import os
import pathlib
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import DEMO, hidden_passes, prepare, select, test_command  # noqa: E402

NAME = "openai/local-model"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(python, model):
    port = free_port()
    server = subprocess.Popen([python, "-m", "llama_cpp.server", "--model", model, "--host", "127.0.0.1",
                               "--port", str(port), "--n_ctx", "8192", "--n_threads", "2",
                               "--model_alias", "local-model"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started = time.monotonic()
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server, f"http://127.0.0.1:{port}/v1"
        except OSError:
            if server.poll() is not None or time.monotonic() - started > 120:
                sys.exit("the llama-cpp-python server did not start")
            time.sleep(0.3)


def attempt(task, mode, aider, base, settings, env, edit_format=None):
    work = pathlib.Path(tempfile.mkdtemp(prefix="aider-quality-"))
    try:
        repo = prepare(task, work, env)
        cmd = [aider, "--model", NAME, "--openai-api-base", base, "--openai-api-key", "local",
               "--model-metadata-file", str(settings / "metadata.json"),
               "--model-settings-file", str(settings / "settings.yml"),
               "--yes-always", "--no-pretty", "--no-stream", "--no-check-update", "--analytics-disable",
               "--no-show-model-warnings", "--no-gitignore", "--no-show-release-notes",
               "--message", task["spec"], "--file", task["file"]]
        if edit_format:
            cmd += ["--edit-format", edit_format]
        for rel in task["extra"]:
            cmd += ["--read", rel]
        if mode == "check":
            cmd += ["--test-cmd", test_command(task, "check"), "--auto-test"]
        started = time.monotonic()
        try:
            done = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True, timeout=600)
            said = done.stdout + done.stderr
        except subprocess.TimeoutExpired:
            said = "timed out"
        seconds = time.monotonic() - started
        written = (repo / task["file"]).exists()
        passed = written and hidden_passes(task, repo, env)[0]
        return {"task": task["name"], "lang": task["lang"], "kind": task["kind"], "held": task["held"],
                "mode": mode, "passed": passed, "seconds": round(seconds, 1), "written": written,
                "tail": said[-300:]}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--aider", default=str(pathlib.Path.home() / ".cache/git-hybrid/aider/bin/aider"))
    parser.add_argument("--server-python", default=str(
        pathlib.Path.home() / ".cache/git-hybrid/llama-cpp-python-0.3.36-portable/bin/python"))
    parser.add_argument("--model", default=str(DEMO))
    parser.add_argument("--mode", default="both", choices=["none", "check", "both"])
    parser.add_argument("--half", default="tuning", choices=["tuning", "held", "all"])
    parser.add_argument("--only")
    parser.add_argument("--edit-format", help="Aider's edit format (default: the one it picks for the model)")
    parser.add_argument("--json")
    args = parser.parse_args()
    settings = pathlib.Path(tempfile.mkdtemp(prefix="aider-settings-"))
    (settings / "metadata.json").write_text(json.dumps({NAME: {
        "max_input_tokens": 8192, "max_output_tokens": 1024, "input_cost_per_token": 0,
        "output_cost_per_token": 0, "litellm_provider": "openai", "mode": "chat"}}))
    (settings / "settings.yml").write_text(f"- name: {NAME}\n  extra_params:\n    max_tokens: 1024\n")
    env = dict(os.environ)
    env.update(GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.com",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.com",
               GIT_CONFIG_GLOBAL="/dev/null", HOME=str(settings),
               # The hidden Rust tests compile with the real home's toolchain.
               RUSTUP_HOME=os.environ.get("RUSTUP_HOME", str(pathlib.Path.home() / ".rustup")),
               CARGO_HOME=os.environ.get("CARGO_HOME", str(pathlib.Path.home() / ".cargo")))
    server, base = start_server(args.server_python, args.model)
    modes = ["none", "check"] if args.mode == "both" else [args.mode]
    tasks = select(args.only, args.half)
    results = []
    try:
        for mode in modes:
            for task in tasks:
                r = attempt(task, mode, args.aider, base, settings, env, args.edit_format)
                results.append(r)
                print(f"aider {mode:<5} {r['task']:<16} {r['lang']:<6} {'PASS' if r['passed'] else 'fail'}  "
                      f"{r['seconds']:>6.1f} s{'' if r['written'] else '  (file not written)'}", flush=True)
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(settings, ignore_errors=True)
    print()
    for mode in modes:
        rows = [r for r in results if r["mode"] == mode]
        passed = sum(r["passed"] for r in rows)
        print(f"aider {mode:<5}: {passed}/{len(rows)} pass the hidden tests, median "
              f"{statistics.median(r['seconds'] for r in rows):.1f} s a task, total "
              f"{sum(r['seconds'] for r in rows) / 60:.1f} min")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
