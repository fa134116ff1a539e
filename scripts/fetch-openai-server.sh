#!/usr/bin/env bash
# Installs a real OpenAI-compatible server — llama-cpp-python's `[server]` (pinned) — into a
# virtual environment in the cache outside the repository, and prints the environment's python.
# The tests start it on the test model to check `implement --backend openai` against software
# nobody here wrote. pip builds llama.cpp from source: several minutes the first time, nothing
# after (the environment is kept). Safe to re-run.
set -euo pipefail
. "$(dirname "$0")/model-cache.sh"
version=0.3.36
venv="${GIT_HYBRID_SERVER_CACHE:-$HOME/.cache/git-hybrid/llama-cpp-python-$version-portable}"
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import llama_cpp.server" 2>/dev/null; then
  echo "$venv/bin/python"
  exit 0
fi
ensure_pip
if ! python3 -m venv --help >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  fi
fi
rm -rf "$venv.part"
python3 -m venv "$venv.part"
# Only the library the server loads: no examples, tests or tools of llama.cpp. Built for any
# CPU of the architecture, not this one's (GGML_NATIVE=OFF): a machine may advertise
# instructions (AMX, AVX-512) that its virtual machine does not enable, and a native build then
# dies with SIGILL at the first matrix product.
CMAKE_ARGS="${CMAKE_ARGS:--DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF -DGGML_NATIVE=OFF}" \
  CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
  "$venv.part/bin/python" -m pip install --quiet --disable-pip-version-check \
  "llama-cpp-python[server]==$version" >&2
# The environment's scripts name its folder: build it in place under the final name.
rm -rf "$venv"
mv "$venv.part" "$venv"
sed -i "s#$venv.part#$venv#g" "$venv"/bin/* 2>/dev/null || true
"$venv/bin/python" -c "import llama_cpp.server" >&2
echo "$venv/bin/python"
