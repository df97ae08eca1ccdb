#!/usr/bin/env bash
# Runs on the GPU machine (no Node, no Rust there), over a working tree carried with
# .device/ (scripts/device/pack.sh), dist/ and the prebuilt addon:
#   1. builds the libtorch shim against that machine's PyTorch (CUDA),
#   2. runs the test suite there (the CUDA tests are no longer skipped),
#   3. runs the GPU benchmarks next to the PyTorch reference, in the same call.
# Everything it prints is also written under $OUT.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/byol-gpu}; mkdir -p "$OUT"
exec > >(tee "$OUT/gpu-check.log") 2>&1
step() { echo; echo "== $*  ($(date +%T))"; }

step machine
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'

step node
mkdir -p /tmp/node-bin
xz -dc .device/node.xz > /tmp/node-bin/node && chmod +x /tmp/node-bin/node
export PATH=/tmp/node-bin:$PATH
node --version
tar -xJf .device/node_modules.tar.xz

step shim
bash scripts/build-shim.sh || exit 1
node -e 'console.log(require("./index.js").runtimeInfo())'

step tests
tests=${BYOL_GPU_TESTS:-dist/__test__/*.test.js}
timeout 420 node node_modules/ava/entrypoints/cli.mjs --timeout 5m $tests

step benchmarks
for bench in ${BYOL_GPU_BENCH:-dist/bench/gpu-*.js}; do
  timeout 300 node "$bench"
done
