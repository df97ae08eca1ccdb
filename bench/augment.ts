// CPU throughput of BYOL's view augmentations (both views of a batch of 256 CIFAR-10 images,
// 32x32, `byol-cifar`), next to Lightly's PIL pipeline measured in the same run:
//   1. the reference's own transform, `TwoViews(32)` of ../shared/bench/byol_torch_ref.py, applied
//      to PIL images in a loop in one Python process (the work one DataLoader worker does);
//   2. `byol_torch_ref.py --mode lightly --workers 1 --threads 2` (Lightly's example: PIL
//      augmentations in one worker feeding full training steps), for context.
// Both sides read the same images. Prints a table and one JSON line.
//   node dist/bench/augment.js [--batch 256] [--steps 20] [--threads 2] [--lightly-steps 5]
import { execFileSync } from 'child_process'
import fs = require('fs')
import os = require('os')
import path = require('path')
import { parseArgs } from 'util'
import { Augmenter, runtimeInfo, setNumThreads } from '../src'

const { values: args } = parseArgs({
  options: {
    batch: { type: 'string', default: '256' },
    steps: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    images: { type: 'string', default: '2560' },
    seconds: { type: 'string', default: '6' },
    'lightly-steps': { type: 'string', default: '5' },
    python: { type: 'string', default: '/usr/bin/python3' },
  },
})
const batch = Number(args.batch)
const steps = Number(args.steps)
const warmup = Number(args.warmup)
const threads = Number(args.threads)
const root = path.resolve(__dirname, '..', '..')
const shared = path.resolve(root, '..', 'shared')
const reference = path.join(shared, 'bench', 'byol_torch_ref.py')
const archive = path.join(shared, 'data', 'cifar10-jpg.tar.gz')

// The images: CIFAR-10 training JPEGs decoded by PIL (random images when the archive is missing),
// written once in CIFAR-10's binary layout (1 label byte, then R, G, B planes), which the
// reference's --data reads too.
const PREPARE = `
import io, sys, tarfile
import numpy as np
from PIL import Image
archive, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
images = []
try:
    with tarfile.open(archive) as tar:
        for m in tar:
            if m.isfile() and '/train/' in m.name and m.name.endswith('.jpg'):
                images.append(np.asarray(Image.open(io.BytesIO(tar.extractfile(m).read())).convert('RGB')))
                if len(images) == n:
                    break
    source = 'cifar10-jpg'
except (FileNotFoundError, tarfile.TarError):
    images = list(np.random.default_rng(0).integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8))
    source = 'random'
rec = np.zeros((len(images), 3073), np.uint8)
rec[:, 1:] = np.stack(images).transpose(0, 3, 1, 2).reshape(len(images), -1)
rec.tofile(out)
print(source)
`

// Lightly's PIL pipeline as the reference builds it, timed on PIL images in one process.
const PIL_LOOP = `
import json, sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np, torch
from PIL import Image
from byol_torch_ref import TwoViews
torch.set_num_threads(int(sys.argv[4]))
raw = np.fromfile(sys.argv[2], dtype=np.uint8).reshape(-1, 3073)
images = [Image.fromarray(a) for a in raw[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)]
transform = TwoViews(32)
for im in images[:256]:
    transform(im)
n, start = 0, time.perf_counter()
while time.perf_counter() - start < float(sys.argv[3]):
    for im in images[:512]:
        transform(im)
    n += 512
print(json.dumps({"images_per_s": n / (time.perf_counter() - start)}))
`

function python(code: string, argv: string[], timeoutS: number): string {
  return execFileSync(args.python!, ['-c', code, ...argv], { encoding: 'utf8', timeout: timeoutS * 1000, stdio: ['ignore', 'pipe', 'pipe'] }).trim()
}

async function ours(pixels: Uint8Array, count: number): Promise<number> {
  setNumThreads(threads)
  const aug = await Augmenter.create({ preset: 'byol-cifar', seed: 0 })
  const per = 32 * 32 * 3
  const batches = Math.max(1, Math.floor(count / batch))
  const batchAt = (i: number) => ({ data: pixels.subarray((i % batches) * batch * per, ((i % batches) + 1) * batch * per), shape: [batch, 32, 32, 3] })
  for (let i = 0; i < warmup; i++) await aug.views(batchAt(i))
  const start = process.hrtime.bigint()
  for (let i = 0; i < steps; i++) await aug.views(batchAt(i))
  return (steps * batch) / (Number(process.hrtime.bigint() - start) / 1e9)
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'byol-bench-augment-'))
  const bin = path.join(dir, 'images.bin')
  const source = python(PREPARE, [archive, bin, args.images!], 300)
  const records = new Uint8Array(fs.readFileSync(bin))
  const count = records.length / 3073
  if (count < batch) throw new Error(`need at least ${batch} images, got ${count}`)
  // NHWC uint8, as decoded images arrive
  const pixels = new Uint8Array(count * 3072)
  for (let i = 0; i < count; i++) {
    for (let p = 0; p < 1024; p++) for (let c = 0; c < 3; c++) pixels[i * 3072 + p * 3 + c] = records[i * 3073 + 1 + c * 1024 + p]
  }

  const byol = await ours(pixels, count)
  const pil = JSON.parse(python(PIL_LOOP, [path.dirname(reference), bin, args.seconds!, String(threads)], 600)).images_per_s as number
  let lightly: number | null = null
  let lightlyNote = 'skipped (--lightly-steps 0)'
  const lightlySteps = Number(args['lightly-steps'])
  if (lightlySteps > 0) {
    try {
      const out = execFileSync(
        args.python!,
        [
          reference,
          '--mode',
          'lightly',
          '--workers',
          '1',
          '--threads',
          String(threads),
          '--batch',
          String(batch),
          '--steps',
          String(lightlySteps),
          '--warmup',
          '1',
          '--data',
          bin,
        ],
        { encoding: 'utf8', timeout: 900_000, stdio: ['ignore', 'pipe', 'pipe'] },
      )
      lightly = JSON.parse(out.trim().split('\n').pop()!).images_per_s as number
      lightlyNote = `${lightlySteps} steps of batch ${batch}`
    } catch (e) {
      lightlyNote = `failed: ${(e as Error).message.split('\n')[0]}`
    }
  }
  fs.rmSync(dir, { recursive: true, force: true })

  const info = runtimeInfo()
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU'
  const row = (name: string, value: number | null, note: string) =>
    `${name.padEnd(58)} ${value === null ? '-'.padStart(10) : value.toFixed(0).padStart(10)}  ${note}`
  console.log(`augmentation throughput, images/s (one image = both views), batch ${batch}, 32x32, ${threads} threads, ${cpu}, ${source} images`)
  console.log(row('byol: Augmenter.views, byol-cifar (native, libtorch ' + info.libtorch + ')', byol, `${(byol / pil).toFixed(1)}x the PIL pipeline`))
  console.log(row('Lightly PIL pipeline: reference TwoViews(32), one process', pil, 'what one DataLoader worker can feed'))
  console.log(row('reference --mode lightly --workers 1 (full training step)', lightly, lightlyNote))
  console.log(
    JSON.stringify({
      bench: 'augment',
      batch,
      size: 32,
      threads,
      preset: 'byol-cifar',
      images: source,
      cpu,
      byol_images_per_s: Math.round(byol),
      pil_images_per_s: Math.round(pil),
      ratio: Number((byol / pil).toFixed(2)),
      target_ratio: 5,
      lightly_train_images_per_s: lightly === null ? null : Math.round(lightly),
    }),
  )
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
