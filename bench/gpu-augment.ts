// BYOL's view augmentations on a CUDA GPU (run by scripts/device/gpu-check.sh on the GPU machine;
// skips itself without CUDA): the augmentation's share of a full training step (batch 256,
// 32x32, byol-cifar), measured as the trainer's step time with the native augmenter against the
// same step with unaugmented views, eager fp32 and as a bf16 CUDA graph; and views() with the host
// round trip.
//   node dist/bench/gpu-augment.js [--steps 30] [--warmup 5] [--batch 256]
import { parseArgs } from 'util'
import { Augmenter, Byol, Device, runtimeInfo } from '../src'
import { modelHandle } from '../src/model/byol-handle'
import { native, Native } from '../src/model/addon'
import { randomImages } from './synthetic'

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

function indices(steps: number, from: number): Native.NativeTensor {
  const data = new BigInt64Array(steps * batch)
  for (let i = 0; i < data.length; i++) data[i] = BigInt((from * batch + i * 7) % count)
  return { data, shape: [data.length] }
}

async function main(): Promise<void> {
  const device = args.device!
  if (device !== 'cpu' && !runtimeInfo().cudaAvailable) {
    console.log('gpu-augment: no CUDA device visible to libtorch; nothing to measure')
    return
  }
  const dataset = await native.datasetCreate({ data: randomImages(count, 32), shape: [count, 32, 32, 3] }, null, { device })
  const augmenter = await Augmenter.create({ preset: 'byol-cifar', device, seed: 0 })
  const rows: string[] = []
  const result: Record<string, unknown> = { bench: 'gpu-augment', device, batch, size: 32, preset: 'byol-cifar', libtorch: runtimeInfo().libtorch }
  const modes = [
    { name: 'eager fp32', step: { precision: 'fp32' as const }, cudaGraph: false },
    { name: 'graph bf16', step: { precision: 'bf16' as const, channelsLast: true, targetStream: device !== 'cpu' }, cudaGraph: true },
  ]
  for (const stem of ['imagenet', 'cifar'] as const) {
    for (const mode of modes) {
      // seconds per step of the trainer, with the augmenter or with unaugmented views
      const time = async (aug: Augmenter | null): Promise<number> => {
        const model = await Byol.create({ stem, device: device as Device })
        await model.setStepOptions(mode.step)
        const trainer = await native.trainerCreate(modelHandle(model), dataset, aug ? aug.handle : null, { batchSize: batch, cudaGraph: mode.cudaGraph })
        await native.trainerLosses((await native.trainerRun(trainer, indices(warmup, 0), { lr: 0.06, momentum: 0.996 })).losses)
        const start = process.hrtime.bigint()
        await native.trainerLosses((await native.trainerRun(trainer, indices(steps, warmup), { lr: 0.06, momentum: 0.996 })).losses)
        const seconds = Number(process.hrtime.bigint() - start) / 1e9 / steps
        await native.trainerDispose(trainer)
        return seconds
      }
      const plain = await time(null)
      const augmented = await time(augmenter)
      const share = (augmented - plain) / augmented
      const key = `${stem}_${mode.name.replace(' ', '_')}`
      rows.push(
        `${stem} stem, ${mode.name}: step ${(plain * 1e3).toFixed(2)} ms without augmentation, ${(augmented * 1e3).toFixed(2)} ms with it: augmentation share ${(share * 100).toFixed(1)}% (target <= 10%)`,
      )
      result[`${key}_step_ms`] = Number((plain * 1e3).toFixed(3))
      result[`${key}_step_augmented_ms`] = Number((augmented * 1e3).toFixed(3))
      result[`${key}_augmentation_share`] = Number(share.toFixed(4))
    }
  }

  // views() from host memory and back (copies included), 32x32 and 224x224 (byol preset)
  for (const [preset, size] of [
    ['byol-cifar', 32],
    ['byol', 224],
  ] as const) {
    const aug = await Augmenter.create({ preset, device })
    const images = { data: randomImages(batch, size === 32 ? 32 : 256), shape: [batch, size === 32 ? 32 : 256, size === 32 ? 32 : 256, 3] }
    for (let i = 0; i < 3; i++) await aug.views(images)
    const start = process.hrtime.bigint()
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
