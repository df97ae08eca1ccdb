#!/usr/bin/env bash
# Learning quality against PyTorch: the same recipe, CIFAR-10 subset, epochs and seed trained by
# byol (bench/quality.ts) and by the PyTorch reference (byol_torch_knn_ref.py, Debian's
# python3-torch), each printing kNN top-1 (k=200, t=0.1) after every epoch. CPU; slow (minutes
# per epoch of 10,000 images). Results go to .bench/quality-*.jsonl and a summary is printed.
#
#   bash bench/quality.sh                       # 10,000 train / 2,000 test images, 3 epochs
#   EPOCHS=5 TRAIN_LIMIT=20000 bash bench/quality.sh
#
# Variables: EPOCHS (3), TRAIN_LIMIT (10000), TEST_LIMIT (2000), SEED (0), BATCH (256),
# RECIPE (lightly-example | cifar10-benchmark), BYOL_REF (the reference script), PYTHON,
# BYOL_ARGS (more flags for bench/quality.ts, e.g. "--precision bf16 --channels-last"; the
# reference stays float32).
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS=${EPOCHS:-3}; TRAIN_LIMIT=${TRAIN_LIMIT:-10000}; TEST_LIMIT=${TEST_LIMIT:-2000}
SEED=${SEED:-0}; BATCH=${BATCH:-256}; RECIPE=${RECIPE:-lightly-example}; BYOL_ARGS=${BYOL_ARGS:-}
PYTHON=${PYTHON:-/usr/bin/python3}
REF=${BYOL_REF:-../shared/bench/byol_torch_knn_ref.py}
[ -f "$REF" ] || { echo "quality: the reference $REF is missing (set BYOL_REF)" >&2; exit 1; }

bash scripts/setup.sh --bench >&2
data=datasets/cifar10
if [ ! -d "$data/train" ]; then
  mkdir -p datasets && tar -xzf "${BYOL_CIFAR10_ARCHIVE:-../shared/data/cifar10-jpg.tar.gz}" -C datasets
fi
mkdir -p .bench
tag="$RECIPE-e$EPOCHS-n$TRAIN_LIMIT-s$SEED"
variant=$tag${BYOL_ARGS:+-$(echo "$BYOL_ARGS" | tr -dc 'a-z0-9')}
lists=.bench/quality-lists-$tag.json

# The reference's subset: per split, classes sorted, files sorted, a random.Random(seed) shuffle,
# the first N (list_split in byol_torch_knn_ref.py, without decoding).
"$PYTHON" - "$data" "$TRAIN_LIMIT" "$TEST_LIMIT" "$SEED" "$lists" <<'PY'
import hashlib, json, os, random, sys
root, train_limit, test_limit, seed, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
result = {}
for split, limit in (("train", train_limit), ("test", test_limit)):
    classes = sorted(os.listdir(os.path.join(root, split)))
    items = []
    for ci, c in enumerate(classes):
        items += [(os.path.join(split, c, f), ci) for f in sorted(os.listdir(os.path.join(root, split, c)))]
    random.Random(seed).shuffle(items)
    items = items[:limit] if limit else items
    result[split] = items
    result[split + "_hash"] = hashlib.sha256("\n".join(p for p, _ in items).encode()).hexdigest()[:12]
    result["classes"] = classes
json.dump(result, open(out, "w"))
PY

echo "quality: byol ($tag)" >&2
node dist/bench/quality.js --data "$data" --lists "$lists" --epochs "$EPOCHS" --batch "$BATCH" --seed "$SEED" --recipe "$RECIPE" $BYOL_ARGS | tee ".bench/quality-byol-$variant.jsonl"
echo "quality: PyTorch reference ($tag)" >&2
"$PYTHON" "$REF" --data "$data" --epochs "$EPOCHS" --train-limit "$TRAIN_LIMIT" --test-limit "$TEST_LIMIT" \
  --threads "$(nproc)" --seed "$SEED" --recipe "$RECIPE" --batch "$BATCH" | tee ".bench/quality-ref-$variant.jsonl"

node - ".bench/quality-byol-$variant.jsonl" ".bench/quality-ref-$variant.jsonl" <<'JS'
const fs = require('fs')
const read = (f) => fs.readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
const [ours, ref] = process.argv.slice(2).map(read)
if (ours[0].train_hash !== ref[0].train_hash || ours[0].test_hash !== ref[0].test_hash) {
  console.error(`quality: the subsets differ (byol ${ours[0].train_hash}/${ours[0].test_hash}, reference ${ref[0].train_hash}/${ref[0].test_hash})`)
  process.exit(1)
}
console.log(`\n${ours[0].train} train / ${ours[0].test} test images (hashes ${ours[0].train_hash} / ${ours[0].test_hash}), ${ours[0].recipe}, byol ${ours[0].precision ?? 'auto'}${ours[0].channels_last ? ' channels-last' : ''}, PyTorch fp32\n`)
console.log('| epoch | byol loss | PyTorch loss | byol kNN top-1 | PyTorch kNN top-1 | byol s | PyTorch s |')
console.log('|---|---|---|---|---|---|---|')
for (let i = 1; i < Math.max(ours.length, ref.length); i++) {
  const a = ours[i] ?? {}, b = ref[i] ?? {}
  console.log(`| ${a.epoch ?? b.epoch} | ${a.loss} | ${b.loss} | ${a.knn_top1} | ${b.knn_top1} | ${a.seconds} | ${b.seconds} |`)
}
const last = (r) => r[r.length - 1].knn_top1
const gap = (last(ours) - last(ref)) * 100
console.log(`\nfinal kNN top-1: byol ${last(ours)}, PyTorch ${last(ref)} (difference ${gap.toFixed(2)} points; target within 2)`)
JS
