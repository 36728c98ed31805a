#!/usr/bin/env bash
# Builds the GPU benchmark's travel folder bench/gpu/.travel/ (artifacts without weights,
# weight recipes, the reference PyTorch code). Send bench/gpu/ (with .travel/) to the GPU
# machine and run `python3 bench/gpu/run.py` there. See bench/gpu/README.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
npx tsc -p . >/dev/null || true   # other modules' type errors do not stop the emit
test -f dist/cli/vovc.js || { echo "prepare.sh: dist/cli/vovc.js missing (tsc failed)" >&2; exit 1; }
rm -rf "$here/.travel"
mkdir -p "$here/.travel/generator"
cp /work/shared/fixtures/generator/*.py "$here/.travel/generator/" 2>/dev/null || cp "$root/../shared/fixtures/generator/"*.py "$here/.travel/generator/"
node "$here/prepare.mjs" "$here/.travel"
size=$(du -sb "$here" | cut -f1)
echo "bench/gpu is $((size / 1048576)) MiB (limit 64 MiB)"
test "$size" -lt $((64 * 1048576)) || { echo "prepare.sh: bench/gpu exceeds 64 MiB" >&2; exit 1; }
