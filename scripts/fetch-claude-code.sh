#!/usr/bin/env bash
# Installs the Claude Code CLI (pinned, from npm) into the cache outside the repository and
# prints its path. The tests run it in print mode against the fake Anthropic server, with
# `git hybrid mcp` as its MCP server: the client people use, calling our tools. When it cannot
# be installed here (no npm, no registry), says why in claude-code.unavailable beside it (the
# test then skips, printing the reason) and succeeds.
set -euo pipefail
version=2.1.332
top="${GIT_HYBRID_CACHE:-$HOME/.cache/git-hybrid}"
dir="$top/claude-code-$version"
unavailable="$top/claude-code.unavailable"
mkdir -p "$top"
claude="$dir/node_modules/.bin/claude"
if [ -x "$claude" ] && "$claude" --version >/dev/null 2>&1; then
  rm -f "$unavailable"
  echo "$claude"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null || true
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "npm is not installed" >"$unavailable"
  cat "$unavailable" >&2
  exit 0
fi
rm -rf "$dir.part"
mkdir -p "$dir.part"
# The package's install script puts the platform's native binary in place; npm may skip it
# (install scripts not allowed), so it is run here in any case.
if ! (cd "$dir.part" && npm install --silent --no-audit --no-fund \
  "@anthropic-ai/claude-code@$version" >"$top/claude-code.log" 2>&1 &&
  cd node_modules/@anthropic-ai/claude-code && node install.cjs >>"$top/claude-code.log" 2>&1) ||
  ! "$dir.part/node_modules/.bin/claude" --version >>"$top/claude-code.log" 2>&1; then
  echo "npm could not install @anthropic-ai/claude-code@$version (see $top/claude-code.log)" >"$unavailable"
  cat "$unavailable" >&2
  exit 0
fi
rm -rf "$dir"
mv "$dir.part" "$dir"
rm -f "$unavailable"
echo "$claude"
