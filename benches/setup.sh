# Sourced by the whole-process benches: builds the release binary, puts it first on PATH with git
# isolated from the user's config and a fixed identity, and makes "$work", removed on exit.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/git-hybrid/target}"
(cd "$here" && cargo build --release --quiet)
export PATH="$CARGO_TARGET_DIR/release:$PATH" GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
