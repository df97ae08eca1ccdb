#!/usr/bin/env bash
# `npm run bench`: every CPU benchmark, each next to its PyTorch reference measured in the same
# run. Set-up first (idempotent), so this works on a fresh clone.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
for bench in dist/bench/*.js; do
  echo "== $bench"
  node "$bench"
done
