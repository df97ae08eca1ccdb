// BYOL's view augmentations on a CUDA GPU (run by scripts/device/gpu-check.sh on the GPU machine;
// skips itself without CUDA): the augmentation's share of a full training step (batch 256,
// 32x32, byol-cifar), measured as the step time with the native augmenter against the same step
// with unaugmented views; the augmentation throughput alone; and views() with the host round trip.
//   node dist/bench/gpu-augment.js [--steps 30] [--warmup 5] [--batch 256]
import { parseArgs } from 'util'
import { Augmenter, runtimeInfo } from '../src'
import { native } from '../src/native'

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '5' },
    batch: { type: 'string', default: '256' },
    images: { type: 'string', default: '4096' },
    // `cpu` runs the same measurements on the CPU (a smoke test of this script)
    device: { type: 'string', default: 'cuda' },
  },
})
const steps = Number(args.steps)
const warmup = Number(args.warmup)
const batch = Number(args.batch)
const count = Number(args.images)

function randomImages(n: number, size: number): Uint8Array {
  const data = new Uint8Array(n * size * size * 3)
  let x = 12345
  for (let i = 0; i < data.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    data[i] = x >>> 24
  }
  return data
}

function indices(step: number): { data: BigInt64Array; shape: number[] } {
  const data = new BigInt64Array(batch)
  for (let i = 0; i < batch; i++) data[i] = BigInt((step * batch + i * 7) % count)
  return { data, shape: [batch] }
}

async function main(): Promise<void> {
  const device = args.device!
  if (device !== 'cpu' && !runtimeInfo().cudaAvailable) {
    console.log('gpu-augment: no CUDA device visible to libtorch; nothing to measure')
    return
  }
  const dataset = await native.datasetCreate({ data: randomImages(count, 32), shape: [count, 32, 32, 3] }, null, { device })
  const augmenter = await Augmenter.create({ preset: 'byol-cifar', device, seed: 0 })
  // host sync: a tiny gather back to the host waits for every queued kernel
  const sync = () => native.datasetGather(dataset, { data: new BigInt64Array([0n]), shape: [1] })

  const rows: string[] = []
  const result: Record<string, unknown> = { bench: 'gpu-augment', device, batch, size: 32, preset: 'byol-cifar', libtorch: runtimeInfo().libtorch }
  for (const stem of ['imagenet', 'cifar'] as const) {
    const handle = await native.createByol({ stem, device })
    const time = async (aug: Augmenter | null): Promise<number> => {
      const run = async (i: number) => {
        const b = await native.batchPrepare(dataset, indices(i), aug ? aug.handle : null, { device })
        await native.byolTrainStep(handle, b, { momentum: 0.996 }) // resolves with loss.item(): synchronises
      }
      for (let i = 0; i < warmup; i++) await run(i)
      const start = process.hrtime.bigint()
      for (let i = 0; i < steps; i++) await run(i)
      return Number(process.hrtime.bigint() - start) / 1e9 / steps
    }
    const plain = await time(null)
    const augmented = await time(augmenter)
    const share = (augmented - plain) / augmented
    rows.push(`${stem} stem: step ${(plain * 1e3).toFixed(2)} ms without augmentation, ${(augmented * 1e3).toFixed(2)} ms with it: augmentation share ${(share * 100).toFixed(1)}% (target <= 10%)`)
    result[`${stem}_step_ms`] = Number((plain * 1e3).toFixed(3))
    result[`${stem}_step_augmented_ms`] = Number((augmented * 1e3).toFixed(3))
    result[`${stem}_augmentation_share`] = Number(share.toFixed(4))
  }

  // the augmentation alone, on the device (gather + both views), timed to a host sync
  for (let i = 0; i < warmup; i++) await native.batchPrepare(dataset, indices(i), augmenter.handle, { device })
  await sync()
  let start = process.hrtime.bigint()
  for (let i = 0; i < steps; i++) await native.batchPrepare(dataset, indices(i), augmenter.handle, { device })
  await sync()
  const alone = (steps * batch) / (Number(process.hrtime.bigint() - start) / 1e9)
  rows.push(`augmentation alone (gather + both views, on the GPU): ${alone.toFixed(0)} images/s`)
  result.augment_images_per_s = Math.round(alone)

  // views() from host memory and back (copies included), 32x32 and 224x224 (byol preset)
  for (const [preset, size] of [['byol-cifar', 32], ['byol', 224]] as const) {
    const aug = await Augmenter.create({ preset, device })
    const images = { data: randomImages(batch, size === 32 ? 32 : 256), shape: [batch, size === 32 ? 32 : 256, size === 32 ? 32 : 256, 3] }
    for (let i = 0; i < 3; i++) await aug.views(images)
    start = process.hrtime.bigint()
    const n = 10
    for (let i = 0; i < n; i++) await aug.views(images)
    const rate = (n * batch) / (Number(process.hrtime.bigint() - start) / 1e9)
    rows.push(`views() from host and back, ${preset} (${images.shape[1]} -> ${size}): ${rate.toFixed(0)} images/s`)
    result[`views_${preset}_images_per_s`] = Math.round(rate)
  }
  console.log(`BYOL augmentations on ${device} (${runtimeInfo().cudaDeviceCount} CUDA device(s) visible), libtorch ${runtimeInfo().libtorch}, batch ${batch}`)
  for (const r of rows) console.log('  ' + r)
  console.log(JSON.stringify(result))
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
