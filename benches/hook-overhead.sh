#!/usr/bin/env bash
# Whole-process cost of the gate's hooks, measured against git's own work on the same repository:
#   pre-commit on a 20,000-file repository with a 200-line staged human change and 500 recorded
#   local-output lines, against `git diff --cached` alone (budget: 2x);
#   reference-transaction on a ref that is not protected, against a trivial sh hook (budget: 1.2x).
# Prints medians of paired runs and the ratios. Usage: benches/hook-overhead.sh [runs]
set -euo pipefail
runs="${1:-41}"
. "$(dirname "$0")/setup.sh"
repo="$work/repo"
mkdir "$repo" && cd "$repo"
git init -q -b main
python3 - <<'PY'
import os
for d in range(200):
    os.makedirs(f"src/mod{d:03}", exist_ok=True)
    for f in range(100):
        with open(f"src/mod{d:03}/file{f:03}.rs", "w") as fh:
            fh.write("".join(f"pub fn f_{d}_{f}_{i}(x: u64) -> u64 {{ x * {i} + {d} }}\n" for i in range(8)))
PY
git add -A && git commit -q -m "20,000 files"
git hybrid install >/dev/null 2>&1
# 500 lines of local output on a quarantine branch, adopted.
git checkout -q -b hybrid/gen
python3 -c "
print(''.join(f'pub fn generated_{i}(value: u64) -> u64 {{ value.wrapping_mul({i}) ^ 0x5f3759df }}\n' for i in range(500)), end='')
" > src/generated.rs
git add src/generated.rs && git commit -q -m gen
git hybrid adopt hybrid/gen --model bench >/dev/null 2>&1
git checkout -q main
# A 200-line human change, staged: 20 lines in each of 10 files.
python3 - <<'PY'
for k in range(10):
    p = f"src/mod{k*7:03}/file{k:03}.rs"
    with open(p, "a") as fh:
        fh.write("".join(f"pub fn human_{k}_{i}(y: u64) -> u64 {{ y + {k * 100 + i} }}\n" for i in range(20)))
PY
git add -A
# Before it runs pre-commit, `git commit` updates the index's cache-tree and writes its trees;
# write-tree does the same, so the hook sees the index exactly as a commit would hand it over.
git write-tree >/dev/null
git diff --cached --stat | tail -1 >&2

cat > "$work/trivial-hook" <<'SH'
#!/bin/sh
exit 0
SH
chmod +x "$work/trivial-hook"
mkdir "$work/trivial-hooks"
for h in pre-commit pre-merge-commit reference-transaction pre-push; do cp "$work/trivial-hook" "$work/trivial-hooks/$h"; done
zero=0000000000000000000000000000000000000000
head=$(git rev-parse HEAD)
echo "$zero $head refs/remotes/origin/main" > "$work/ref-input"

python3 - "$runs" "$work" <<'PY'
import statistics, subprocess, sys, time
runs, work = int(sys.argv[1]), sys.argv[2]
def t(cmd, stdin=None):
    with open(stdin or "/dev/null", "rb") as i:
        s = time.perf_counter()
        subprocess.run(cmd, stdin=i, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        return (time.perf_counter() - s) * 1000
def paired(a, b, stdin=None):
    for _ in range(3):
        t(a, stdin); t(b, stdin)
    ra, rb = [], []
    for _ in range(runs):
        ra.append(t(a, stdin)); rb.append(t(b, stdin))
    return statistics.median(ra), statistics.median(rb), statistics.median([x / y for x, y in zip(ra, rb)])
gd, pc, r = paired(["git", "diff", "--cached"], [".git/hooks/pre-commit"])
print(f"pre-commit shim (gate, 200 staged lines, 500 local lines): {pc:.1f} ms; git diff --cached: {gd:.1f} ms; ratio {pc/gd:.2f} (median of paired ratios {1/r:.2f})")
_, bin_only, _ = paired(["git", "diff", "--cached"], ["git-hybrid", "hook", "pre-commit"])
print(f"  of which git-hybrid hook pre-commit alone: {bin_only:.1f} ms")
# What a user feels: a whole `git commit` (then `reset --soft` to undo it), with the gate, with
# trivial sh hooks of the same names (git itself does extra work whenever hooks exist: it re-reads
# the index after pre-commit and runs reference-transaction several times per update), and with
# no hooks at all.
def commit(hooks):
    return ["sh", "-c", f"git -c core.hooksPath={hooks} commit -q -m bench && git -c core.hooksPath={hooks} reset -q --soft HEAD~1"]
trivial_hooks = f"{work}/trivial-hooks"
none_ms, trivial_ms, _ = paired(commit("/dev/null"), commit(trivial_hooks))
_, gated_ms, r = paired(commit(trivial_hooks), commit(".git/hooks"))
print(f"git commit + reset --soft: {gated_ms:.1f} ms with the gate, {trivial_ms:.1f} ms with trivial sh hooks, {none_ms:.1f} ms with none; gate / trivial hooks {gated_ms/trivial_ms:.2f} (median of paired ratios {1/r:.2f})")
triv, rt, r = paired([f"{work}/trivial-hook", "prepared"], [".git/hooks/reference-transaction", "prepared"], f"{work}/ref-input")
print(f"reference-transaction on refs/remotes/origin/main: {rt:.2f} ms; trivial sh hook: {triv:.2f} ms; ratio {rt/triv:.2f} (median of paired ratios {1/r:.2f})")
PY
