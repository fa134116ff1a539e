"""A real MCP client (the official Python SDK) driving `git-hybrid mcp` over stdio.

usage: mcp_client.py SCENARIO REPO [ARG]

Each scenario talks to a fresh server started in REPO, checks what it must inside (an assert
fails the run), and prints one JSON object of what it saw on stdout for the Rust test to check.
The server gets this process's whole environment (the SDK would pass only a few variables).
"""

import json
import os
import subprocess
import sys
import time

import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

# A docs task: what the tiny test model can deliver (its code would not parse, and code that
# does not parse is never committed).
GREETING = """# Add a greeting

## Files to touch

- create docs/greeting.md

## Requirements

- a title, then one paragraph saying that `greet(name)` returns "Hello, " followed by the name

## Tests

- the file starts with "# Greeting"
"""

FAREWELL = GREETING.replace("greeting", "farewell").replace("Greeting", "Farewell").replace(
    "greet(", "farewell(").replace("Hello", "Goodbye")

TOOLS = {"spec_lint", "implement", "pending", "show", "verify", "review", "fix",
         "review_request", "review_submit"}


def git(repo, *args):
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)


async def connect(repo, body):
    params = StdioServerParameters(
        command="git-hybrid", args=["mcp"], cwd=repo, env=dict(os.environ)
    )
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as s:
            started = time.monotonic()
            init = await s.initialize()
            init_ms = (time.monotonic() - started) * 1000
            return await body(s, init, init_ms)


def structured(result):
    assert not result.is_error, result.content[0].text if result.content else result
    assert result.structured_content is not None, result
    # The text form carries the same result.
    assert json.loads(result.content[0].text) == result.structured_content
    return result.structured_content


async def tools(s, init, init_ms):
    assert init.server_info.name == "git-hybrid"
    assert "Delegate" in init.instructions and "spec_lint" in init.instructions
    started = time.monotonic()
    listed = (await s.list_tools()).tools
    list_ms = (time.monotonic() - started) * 1000
    names = {t.name for t in listed}
    assert names == TOOLS, names
    for t in listed:
        assert t.description and len(t.description) > 40, t.name
        assert t.output_schema and t.output_schema.get("type") == "object", t.name
        assert t.input_schema.get("type") == "object", t.name
    implement = next(t for t in listed if t.name == "implement")
    for field in ("spec", "spec_path", "check", "model", "files", "route"):
        assert field in implement.input_schema["properties"], field
    vague = structured(await s.call_tool("spec_lint", {"text": "# Users\nmake users work"}))
    assert vague["ok"] is False and vague["problems"], vague
    precise = structured(await s.call_tool("spec_lint", {"text": GREETING}))
    assert precise == {"ok": True, "problems": []}, precise
    refused = await s.call_tool("implement", {"spec": "# Users\nmake users work"})
    assert refused.is_error and "too vague" in refused.content[0].text, refused
    return {"list_ms": list_ms, "init_ms": init_ms, "tools": sorted(names),
            "tool_list_bytes": len(json.dumps([t.model_dump(mode="json", exclude_none=True) for t in listed]))}


async def delegate(s, init, init_ms):
    repo = os.getcwd()
    progress = []

    async def on_progress(value, total, message):
        progress.append(message)

    done = structured(await s.call_tool("implement", {"spec": GREETING}, progress_callback=on_progress))
    assert done["branch"] == "hybrid/add-a-greeting", done
    assert "+++ b/docs/greeting.md" in done["diff"], done["diff"]
    assert done["generation"].startswith("g-") and done["files"] == ["docs/greeting.md"], done
    assert done["spec"].startswith(".git/hybrid/specs/"), done["spec"]
    assert done["by_daemon"] == (os.environ.get("EXPECT_DAEMON") == "1"), done
    assert progress, "no progress notification"
    # The worktree is untouched: no file written, nothing staged, HEAD where it was.
    assert git(repo, "status", "--porcelain").stdout == "", git(repo, "status", "--porcelain").stdout
    assert git(repo, "branch", "--show-current").stdout.strip() == "main"

    # A cancel stops the job at once; nothing reaches a branch and the server goes on serving.
    cancelled = anyio.Event()
    seen = []

    async def on_cancel_progress(value, total, message):
        seen.append(message)
        cancelled.set()

    outcome = {}

    async def run():
        outcome["result"] = await s.call_tool(
            "implement", {"spec": FAREWELL}, progress_callback=on_cancel_progress
        )

    async with anyio.create_task_group() as tg:
        tg.start_soon(run)
        with anyio.fail_after(120):
            await cancelled.wait()
        tg.cancel_scope.cancel()
    assert "result" not in outcome, outcome
    # The job saw the cancel: give it a moment to stop, then look.
    for _ in range(100):
        pending = structured(await s.call_tool("pending", {}))
        if git(repo, "rev-parse", "-q", "--verify", "refs/heads/hybrid/add-a-farewell").returncode != 0:
            break
        time.sleep(0.1)
    branches = git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/").stdout.split()
    assert "hybrid/add-a-farewell" not in branches, branches
    assert [g["branch"] for g in pending["generations"]] == ["refs/heads/hybrid/add-a-greeting"], pending

    shown = structured(await s.call_tool("show", {"target": "hybrid/add-a-greeting"}))
    assert [f["path"] for f in shown["files"]] == ["docs/greeting.md"], shown
    verified = structured(await s.call_tool("verify", {"range": "main..hybrid/add-a-greeting"}))
    assert verified["decision"] == "block", verified
    missing = await s.call_tool("show", {"target": "no-such-branch"})
    assert missing.is_error and "no-such-branch" in missing.content[0].text, missing
    return {"progress": progress, "cancel_progress": seen, "generation": done["generation"],
            "by_daemon": done["by_daemon"], "wall_ms": done["wall_ms"],
            "tokens_out": done["tokens_out"], "result_bytes": len(json.dumps(done))}


async def review(s, init, init_ms):
    reviewed = structured(await s.call_tool("review", {"target": "hybrid/add-a-greeting"}))
    assert reviewed["approved"] is True, reviewed
    verified = structured(await s.call_tool("verify", {"range": "main..hybrid/add-a-greeting"}))
    assert verified["decision"] == "allow", verified
    return {"usd": reviewed["usd"], "change_id": reviewed["change_id"]}


async def session_off(s, init, init_ms):
    refused = await s.call_tool("review_request", {"target": "hybrid/port"})
    assert refused.is_error, refused
    text = refused.content[0].text
    assert "does not accept" in text and 'accept = ["api", "mcp"]' in text, text
    return {"refused": text}


async def session_unreadable(s, init, init_ms):
    # The part size is set where the server reads it (GIT_HYBRID_REVIEW_PART_TOKENS), and not
    # to a number: refused as `review` refuses it, nothing handed out under the default.
    refused = await s.call_tool("review_request", {"target": "hybrid/port"})
    assert refused.is_error, refused
    text = refused.content[0].text
    assert "GIT_HYBRID_REVIEW_PART_TOKENS" in text and "lots" in text, text
    assert "set a whole number there" in text, text
    return {"refused": text}


APPROVE = {"decision": "approve", "summary": "parse_port does what the spec says.", "findings": []}
CHANGES = {"decision": "request_changes", "summary": "Port 0 is accepted.", "findings": [
    {"path": "src/port.rs", "line": 1, "severity": "medium", "category": "edge_cases",
     "message": "Port 0 is accepted.", "suggestion": "Reject 0."}]}


async def session(s, init, init_ms):
    asked = structured(await s.call_tool("review_request", {"target": "hybrid/port"}))
    assert asked["status"] == "ready" and asked["id"].startswith("sr-"), asked
    assert len(asked["parts"]) == 1 and asked["parts"][0]["files"] == ["src/port.rs"], asked
    text = asked["parts"][0]["text"]
    assert "parse_port" in text and "src/port.rs" in text, text
    assert asked["answer_schema"]["required"] == ["decision", "summary", "findings"]
    # Miscounted answers are refused and the review keeps waiting under the same id.
    miscounted = await s.call_tool("review_submit", {"id": asked["id"], "verdicts": [APPROVE, APPROVE], "model": "claude-test"})
    assert miscounted.is_error and "1 part(s) and 2 answer(s)" in miscounted.content[0].text, miscounted
    # An answer off the schema is not a verdict: nothing is approved.
    off = structured(await s.call_tool("review_submit", {"id": asked["id"], "verdicts": [{"decision": "approve"}], "model": "claude-test"}))
    assert off["approved"] is False and off["verdict_id"] is None and "error" in off["parts"][0], off
    # The id was used once: it is gone.
    again = await s.call_tool("review_submit", {"id": asked["id"], "verdicts": [APPROVE], "model": "claude-test"})
    assert again.is_error and "no review is waiting" in again.content[0].text, again
    asked = structured(await s.call_tool("review_request", {"target": "hybrid/port"}))
    changes = structured(await s.call_tool("review_submit", {"id": asked["id"], "verdicts": [CHANGES], "model": "claude-test"}))
    assert changes["approved"] is False and changes["parts"][0]["findings"], changes
    blocked = structured(await s.call_tool("verify", {"range": "main..hybrid/port"}))
    assert blocked["decision"] == "block", blocked
    asked = structured(await s.call_tool("review_request", {"target": "hybrid/port"}))
    approved = structured(await s.call_tool("review_submit", {"id": asked["id"], "verdicts": [json.dumps(APPROVE)], "model": "claude-test"}))
    assert approved["approved"] is True and approved["verdict_id"], approved
    allowed = structured(await s.call_tool("verify", {"range": "main..hybrid/port"}))
    assert allowed["decision"] == "allow", allowed
    done = structured(await s.call_tool("review_request", {"target": "hybrid/port"}))
    assert done["status"] == "approved", done
    return {"verdict_id": approved["verdict_id"], "client": init.server_info.name}


SCENARIOS = {"tools": tools, "delegate": delegate, "review": review,
             "session_off": session_off, "session": session,
             "session_unreadable": session_unreadable}

if __name__ == "__main__":
    scenario, repo = sys.argv[1], sys.argv[2]
    os.chdir(repo)
    seen = anyio.run(connect, repo, SCENARIOS[scenario])
    print(json.dumps(seen))
