# git-hybrid shim @VERSION@ (@HOOK@): keeps unreviewed local-model output off protected refs.
# Written by `git hybrid install`. A hook that was here before was moved to "$0.hybrid-chained";
# it still runs first, and `git hybrid uninstall` puts it back unchanged.

# Runs the hook this shim replaced with the same $0, arguments and standard input: hooks that
# find their own files through $0 (husky's do) keep working.
hybrid_chained() {
  hybrid_c="$0.hybrid-chained"
  [ -x "$hybrid_c" ] || return 0
  IFS= read -r hybrid_first < "$hybrid_c" || hybrid_first=
  case "$hybrid_first" in
    '#!/bin/sh' | '#!/bin/sh '* | '#!/usr/bin/env sh' | '#!/usr/bin/env sh '*)
      # Sourced so that it sees the original $0; its shebang's flags (sh -e) still apply.
      hybrid_flags=${hybrid_first#'#!/bin/sh'}
      hybrid_flags=${hybrid_flags#'#!/usr/bin/env sh'}
      # shellcheck disable=SC2086 # the flags are words on purpose
      sh $hybrid_flags -c 'c=$1; shift; . "$c"' "$0" "$hybrid_c" "$@" ;;
    *) "$hybrid_c" "$@" ;;
  esac
}

# The gate fails closed: without the binary nothing can be checked, so nothing protected moves.
hybrid_require() {
  command -v git-hybrid >/dev/null 2>&1 && return 0
  echo "hybrid: blocked: git-hybrid is not on PATH, so the @HOOK@ hook cannot check this update." >&2
  echo "hybrid: install it (./install.sh in the git-hybrid source tree) or put its folder on PATH, then retry." >&2
  exit 1
}

