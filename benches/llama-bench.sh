#!/usr/bin/env bash
# Generation speed of the embedded backend against llama.cpp itself, built from the very llama.cpp
# that llama-cpp-sys-2 vendors, on the same GGUF and thread count. Prints both tokens/s and the
# ratio (ours / llama.cpp). Usage: benches/llama-bench.sh [model.gguf] [threads]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
model="${1:-$("$here/scripts/fetch-test-model.sh")}"
threads="${2:-2}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/git-hybrid/target}"
(cd "$here" && cargo build --release --quiet --example embedded_speed)
# llama-cpp-sys-2 vendors llama.cpp's libraries but not its tools (no llama-bench), so the baseline
# is benches/tg_baseline.c: llama.h's own decode loop, linked against the same static libraries.
out=$(ls -td "$CARGO_TARGET_DIR"/release/build/llama-cpp-sys-2-*/out | head -1)
baseline="$CARGO_TARGET_DIR/tg_baseline"
cc -O2 -o "$baseline" "$here/benches/tg_baseline.c" -I"$out/include" -L"$out/lib" \
  -lllama -lggml -lggml-cpu -lggml-base -lstdc++ -fopenmp -lpthread -lm -ldl
theirs=$("$baseline" "$model" "$threads" 128)
ours=$("$CARGO_TARGET_DIR/release/examples/embedded_speed" "$model" "$threads" 128)
echo "llama.cpp through llama.h: $theirs tok/s; git-hybrid embedded: $ours tok/s (no grammar, greedy, $threads threads)"
python3 -c "print(f'ratio ours / llama.cpp: {float($ours)/float($theirs):.2f}')"
