#!/usr/bin/env bash
# Runs on the GPU machine (no Node, no Rust there), over a working tree carried with
# .device/ (scripts/device/pack.sh), dist/ and the prebuilt addon:
#   1. builds the libtorch shim against that machine's PyTorch (CUDA),
#   2. runs the test suite there (the CUDA tests are no longer skipped),
#   3. speed: the training-step benchmark (bench/gpu-speed.ts) on synthetic and real CIFAR-10
#      images next to the PyTorch reference's lightly, gpuaug and graph modes, in the same call,
#   4. augment: the augmentation's share of a step (bench/gpu-augment.ts),
#   5. train: the main job (Lightly's BYOL example on CIFAR-10, BYOL_GPU_EPOCHS epochs),
#   6. headline: cifar10-benchmark, 3x3 stem, batch 512, 200 epochs, kNN every 10 (target:
#      top-1 >= 0.87 within 5 minutes of wall time),
#   7. reference: the PyTorch learning-quality reference,
#   8. dataparallel: a world-size-1 NCCL job against no job, byol and PyTorch's
#      DistributedDataParallel alike (bench/data-parallel.ts --world1 --device cuda).
# Everything it prints is also written to $OUT/gpu-check.log. Sections: BYOL_GPU_SECTIONS
# (default: tests speed train).
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/byol-gpu}; mkdir -p "$OUT"
exec > >(tee "$OUT/gpu-check.log") 2>&1
sections=${BYOL_GPU_SECTIONS:-tests speed train}
epochs=${BYOL_GPU_EPOCHS:-10}
step() { echo; echo "== $*  ($(date +%T))"; }

step machine
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'

step node
if ! command -v node >/dev/null; then
  mkdir -p /tmp/node-bin
  xz -dc .device/node.xz > /tmp/node-bin/node && chmod +x /tmp/node-bin/node
  export PATH=/tmp/node-bin:$PATH
fi
node --version
[ -d node_modules/ava ] || tar -xJf .device/node_modules.tar.xz

step shim
node scripts/install.js --force && test -f libbyoltorch.so || exit 1
node -e 'console.log(require("./index.js").runtimeInfo())'

if [[ " $sections " == *" tests "* ]]; then
  step tests
  timeout 300 node node_modules/ava/entrypoints/cli.mjs --timeout 4m ${BYOL_GPU_TESTS:-} | tee "$OUT/tests.log" | grep -vE "^\s+✔"
fi

data() { [ -d datasets/cifar10 ] || { mkdir -p datasets && tar -xzf .device/cifar10-jpg.tar.gz -C datasets; }; }

if [[ " $sections " == *" speed "* ]]; then
  step "training-step speed against PyTorch (same call)"
  data
  timeout 420 node dist/bench/gpu-speed.js --data datasets/cifar10 ${BYOL_GPU_SPEED_ARGS:-}
fi

if [[ " $sections " == *" augment "* ]]; then
  step "augmentation share of a step"
  timeout 180 node dist/bench/gpu-augment.js
fi

if [[ " $sections " == *" train "* ]]; then
  step "main job on the GPU ($epochs epochs)"
  data
  timeout 300 node dist/bench/gpu-train.js --data datasets/cifar10 --epochs "$epochs" --eval-every "$epochs"
fi

if [[ " $sections " == *" headline "* ]]; then
  step "headline: cifar10-benchmark, batch 512, 200 epochs (target kNN >= 0.87 in <= 5 min)"
  data
  timeout 540 node dist/bench/gpu-train.js --data datasets/cifar10 --preset cifar10-benchmark --batch-size 512 --epochs 200 --eval-every 10
fi

if [[ " $sections " == *" reference "* ]]; then
  step "PyTorch learning-quality reference ($epochs epochs)"
  data
  timeout 300 python3 .device/byol_torch_knn_ref.py --data datasets/cifar10 --epochs "$epochs" --workers 12
fi
if [[ " $sections " == *" dataparallel "* ]]; then
  step "data-parallel: a world-size-1 NCCL job against no job (byol and PyTorch DDP, same call)"
  timeout 300 node dist/bench/data-parallel.js --world1 --device cuda --steps 20 --rounds 2 --reference .device/byol_torch_ref.py
fi
step done
