#!/usr/bin/env bash
# Installs the real formatters the tests and benches/formatter_recall.py run output through —
# black, ruff, autopep8 and clang-format (a Python virtual environment) and prettier (npm) — pinned, into the
# cache outside the repository, and prints the folder (`py/bin`, `node/node_modules/.bin`).
# rustfmt comes with the Rust toolchain. Safe to re-run: what is there is kept.
set -euo pipefail
. "$(dirname "$0")/model-cache.sh"
dir="${GIT_HYBRID_FORMATTERS:-$HOME/.cache/git-hybrid/formatters}"
clang_format=23.1.5
mkdir -p "$dir"
if ! [ -x "$dir/py/bin/black" ] || ! [ -x "$dir/py/bin/ruff" ] || ! [ -x "$dir/py/bin/autopep8" ] \
  || ! [ -x "$dir/py/bin/clang-format" ]; then
  ensure_pip
  if ! python3 -m venv --help >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  fi
  rm -rf "$dir/py"
  python3 -m venv "$dir/py"
  "$dir/py/bin/python" -m pip install --quiet --disable-pip-version-check \
    black==26.10.1 ruff==0.17.6 autopep8==2.3.2 clang-format==$clang_format >&2
fi
if ! [ -x "$dir/node/node_modules/.bin/prettier" ]; then
  if ! command -v npm >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
  fi
  mkdir -p "$dir/node"
  (cd "$dir/node" && npm install --silent --no-audit --no-fund --prefix . prettier@3.10.1 >&2)
fi
echo "$dir"
