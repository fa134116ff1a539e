#!/usr/bin/env bash
# Time to first token through the daemon: the first job after `daemon start` (the model must be
# loaded) against the next job (the model is already loaded), on the same spec, repository and
# threads. Prints both and the ratio warm / cold. Usage: benches/daemon-ttft.sh [model.gguf] [runs]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
model="${1:-$("$here/scripts/fetch-test-model.sh")}"
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
printf '# Add a greeting\n\nCreate src/greet.rs with a Rust function `greet(name: &str) -> String`.\n' > .hybrid/specs/greet.md
echo 'pub fn x() {}' > src/lib.rs
git add -A && git commit -q -m init
git hybrid model add "$model" >/dev/null 2>&1
ttft() { git hybrid implement .hybrid/specs/greet.md --threads 2 --max-tokens 200 --branch "hybrid/b$1" 2>&1 | sed -n 's/.*first token after \([0-9]*\) ms.*/\1/p'; }
cold=(); warm=()
for i in $(seq "$runs"); do
  git hybrid daemon start >/dev/null 2>&1
  cold+=("$(ttft "c$i")")
  warm+=("$(ttft "w$i")")
  git hybrid daemon stop >/dev/null 2>&1
done
python3 - "${cold[*]}" "${warm[*]}" <<'PY'
import statistics, sys
cold = [int(x) for x in sys.argv[1].split()]
warm = [int(x) for x in sys.argv[2].split()]
c, w = statistics.median(cold), statistics.median(warm)
print(f"time to first token: cold job {c:.0f} ms (model loaded first), warm job {w:.0f} ms; ratio warm / cold {w / c:.2f}")
PY
