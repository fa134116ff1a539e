#!/usr/bin/env python3
"""Formatter suite: how much of a recorded output the gate still finds after a formatter ran on
it, with the real binary and real formatters.

    PATH="$CARGO_TARGET_DIR/release:$PATH" benches/formatter_recall.py [--tools DIR] FILE...

Each FILE (real code: take it from a fetched repository, it is not committed here) is recorded as
local output (`git hybrid adopt`) in a scratch repository; then, for every formatter that applies
to its language and is installed, the formatted text is committed to another path on main and
checked with `git hybrid verify --json`. Formatters run in a narrow style (line length 50 where
they take one; prettier also in a no-semicolon, single-quote style) so that they re-wrap, join
and re-quote rather than leave well-formatted code as it was. Reported per formatter: files
still blocked, and the share of the formatted file's significant lines found as output.
`--tools DIR` is where black, ruff, autopep8 and clang-format (DIR/py/bin) and prettier
(DIR/node/node_modules/.bin) were installed; rustfmt and gofmt are looked up on PATH (gofmt
comes with Debian's golang-go).
Blocks too: every paragraph of the formatted file (lines between blank lines) with at least 3
significant lines is pasted alone into a new file and must be blocked; reported as the share
blocked, and again for only the paragraphs that were 3+ significant lines of the output before
the formatter ran (a formatter spreading one line over five makes a one-line paste, which the
gate leaves alone by design). Prints one line per formatter; exits 0 (a measurement, not a test).
"""

import argparse
import re
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile


def run(args, cwd, check=True, stdin=None):
    out = subprocess.run(args, cwd=cwd, capture_output=True, text=True, errors="replace", input=stdin)
    if check and out.returncode != 0:
        sys.exit(f"{' '.join(args)} failed: {out.stderr}")
    return out


def significant(line):
    squeezed = "".join(line.split())
    return len(squeezed) >= 8 and any(c.isalnum() for c in squeezed)


def formatters(tools):
    py = os.path.join(tools, "py", "bin")
    node = os.path.join(tools, "node", "node_modules", ".bin")
    found = lambda name, where=None: shutil.which(name, path=where) if where else shutil.which(name)
    out = []
    if found("black", py):
        out.append((".py", "black -l 50", [found("black", py), "-q", "-l", "50", "-"]))
    if found("ruff", py):
        out.append((".py", "ruff format (50)", [found("ruff", py), "format", "--line-length", "50", "-"]))
    if found("autopep8", py):
        out.append((".py", "autopep8 -aa (50)", [found("autopep8", py), "-aa", "--max-line-length", "50", "-"]))
    if found("prettier", node):
        for ext in (".js", ".ts"):
            out.append((ext, "prettier", [found("prettier", node), "--stdin-filepath", f"x{ext}"]))
            out.append((ext, "prettier no-semi single-quote (50)",
                        [found("prettier", node), "--stdin-filepath", f"x{ext}", "--no-semi",
                         "--single-quote", "--print-width", "50"]))
    if found("rustfmt"):
        out.append((".rs", "rustfmt (max_width 50)",
                    [found("rustfmt"), "--edition", "2021", "--config", "max_width=50", "--emit", "stdout"]))
    if found("gofmt"):
        out.append((".go", "gofmt", [found("gofmt")]))
    clang = found("clang-format", py) or found("clang-format")
    if clang:
        for ext in (".c", ".h", ".cc", ".cpp", ".java", ".js"):
            out.append((ext, "clang-format (Google, 50)",
                        [clang, f"--assume-filename=x{ext}", "--style={BasedOnStyle: Google, ColumnLimit: 50}"]))
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("files", nargs="+")
    p.add_argument("--tools", default=os.path.expanduser("~/.cache/git-hybrid/formatters"))
    p.add_argument("--show", action="store_true", help="print each block not caught")
    a = p.parse_args()
    os.environ.update(GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1",
                      GIT_AUTHOR_NAME="Bench", GIT_AUTHOR_EMAIL="bench@example.com",
                      GIT_COMMITTER_NAME="Bench", GIT_COMMITTER_EMAIL="bench@example.com")
    suite = formatters(a.tools)
    # blocked, files, found, lines, blocks blocked, blocks, of those from 3+ output lines:
    # blocked, blocks
    totals = collections.defaultdict(lambda: [0, 0, 0, 0, 0, 0, 0, 0])
    for path in a.files:
        ext = os.path.splitext(path)[1]
        applicable = [f for f in suite if f[0] == ext]
        if not applicable:
            continue
        source = open(path, encoding="utf-8", errors="replace").read()
        source_tokens = tokens_by_line(source)
        with tempfile.TemporaryDirectory() as repo:
            run(["git", "init", "-q", "-b", "main"], repo)
            open(os.path.join(repo, "README"), "w").write("scratch\n")
            run(["git", "add", "."], repo)
            run(["git", "commit", "-q", "-m", "start"], repo)
            run(["git", "hybrid", "install"], repo)
            run(["git", "checkout", "-q", "-b", "hybrid/out"], repo)
            os.makedirs(os.path.join(repo, "out"))
            open(os.path.join(repo, "out", "sample" + ext), "w").write(source)
            run(["git", "add", "."], repo)
            run(["git", "commit", "-q", "-m", "output"], repo)
            run(["git", "hybrid", "adopt", "hybrid/out", "--model", "bench"], repo)
            run(["git", "checkout", "-q", "main"], repo)
            for _, name, command in applicable:
                formatted = run(command, repo, check=False, stdin=source)
                if formatted.returncode != 0 or not formatted.stdout.strip():
                    print(f"  {name} could not format {path}: {formatted.stderr.strip()[:120]}", file=sys.stderr)
                    continue
                target = os.path.join(repo, "fmt", "sample" + ext)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                open(target, "w").write(formatted.stdout)
                run(["git", "add", "."], repo)
                run(["git", "-c", "core.hooksPath=/dev/null", "commit", "-q", "-m", name], repo)
                out = run(["git", "hybrid", "verify", "--json", "HEAD^..HEAD"], repo, check=False)
                found = 0
                if out.returncode == 1 and out.stdout.strip():
                    for group in json.loads(out.stdout)["uncovered"]:
                        found += sum(len(f["lines"]) for f in group["files"])
                lines = sum(1 for l in formatted.stdout.splitlines() if significant(l))
                t = totals[name]
                t[0] += out.returncode == 1
                t[1] += 1
                t[2] += min(found, lines)
                t[3] += lines
                run(["git", "reset", "-q", "--hard", "HEAD^"], repo)
                for block in paragraphs(formatted.stdout):
                    target = os.path.join(repo, "pasted" + ext)
                    open(target, "w").write(block)
                    run(["git", "add", "."], repo)
                    run(["git", "-c", "core.hooksPath=/dev/null", "commit", "-q", "-m", "block"], repo)
                    out = run(["git", "hybrid", "verify", "--json", "HEAD^..HEAD"], repo, check=False)
                    t[4] += out.returncode == 1
                    t[5] += 1
                    # What the issue of a paste is: a block that was 3+ lines of output before
                    # the formatter (one line spread over five is a one-line paste).
                    origin = source_lines(block, source_tokens, source)
                    if origin is None or origin >= 3:
                        t[6] += out.returncode == 1
                        t[7] += 1
                    if out.returncode != 1 and a.show:
                        print(f"--- {name}: block not caught\n{block}", file=sys.stderr)
                    run(["git", "reset", "-q", "--hard", "HEAD^"], repo)
    for name, (blocked, files, found, lines, caught, blocks, caught3, blocks3) in totals.items():
        print(f"{name}: {blocked} of {files} formatted outputs blocked; "
              f"{100.0 * found / max(1, lines):.0f}% of their significant lines found; "
              f"{caught} of {blocks} blocks of 3+ lines caught ({100.0 * caught / max(1, blocks):.0f}%); "
              f"of those from 3+ lines of output, {caught3} of {blocks3} ({100.0 * caught3 / max(1, blocks3):.0f}%)")


LAYOUT = set("(),;{}\\")
TOKEN = re.compile(r"""[A-Za-z_$\x80-\uffff][\w$\x80-\uffff]*|\d[\w.]*|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|\S""")


def tokens_by_line(text):
    """Canonical tokens (layout punctuation left out, strings without quotes or whitespace),
    each with the index of the line it is on: near enough to the gate's own tokeniser to find
    where a formatted paragraph came from."""
    out = []
    for n, line in enumerate(text.splitlines()):
        for t in TOKEN.findall(line):
            if t in LAYOUT:
                continue
            if t[0] in "\"'":
                t = "".join(t[1:-1].split())
            out.append((t, n))
    return out


def source_lines(paragraph, source_tokens, source_text):
    """How many significant lines of the unformatted output the paragraph's tokens came from;
    None when the paragraph cannot be placed in the output."""
    mine = [t for t, _ in tokens_by_line(paragraph)]
    if not mine:
        return None
    words = [t for t, _ in source_tokens]
    probe = mine[: min(8, len(mine))]
    for i in range(len(words) - len(probe) + 1):
        if words[i:i + len(probe)] == probe:
            last = min(i + len(mine), len(words)) - 1
            first_line, last_line = source_tokens[i][1], source_tokens[last][1]
            lines = source_text.splitlines()[first_line:last_line + 1]
            return sum(1 for l in lines if significant(l))
    return None


def paragraphs(text):
    """The runs of lines between blank lines that hold at least 3 significant lines."""
    out, current = [], []
    for line in text.splitlines(keepends=True) + ["\n"]:
        if line.strip():
            current.append(line)
            continue
        if sum(1 for l in current if significant(l)) >= 3:
            out.append("".join(current))
        current = []
    return out


if __name__ == "__main__":
    main()
