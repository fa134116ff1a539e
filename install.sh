#!/usr/bin/env bash
# Takes a fresh Debian machine to a working `git hybrid`: build dependencies, a release build,
# the binary on PATH. Safe to run again: it only does what is still missing.
set -euo pipefail
cd "$(dirname "$0")"

say() { printf 'install: %s\n' "$*" >&2; }

# Build dependencies: a C compiler and make for the bundled SQLite and libgit2, pkg-config for
# zlib, cmake and clang (libclang for bindgen) for the embedded llama.cpp, CA certificates for
# the reviewer's TLS, and git itself to run the hooks.
missing=()
command -v git >/dev/null 2>&1 || missing+=(git)
command -v cc >/dev/null 2>&1 || missing+=(build-essential)
command -v c++ >/dev/null 2>&1 || missing+=(g++)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v clang >/dev/null 2>&1 || missing+=(clang)
ls /usr/lib/llvm-*/lib/libclang*.so* >/dev/null 2>&1 || ls /usr/lib/*/libclang*.so* >/dev/null 2>&1 || missing+=(libclang-dev)
[ -e /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)
# ssh-keygen signs records and checks their signatures, as git does for SSH-signed commits.
command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    say "missing build dependencies; run: sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
fi
if ! command -v cargo >/dev/null 2>&1; then
  say "cargo (Rust 1.88 or newer) is needed; install it with rustup, then run ./install.sh again"
  exit 1
fi

# Builds land outside the source tree so repeated installs and test runs reuse them.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/git-hybrid/target}"
say "building (the first build compiles llama.cpp: about 10 minutes on 2 cores)"
# Cargo shows its own progress: a bar on a terminal, a line per crate in a log.
cargo build --release --locked

if [ "$(id -u)" = 0 ]; then bindir="${GIT_HYBRID_BINDIR:-/usr/local/bin}"; else bindir="${GIT_HYBRID_BINDIR:-$HOME/.local/bin}"; fi
mkdir -p "$bindir"
# Copy then rename, so a hook running during the install never sees a half-written binary.
install -m 755 "$CARGO_TARGET_DIR/release/git-hybrid" "$bindir/.git-hybrid.new"
mv -f "$bindir/.git-hybrid.new" "$bindir/git-hybrid"
say "installed $bindir/git-hybrid"
# `git hybrid --help` opens the manual page, as git does for its own commands; each command has
# its own page (`man git-hybrid-review`).
prefix="${bindir%/bin}"
mandir="$prefix/share/man/man1"
if mkdir -p "$mandir" 2>/dev/null; then
  "$bindir/git-hybrid" man --dir "$mandir" 2>/dev/null || say "could not write the manual pages to $mandir"
fi
# Shell completions where bash-completion, zsh and fish look for them.
completion() { # shell, folder, file name
  mkdir -p "$2" 2>/dev/null && "$bindir/git-hybrid" completions "$1" > "$2/.$3.new" && mv -f "$2/.$3.new" "$2/$3"
}
completion bash "$prefix/share/bash-completion/completions" git-hybrid || say "bash completion not installed"
completion zsh "$prefix/share/zsh/site-functions" _git-hybrid || say "zsh completion not installed"
completion fish "$prefix/share/fish/vendor_completions.d" git-hybrid.fish || say "fish completion not installed"
case ":$PATH:" in
  *":$bindir:"*) ;;
  *) say "add $bindir to PATH (e.g. in ~/.profile: export PATH=\"$bindir:\$PATH\")"; export PATH="$bindir:$PATH" ;;
esac
# A local model to start with: the demo model (Qwen2.5-Coder-0.5B, 491 MB, hash-checked), unless
# one is registered already. GIT_HYBRID_NO_MODEL=1 skips it.
if [ -z "${GIT_HYBRID_NO_MODEL:-}" ] && ! git hybrid model list --json 2>/dev/null | grep -q '"default":"'; then
  say "fetching the demo model (Qwen2.5-Coder-0.5B, 491 MB)"
  git hybrid model add "$(scripts/fetch-demo-model.sh)"
fi
say "next: 'git hybrid demo' shows the whole loop; 'git hybrid install' in a repository puts the gate on its hooks"
git hybrid --version
