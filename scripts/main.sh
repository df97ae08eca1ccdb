#!/usr/bin/env bash
# The README's main job: Lightly's BYOL example (ResNet-18, SGD lr 0.06, batch 256, 10 epochs,
# momentum cosine 0.996 -> 1, BYOL augmentations) on CIFAR-10, printing one line per epoch
# (`epoch: 00, loss: -0.49175`) and ending with the kNN top-1 accuracy on the test split.
#
#   bash scripts/main.sh                 # 10 epochs
#   bash scripts/main.sh --epochs 1      # a shorter variant; any `byol train` option passes through
#
# Set-up is scripts/setup.sh (idempotent). CIFAR-10 is read from datasets/cifar10 (an ImageFolder
# with train/ and test/); when it is missing it is extracted from ../shared/data/cifar10-jpg.tar.gz
# (or $BYOL_CIFAR10_ARCHIVE). The run directory (metrics.jsonl, plot.svg, checkpoint, exported
# backbone) is runs/run-<date>-<time> unless --out is given.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

data=datasets/cifar10
if [ ! -d "$data/train" ] || [ ! -d "$data/test" ]; then
  archive=${BYOL_CIFAR10_ARCHIVE:-../shared/data/cifar10-jpg.tar.gz}
  if [ ! -f "$archive" ]; then
    echo "main: CIFAR-10 is not in $data and the archive $archive does not exist." >&2
    echo "main: put the CIFAR-10 images in $data/{train,test}/<class>/*.jpg, or set BYOL_CIFAR10_ARCHIVE to a .tar.gz holding cifar10/." >&2
    exit 1
  fi
  echo "main: extracting $archive into $data"
  mkdir -p datasets
  tmp=$(mktemp -d datasets/.extract.XXXXXX)
  trap 'rm -rf "$tmp"' EXIT
  tar -xzf "$archive" -C "$tmp"
  mkdir -p "$(dirname "$data")"
  rm -rf "$data"
  mv "$tmp/cifar10" "$data"
fi

exec node dist/src/cli/index.js train --data "$data" --preset lightly-example "$@"
