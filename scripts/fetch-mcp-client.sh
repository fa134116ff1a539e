#!/usr/bin/env bash
# Installs the official MCP Python SDK (pinned) into a virtual environment in the cache outside
# the repository, and prints the environment's python. The tests drive `git hybrid mcp` with it
# as a real MCP client over stdio. When the package cannot be installed, says why in
# mcp-client.unavailable beside it (the tests then skip, printing the reason) and succeeds.
set -euo pipefail
. "$(dirname "$0")/model-cache.sh"
version=2.3.0
top="${GIT_HYBRID_CACHE:-$HOME/.cache/git-hybrid}"
venv="$top/mcp-client-$version"
unavailable="$top/mcp-client.unavailable"
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import mcp.client.stdio" 2>/dev/null; then
  rm -f "$unavailable"
  echo "$venv/bin/python"
  exit 0
fi
mkdir -p "$top"
ensure_pip
if ! python3 -m venv --help >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  fi
fi
rm -rf "$venv.part"
if ! python3 -m venv "$venv.part" >&2 ||
  ! "$venv.part/bin/python" -m pip install --quiet --disable-pip-version-check "mcp==$version" >"$top/mcp-client.log" 2>&1; then
  echo "pip could not install mcp==$version (see $top/mcp-client.log)" >"$unavailable"
  cat "$unavailable" >&2
  exit 0
fi
rm -rf "$venv"
mv "$venv.part" "$venv"
sed -i "s#$venv.part#$venv#g" "$venv"/bin/* 2>/dev/null || true
"$venv/bin/python" -c "import mcp.client.stdio" >&2
rm -f "$unavailable"
echo "$venv/bin/python"
