#!/usr/bin/env bash
# What delegating through MCP adds over the command, and what it costs the Claude session.
# With a warm daemon, the same spec is implemented N times by `git hybrid implement` and N times
# by the MCP `implement` tool (one MCP session, as Claude Code keeps one), each onto its own
# branch. A warm model's answers differ in length from job to job, so what is compared is each
# run's time beyond the job's own (its `wall_ms`): the command's start, the daemon round trip,
# and for MCP the tool's JSON and diff. Prints the medians and the difference, the median
# `tools/list` time,
# and the session's tokens to delegate (tool definitions, the call, the result) against writing
# the diff itself, priced as claude-opus-5-5. Needs scripts/fetch-mcp-client.sh.
# Usage: benches/mcp-overhead.sh [model.gguf] [runs]
set -euo pipefail
model="${1:-$("$(dirname "$0")/../scripts/fetch-test-model.sh")}"
runs="${2:-7}"
python="$("$(dirname "$0")/../scripts/fetch-mcp-client.sh")"
. "$(dirname "$0")/setup.sh"
export HOME="$work/home"
trap 'git hybrid daemon stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
mkdir -p "$HOME" "$work/repo" && cd "$work/repo"
git init -q -b main
mkdir -p .hybrid/specs src
cp "$here/src/local/implement/check.rs" src/check.rs
# A docs task: the tiny model's code would not parse (and would be refused), its prose is fine.
cat > .hybrid/specs/greet.md <<'SPEC'
# Add a greeting

## Files to touch

- create docs/greeting.md

## Requirements

- a title, then one paragraph saying that `greet(name)` returns "Hello, " followed by the name

## Tests

- the file starts with "# Greeting"
SPEC
git add -A && git commit -q -m init
git hybrid install >/dev/null 2>&1
git hybrid model add "$model" >/dev/null 2>&1
git hybrid daemon start >/dev/null 2>&1
# Warm-up: the daemon loads the model.
git hybrid implement .hybrid/specs/greet.md --branch hybrid/warm >/dev/null 2>&1
"$python" - "$runs" <<'PY'
import json, os, statistics, subprocess, sys, time
import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

runs = int(sys.argv[1])
spec = open(".hybrid/specs/greet.md").read()
cli = []
for i in range(runs):
    started = time.monotonic()
    out = subprocess.run(["git", "hybrid", "implement", ".hybrid/specs/greet.md", "--branch", f"hybrid/cli{i}", "--json"],
                         check=True, capture_output=True).stdout
    cli.append((time.monotonic() - started) * 1000 - json.loads(out)["wall_ms"])

async def main():
    params = StdioServerParameters(command="git-hybrid", args=["mcp"], env=dict(os.environ))
    async with stdio_client(params) as (r, w):
        async with ClientSession(r, w) as s:
            await s.initialize()
            listing, mcp, result = [], [], None
            for _ in range(20):
                started = time.monotonic()
                tools = await s.list_tools()
                listing.append((time.monotonic() - started) * 1000)
            for i in range(runs):
                started = time.monotonic()
                result = await s.call_tool("implement", {"spec_path": ".hybrid/specs/greet.md", "branch": f"hybrid/mcp{i}"})
                assert not result.is_error, result.content[0].text
                mcp.append((time.monotonic() - started) * 1000 - result.structured_content["wall_ms"])
                assert result.structured_content["by_daemon"], result.structured_content
            return listing, mcp, tools, result

listing, mcp, tools, result = anyio.run(main)
c, m = statistics.median(cli), statistics.median(mcp)
print(f"implement through a warm daemon, time beyond the job's own: command {c:.1f} ms, MCP tool {m:.1f} ms: "
      f"{m - c:+.1f} ms ({runs} runs each)")
print(f"tools/list: median {statistics.median(listing):.2f} ms (20 calls)")
# Tokens at 4 bytes a token (the API's own count needs the network).
tok = lambda text: len(text) / 4
definitions = tok(json.dumps([t.model_dump(mode="json", exclude_none=True) for t in tools.tools]))
call = tok(json.dumps({"spec": spec}))
answer = tok(result.content[0].text)
diff = tok(result.structured_content["diff"])
price_in, price_out, price_cached = 4.0, 20.0, 0.20  # $ per million, claude-opus-5-5
delegate = (definitions * price_cached + call * price_out + answer * price_in) / 1e6
itself = diff * price_out / 1e6
print(f"session tokens to delegate: tool definitions {definitions:.0f} (cached input), call {call:.0f} (output), "
      f"result {answer:.0f} (input); writing the diff itself: {diff:.0f} output tokens")
# The result carries the diff plus a fixed part (branch, tokens, check): with a spec of this size,
# delegating is cheaper once the code is longer than this many tokens.
fixed = answer - diff
even = (definitions * price_cached + call * price_out + fixed * price_in) / (price_out - price_in)
print(f"priced as claude-opus-5-5: delegating ${delegate:.5f} against writing it ${itself:.5f}; "
      f"delegating is cheaper from about {even:.0f} tokens of code on")
PY
