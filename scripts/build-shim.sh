#!/usr/bin/env bash
# Compiles the libtorch shim (crates/torch-sys/libtch/*.cpp) into ./libbyoltorch.so without cargo,
# against the libtorch of a Python PyTorch install (or $LIBTORCH). For machines that have a
# prebuilt byol addon but a different libtorch, e.g. a CUDA machine with PyTorch and no Rust:
# the addon does not depend on the libtorch version, only this shim does.
# It mirrors what crates/torch-sys/build.rs does.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
if [ -n "${LIBTORCH:-}" ]; then
  torch=$LIBTORCH; abi=1
else
  torch=$("$python" -c 'import torch, os; print(os.path.dirname(torch.__file__))')
  abi=$("$python" -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
fi
libs=(-ltorch -ltorch_cpu -lc10)
rpaths=(-Wl,-rpath,"$torch/lib")
extra=()
if [ -f "$torch/lib/libtorch_cuda.so" ]; then
  libs+=(-ltorch_cuda -lc10_cuda)
  # PyTorch wheels ship the CUDA runtime under site-packages/nvidia/<cuXY>/lib.
  for dir in "$torch"/../nvidia/cu*/lib "$torch"/../nvidia/cuda_runtime/lib; do
    [ -d "$dir" ] && rpaths+=(-Wl,-rpath,"$(cd "$dir" && pwd)")
  done
  [ -d /usr/local/cuda/include ] && extra+=(-I/usr/local/cuda/include)
fi
${CXX:-g++} -std=c++17 -O2 -fPIC -shared -w -D_GLIBCXX_USE_CXX11_ABI="$abi" \
  -I"$torch/include" -I"$torch/include/torch/csrc/api/include" "${extra[@]}" \
  crates/torch-sys/libtch/*.cpp -o libbyoltorch.so \
  -L"$torch/lib" "${rpaths[@]}" -Wl,-z,nodelete -Wl,--no-as-needed "${libs[@]}" -Wl,--as-needed
echo "built libbyoltorch.so against $torch"
