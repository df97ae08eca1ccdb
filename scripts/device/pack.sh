#!/usr/bin/env bash
# Packs what a GPU machine without Node or Rust needs into .device/ (git-ignored), to be carried
# there with the working tree: node itself, the runtime npm packages, the PyTorch reference
# scripts and CIFAR-10. The compiled addon and dist/ travel as they are; the libtorch shim is
# rebuilt there against the machine's PyTorch (`node scripts/install.js --force`, see lib/libtorch.js). Everything must stay
# under the 64 MiB a device call carries.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .device
[ -f .device/node.xz ] || xz -T0 -6 -c "$(command -v node)" > .device/node.xz
# Development-only packages stay behind (onnxruntime-node alone is 290 MB; its tests skip there).
tar --exclude=node_modules/typescript --exclude=node_modules/@types --exclude=node_modules/prettier \
  --exclude=node_modules/onnxruntime-node --exclude=node_modules/onnxruntime-common --exclude=node_modules/autocannon \
  -cJf .device/node_modules.tar.xz node_modules
cp ../shared/bench/byol_torch_ref.py ../shared/bench/byol_torch_knn_ref.py .device/
cp ../shared/data/cifar10-jpg.tar.gz .device/
du -ch .device/* byol.linux-x64-gnu.node dist | tail -1
