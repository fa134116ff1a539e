#!/usr/bin/env bash
# Whole-process cost of the server's check (`git hybrid install --server`, pre-receive): a push
# of a human commit to main on a server whose records hold N generations (50 local-output lines
# each), against the same push to a server without the hook. Also the one-time cost of the
# server's first look at those records (its view is built then and kept), and what CI pays: a
# fresh clone's `verify` of the last push. Prints medians of paired runs and the ratio.
# Usage: benches/server-push.sh [runs] [generations, default 1000]
set -euo pipefail
runs="${1:-21}"
generations="${2:-1000}"
export GENERATIONS="$generations"
. "$(dirname "$0")/setup.sh"
cd "$work"
git init -q --bare -b main gated.git
git init -q --bare -b main plain.git
git -C gated.git hybrid install --server >/dev/null 2>&1
git init -q -b main clone && cd clone
git remote add gated ../gated.git && git remote add plain ../plain.git
echo "# bench" > README.md && git add . && git commit -q -m init
# 1,000 generation records of 50 lines each, written straight into a records tree.
python3 - <<'PY'
import hashlib, json, os, subprocess
def h(s, n): return hashlib.sha256(s.encode()).hexdigest()[:n]
entries = []
for g in range(int(os.environ["GENERATIONS"])):
    gid = "g-" + h(f"gen{g}", 12)
    record = {"version": 1, "id": gid, "kind": "adopt", "model": "bench", "spec_path": None,
              "branch": f"refs/heads/hybrid/b{g}", "base_commit": None,
              "result_commit": h(f"c{g}", 40), "change_id": "hc1-" + h(f"x{g}", 64),
              "lines": [[h(f"l{g}-{i}", 16), f"src/gen{g}.rs", i + 1] for i in range(50)],
              "recorded_by": "bench@example.com", "recorded_at": 1767225600}
    blob = subprocess.run(["git", "hash-object", "-w", "--stdin"], input=json.dumps(record).encode(),
                          capture_output=True, check=True).stdout.decode().strip()
    entries.append(f"100644 blob {blob}\t{gid}.json")
sub = subprocess.run(["git", "mktree"], input="\n".join(entries).encode(), capture_output=True, check=True).stdout.decode().strip()
top = subprocess.run(["git", "mktree"], input=f"040000 tree {sub}\tgenerations".encode(), capture_output=True, check=True).stdout.decode().strip()
commit = subprocess.run(["git", "commit-tree", top, "-m", "records"], capture_output=True, check=True).stdout.decode().strip()
subprocess.run(["git", "update-ref", "refs/hybrid/records", commit], check=True)
PY
start=$(date +%s%N)
git push -q plain main refs/hybrid/records
plain_ms=$(( ($(date +%s%N) - start) / 1000000 ))
start=$(date +%s%N)
git push -q gated main refs/hybrid/records
gated_ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "first push of the records: $gated_ms ms to the gated server (it reads $generations generations into its view), $plain_ms ms without the hook: the view costs $(( gated_ms - plain_ms )) ms" >&2

python3 - "$runs" <<'PY'
import statistics, subprocess, sys, time
runs = int(sys.argv[1])
def push(remote):
    s = time.perf_counter()
    subprocess.run(["git", "push", "-q", remote, "main"], check=True, stderr=subprocess.DEVNULL)
    return (time.perf_counter() - s) * 1000
ra, rb = [], []
for i in range(runs + 3):
    with open("README.md", "a") as f:
        f.write(f"line {i}\n")
    subprocess.run(["git", "commit", "-q", "-am", f"human {i}"], check=True)
    a, b = push("gated"), push("plain")
    if i >= 3:
        ra.append(a); rb.append(b)
ga, pa = statistics.median(ra), statistics.median(rb)
print(f"push of a human commit: {ga:.1f} ms to the gated server, {pa:.1f} ms without the hook; "
      f"ratio {ga/pa:.2f} (median of paired ratios {statistics.median([x / y for x, y in zip(ra, rb)]):.2f})")
PY
# CI: a fresh clone fetches the records and verifies the last push.
cd "$work"
git clone -q gated.git ci
git -C ci fetch -q origin '+refs/hybrid/records*:refs/hybrid/remotes/origin/records*'
start=$(date +%s%N)
git -C ci hybrid verify origin/main~1..origin/main >/dev/null 2>&1
echo "CI: a fresh clone's verify of one human commit, $generations generations in the records: $(( ($(date +%s%N) - start) / 1000000 )) ms" >&2
start=$(date +%s%N)
git -C ci hybrid verify origin/main~1..origin/main >/dev/null 2>&1
echo "CI: the same verify again in that clone: $(( ($(date +%s%N) - start) / 1000000 )) ms" >&2
