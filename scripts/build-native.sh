#!/usr/bin/env bash
# Builds the Rust addon and the libtorch shim, and puts both at the package root, where the
# loader (index.js) looks first. Cargo only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${BYOL_PROFILE:-release}
flag=$([ "$profile" = release ] && echo --release || true)
cargo build $flag --quiet -p byol-node
cp "target/$profile/libbyol_node.so" byol.linux-x64-gnu.node.tmp
mv byol.linux-x64-gnu.node.tmp byol.linux-x64-gnu.node
cp "target/$profile/libbyoltorch.so" libbyoltorch.so.tmp
mv libbyoltorch.so.tmp libbyoltorch.so
