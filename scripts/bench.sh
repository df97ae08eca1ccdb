#!/usr/bin/env bash
# `npm run bench`: the CPU benchmarks, each next to its PyTorch reference measured in the same
# run (a few minutes). Set-up first (idempotent), so this works on a fresh clone.
# The learning-quality comparison is `bash bench/quality.sh` (tens of minutes on this CPU); the GPU
# benchmarks run on a CUDA machine through scripts/device/gpu-check.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
for bench in cpu-step augment; do
  echo "== bench/$bench.ts"
  node "dist/bench/$bench.js"
done
# The step in the reference's NCHW layout, and under bf16 autocast (where the CPU has bf16
# instructions; the reference stays float32).
echo "== bench/cpu-step.ts --layout nchw"
node dist/bench/cpu-step.js --layout nchw
# The reference with glibc's allocator tuned as byol tunes its own (what is left is the layout).
echo "== bench/cpu-step.ts --tuned-reference"
node dist/bench/cpu-step.js --tuned-reference
echo "== bench/cpu-step.ts --precision bf16"
node dist/bench/cpu-step.js --precision bf16
