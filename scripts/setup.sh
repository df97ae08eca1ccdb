#!/usr/bin/env bash
# Installs what byol needs on a fresh Debian machine and builds it. Safe to run again: each step
# is skipped when its result is already there.
#   scripts/setup.sh           libtorch, Rust crates and tools, npm packages, the native addon, TypeScript
#   scripts/setup.sh --bench   also Debian's PyTorch (the reference the benchmarks and fixtures use)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

packages=(libtorch-dev g++ xz-utils)
# libtorch's matrix products go to the system's libblas.so.3, which is netlib's reference BLAS
# unless an optimized one is installed: OpenBLAS doubles the CPU step. Its OpenMP build shares
# libtorch's OpenMP threads; the pthreads build adds threads of its own and was slower here
# (BENCHMARKS.md).
packages+=(libopenblas0-openmp)
# python3-torch/torchvision are the PyTorch reference: the safetensors round-trip test and the
# benchmarks use them, the fixture generators too.
packages+=(python3-torch python3-torchvision python3-pil)
# python3-onnx: onnx.checker.check_model in the ONNX export test (__test__/onnx.test.ts).
packages+=(python3-onnx)
# libgloo-dev: the Gloo headers libtorch's c10d process groups need (data-parallel training);
# libtorch-dev does not pull them in.
packages+=(libgloo-dev)
# libjpeg-dev: services decode uploaded JPEGs with libjpeg-turbo, 100x cheaper than sharp's
# per-call pipeline for small images (crates/torch-sys/libtch/byol_jpeg.cpp).
packages+=(libjpeg-dev)
command -v cargo >/dev/null || packages+=(cargo)
# CI checks the Rust's formatting and lints it (.ci/run): Debian's rustfmt and clippy match its
# cargo; a rustup toolchain brings its own.
cargo fmt --version >/dev/null 2>&1 || packages+=(rustfmt)
cargo clippy --version >/dev/null 2>&1 || packages+=(rust-clippy)

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: needs root for apt-get; run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Installing OpenBLAS switches the libblas.so.3 alternative to it unless someone pinned another.
blas=libblas.so.3-x86_64-linux-gnu
openblas=/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3
if [ "$(id -u)" -eq 0 ] && [ -e "$openblas" ] && update-alternatives --query "$blas" 2>/dev/null | grep -q '^Value: .*/blas/libblas.so.3$'; then
  echo "setup: libblas.so.3 pointed at the reference BLAS; switching it to OpenBLAS (OpenMP)"
  update-alternatives --set "$blas" "$openblas" >/dev/null
fi

# npm packages: reinstall only when the lock file changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages"
  # hnswlib-node (a devDependency, for the approximate index's test) compiles with node-gyp, which
  # finds Node's headers offline in Debian's nodejs package (/usr/include/node) through nodedir;
  # .npmrc keeps onnxruntime-node's postinstall from downloading a CUDA provider.
  [ -f /usr/include/node/node_api.h ] && export npm_config_nodedir=${npm_config_nodedir:-/usr}
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error
fi

echo "setup: building the native addon"
bash scripts/build-native.sh
echo "setup: compiling TypeScript"
npx tsc -p .
