#!/usr/bin/env bash
# Time to first token: a `--no-daemon` run (the model is loaded, the whole prompt read) against
# the second job a warm daemon runs on the same repository (the model is loaded already, and the
# prompt's shared beginning — instructions and the repository's files — is already in its
# cache). Both specs name the same file; each job is timed from when it starts to its first
# token. Prints the medians and the ratio. Usage: benches/daemon-ttft.sh [model.gguf] [runs]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
model="${1:-$HOME/.cache/git-hybrid/models/Qwen2.5-Coder-0.5B-Instruct-Q4_K_M.gguf}"
[ -f "$model" ] || model="$("$here/scripts/fetch-test-model.sh")"
runs="${2:-3}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/git-hybrid/target}"
(cd "$here" && cargo build --release --quiet)
work="$(mktemp -d)"
export HOME="$work/home" PATH="$CARGO_TARGET_DIR/release:$PATH" GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
trap 'git hybrid daemon stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
mkdir -p "$HOME" "$work/repo" && cd "$work/repo"
git init -q -b main
mkdir -p .hybrid/specs src
# A module of realistic size: the repository context the prompt carries.
cp "$here/src/local/implement/check.rs" src/check.rs
cp "$here/src/change/render.rs" src/render.rs
printf '# Add a greeting\n\nIn `src/check.rs`, add `pub fn greet(name: &str) -> String` returning "Hello, " and the name.\n\n## Tests\n\n- `greet("Ada")` returns `"Hello, Ada"`\n' > .hybrid/specs/greet.md
printf '# Add a farewell\n\nIn `src/check.rs`, add `pub fn farewell(name: &str) -> String` returning "Bye, " and the name.\n\n## Tests\n\n- `farewell("Ada")` returns `"Bye, Ada"`\n' > .hybrid/specs/farewell.md
git add -A && git commit -q -m init
git hybrid model add "$model" >/dev/null 2>&1
ttft() { git hybrid implement "$@" --threads 2 --max-tokens 300 --context-tokens 3000 --json 2>/dev/null \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["first_token_ms"])' || echo 0; }
cold=(); warm=()
for i in $(seq "$runs"); do
  cold+=("$(ttft .hybrid/specs/farewell.md --no-daemon --branch "hybrid/c$i")")
  git hybrid daemon start >/dev/null 2>&1
  ttft .hybrid/specs/greet.md --branch "hybrid/w$i" >/dev/null
  warm+=("$(ttft .hybrid/specs/farewell.md --branch "hybrid/s$i")")
  git hybrid daemon stop >/dev/null 2>&1
done
python3 - "${cold[*]}" "${warm[*]}" <<'PY'
import statistics, sys
cold = [int(x) for x in sys.argv[1].split()]
warm = [int(x) for x in sys.argv[2].split()]
c, w = statistics.median(cold), statistics.median(warm)
print(f"time to first token: --no-daemon {c:.0f} ms {cold}, a warm daemon's second job {w:.0f} ms {warm}; ratio {w / c:.2f}")
PY
