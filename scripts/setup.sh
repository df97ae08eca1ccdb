#!/usr/bin/env bash
# Installs what byol needs on a fresh Debian machine and builds it. Safe to run again: each step
# is skipped when its result is already there.
#   scripts/setup.sh           libtorch, Rust crates, npm packages, the native addon, TypeScript
#   scripts/setup.sh --bench   also Debian's PyTorch (the reference the benchmarks and fixtures use)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

packages=(libtorch-dev librust-cc-dev g++ xz-utils)
# python3-torch/torchvision are the PyTorch reference: the safetensors round-trip test and the
# benchmarks use them, the fixture generators too.
packages+=(python3-torch python3-torchvision python3-pil)
command -v cargo >/dev/null || packages+=(cargo)

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

# npm packages: reinstall only when the lock file changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi

echo "setup: building the native addon"
bash scripts/build-native.sh
echo "setup: compiling TypeScript"
npx tsc -p .
