#!/usr/bin/env bash
# Compiles the shim's CUDA-only code (libtch/byol_cuda.cpp with BYOL_WITH_CUDA) against the
# installed libtorch headers and the CUDA toolkit's headers, without linking: the CPU machines
# have no CUDA libtorch, but the code that only runs on a GPU must not rot there.
set -euo pipefail
cd "$(dirname "$0")/.."
cuda_include=${CUDA_HOME:-/usr/local/cuda}/include
torch_include=${LIBTORCH_INCLUDE:-/usr/include}
[ -f "$cuda_include/cuda_runtime_api.h" ] || { echo "no CUDA headers at $cuda_include" >&2; exit 2; }
# Debian's libtorch-dev ships the c10/cuda headers but not the header CMake generates for them.
stub=$(mktemp -d)
trap 'rm -rf "$stub"' EXIT
mkdir -p "$stub/c10/cuda/impl"
[ -f "$torch_include/c10/cuda/impl/cuda_cmake_macros.h" ] || echo '#pragma once' > "$stub/c10/cuda/impl/cuda_cmake_macros.h"
${CXX:-g++} -std=c++17 -fsyntax-only -DBYOL_WITH_CUDA -I"$stub" -I"$torch_include" \
  -I"$torch_include/torch/csrc/api/include" -I"$cuda_include" crates/torch-sys/libtch/byol_cuda.cpp
echo "byol_cuda.cpp: compiles with BYOL_WITH_CUDA against $torch_include and $cuda_include"
