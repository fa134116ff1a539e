#!/usr/bin/env python3
"""Whether the definitions a file uses reach the model: for files of real repositories that
import names from their own package, a spec naming the file is sent through `git hybrid
implement` (openai backend, to a local server that records the request and refuses it), and
the prompt is searched for each imported name's definition (`def name`, `class name`, `name =`
in Python; `fn`, `struct`, `enum`, `trait`, `type`, `const`, `static`, `macro_rules!` in Rust).

    benches/context_map.py BINARY [BINARY...] [--repos DIR...] [--files N] [--budget TOKENS]

Prints, per binary, the share of imported names whose definition was in the prompt, and the
mean prompt size. Run it with an older build and a newer one to compare what they send.
"""
import argparse
import http.server
import json
import os
import pathlib
import re
import subprocess
import tempfile
import threading

MIRRORS = pathlib.Path("/work/.mirror")
DEFAULT_REPOS = ["pallets+flask", "encode+httpx", "psf+requests", "pallets+click", "BurntSushi+ripgrep", "sharkdp+fd"]


class Recorder(http.server.BaseHTTPRequestHandler):
    bodies = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        Recorder.bodies.append(json.loads(body))
        answer = json.dumps({"error": {"message": "recorded", "type": "invalid_request_error"}}).encode()
        self.send_response(400)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


def imported_names(path, text):
    """(name) imported from the file's own package or crate."""
    names = []
    if path.endswith(".py"):
        for m in re.finditer(r"(?m)^[ \t]*from[ \t]+(\.+[\w.]*)[ \t]+import[ \t]+(?:\(([^)]*)\)|([\w \t,]+))", text):
            for item in (m.group(2) or m.group(3) or "").split(","):
                item = item.split()[0] if item.split() else ""
                if item and item != "*" and not item.startswith("_"):
                    names.append(item)
    else:
        for m in re.finditer(r"(?m)^\s*use\s+crate::([\w:{}, \n]+);", text):
            for item in re.findall(r"\b([A-Za-z_]\w*)\b", m.group(1).split("::")[-1] if "{" not in m.group(1) else m.group(1).split("{", 1)[1]):
                if item not in ("self", "super", "crate"):
                    names.append(item)
    return list(dict.fromkeys(names))


def defined(name, prompt, rust):
    if rust:
        pattern = rf"\b(fn|struct|enum|trait|type|const|static|mod)\s+{re.escape(name)}\b|macro_rules!\s*{re.escape(name)}\b"
    else:
        pattern = rf"(?m)^\s*(def|class|async def)\s+{re.escape(name)}\b|^\s*{re.escape(name)}\s*(:[^=\n]*)?="
    return re.search(pattern, prompt) is not None


def sample(repo, files):
    """Files with at least three imported names, in path order, `files` of them."""
    listed = subprocess.run(["git", "--git-dir", str(repo), "ls-tree", "-r", "--name-only", "HEAD"],
                            capture_output=True, text=True).stdout.split()
    picked = []
    for path in sorted(listed):
        if not (path.endswith(".py") or path.endswith(".rs")) or "test" in path or "example" in path or path.startswith("docs"):
            continue
        text = subprocess.run(["git", "--git-dir", str(repo), "show", f"HEAD:{path}"], capture_output=True,
                              text=True, errors="replace").stdout
        if len(imported_names(path, text)) >= 3:
            picked.append((path, text))
        if len(picked) == files:
            break
    return picked


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binaries", nargs="+")
    parser.add_argument("--repos", nargs="*", default=DEFAULT_REPOS)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--budget", type=int, default=3000)
    args = parser.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    results = {b: {"names": 0, "reached": 0, "tokens": []} for b in args.binaries}
    for name in args.repos:
        mirror = MIRRORS / name / "repo"
        if not mirror.exists():
            mirror = MIRRORS / name
        for path, text in sample(mirror, args.files):
            names = imported_names(path, text)
            with tempfile.TemporaryDirectory() as work:
                subprocess.run(["git", "clone", "-q", "--no-checkout", str(mirror), work], check=True)
                subprocess.run(["git", "-C", work, "checkout", "-q", "HEAD"], check=True)
                spec = pathlib.Path(work, ".hybrid/specs/task.md")
                spec.parent.mkdir(parents=True, exist_ok=True)
                spec.write_text(f"# Tidy up\n\nTidy up `{path}`.\n\n## Files\n\n- change `{path}`\n\n## Signatures\n\n- `def f()`\n\n## Tests\n\n- `f()` returns `1`\n")
                for binary in args.binaries:
                    Recorder.bodies.clear()
                    env = dict(os.environ, PATH=f"{pathlib.Path(binary).parent}:{os.environ['PATH']}",
                               GIT_CONFIG_GLOBAL="/dev/null", OPENAI_API_KEY="x")
                    subprocess.run(["git", "hybrid", "implement", ".hybrid/specs/task.md", "--backend", "openai",
                                    "--base-url", url, "--model", "m", "--route", "local", "--force", "--no-check",
                                    "--context-tokens", str(args.budget), "--no-daemon"],
                                   cwd=work, env=env, capture_output=True, text=True)
                    if not Recorder.bodies:
                        print(f"{binary}: no request for {name}:{path}")
                        continue
                    prompt = "\n".join(m["content"] for m in Recorder.bodies[0]["messages"])
                    reached = sum(defined(n, prompt, path.endswith(".rs")) for n in names)
                    r = results[binary]
                    r["names"] += len(names)
                    r["reached"] += reached
                    r["tokens"].append(len(prompt) // 4)
                    print(f"{pathlib.Path(binary).name:<12} {name}:{path:<40} {reached}/{len(names)} definitions, "
                          f"~{len(prompt) // 4} tokens", flush=True)
    print()
    for binary, r in results.items():
        share = r["reached"] / r["names"] if r["names"] else 0
        mean = sum(r["tokens"]) / len(r["tokens"]) if r["tokens"] else 0
        print(f"{binary}: {r['reached']}/{r['names']} imported definitions in the prompt ({100 * share:.0f}%), "
              f"mean prompt ~{mean:.0f} tokens over {len(r['tokens'])} files")
    server.shutdown()


if __name__ == "__main__":
    main()
