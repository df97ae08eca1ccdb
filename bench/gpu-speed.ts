// GPU training speed (issue: one CUDA-graph step in bf16): the project's whole training step
// (gather, both views, forwards, loss, backward, SGD, EMA) on synthetic and on real CIFAR-10
// images, next to ../shared/bench/byol_torch_ref.py run in the same call (modes lightly, gpuaug
// and graph, with --bf16 --channels-last --foreach-ema). Prints one table: images/s, the ratio to
// each reference, achieved TFLOP/s and share of the bf16 peak, peak GPU memory.
//   node dist/bench/gpu-speed.js [--steps 200] [--warmup 20] [--data datasets/cifar10]
//                                [--cases imagenet:256,cifar:256,cifar:512] [--peak-tflops 790]
//   node dist/bench/gpu-speed.js --device cpu --steps 4 --warmup 2 --cases imagenet:16   (CPU smoke test)
import { execFileSync } from 'child_process'
import fs from 'fs'
import os from 'os'
import path from 'path'
import { parseArgs } from 'util'
import { Augmenter, Byol, Device, runtimeInfo } from '../src'
import { loadDataSource } from '../src/data/index'
import { modelHandle } from '../src/model/byol-handle'
import { native, Native } from '../src/model/addon'
import { randomImages } from './synthetic'

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '20' },
    chunk: { type: 'string', default: '50' },
    cases: { type: 'string', default: 'imagenet:256,cifar:256,cifar:512' },
    data: { type: 'string', default: '' },
    device: { type: 'string', default: 'cuda' },
    reference: { type: 'string', default: path.resolve(__dirname, '..', '..', '.device', 'byol_torch_ref.py') },
    python: { type: 'string', default: 'python3' },
    workers: { type: 'string', default: String(Math.max(1, os.cpus().length - 2)) },
    // dense bf16 tensor-core peak used for the "share of peak" column (the figure the issue uses)
    'peak-tflops': { type: 'string', default: '790' },
    'no-ablations': { type: 'boolean', default: false },
  },
})
const steps = Number(args.steps)
const warmup = Number(args.warmup)
const chunk = Number(args.chunk)
const device = args.device!
const peak = Number(args['peak-tflops'])

// One BYOL step per image: forward and backward of the online network on two views, forward of
// the target on two views (the estimate: 0.6 GFLOP with the 7x7 stem, 8.9 with the 3x3).
const GFLOP_PER_IMAGE = { imagenet: 0.6, cifar: 8.9 } as const

type Stem = 'imagenet' | 'cifar'
interface Case {
  stem: Stem
  batch: number
}
interface Variant {
  name: string
  step: Native.NativeStepOptions
  cudaGraph: boolean
}

const BEST: Variant = { name: 'byol: graph bf16 channels-last 2 streams', step: { precision: 'bf16', channelsLast: true, targetStream: true }, cudaGraph: true }
const ABLATIONS: Variant[] = [
  { name: 'byol: eager fp32', step: { precision: 'fp32' }, cudaGraph: false },
  { name: 'byol: eager bf16 channels-last', step: { precision: 'bf16', channelsLast: true }, cudaGraph: false },
  { name: 'byol: graph fp32', step: { precision: 'fp32' }, cudaGraph: true },
  { name: 'byol: graph bf16 channels-last 1 stream', step: { precision: 'bf16', channelsLast: true }, cudaGraph: true },
]

interface Measured {
  imagesPerSecond: number
  graph: string
  peakMiB?: number
  loss: number
}

function randomIndices(count: number, n: number, seed: number): Native.NativeTensor {
  const data = new BigInt64Array(count)
  let x = seed * 2654435761 + 1
  for (let i = 0; i < count; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    data[i] = BigInt(x % n)
  }
  return { data, shape: [count] }
}

async function ours(c: Case, v: Variant, data: Native.DatasetHandle, n: number): Promise<Measured> {
  const cuda = device.startsWith('cuda')
  const model = await Byol.create({ stem: c.stem, device: device as Device })
  await model.setStepOptions(cuda ? v.step : { ...v.step, targetStream: false })
  const augmenter = await Augmenter.create({ preset: 'byol-cifar', device, seed: 0 })
  const trainer = await native.trainerCreate(modelHandle(model), data, augmenter.handle, { batchSize: c.batch, cudaGraph: v.cudaGraph })
  const run = (k: number, seed: number) => native.trainerRun(trainer, randomIndices(k * c.batch, n, seed), { lr: 0.06, momentum: 0.996 })
  // warm-up (and capture) outside the timing
  const first = await run(warmup, 1)
  await native.trainerLosses(first.losses)
  if (cuda) await native.cudaPeakMemory(device, { reset: true })
  const start = process.hrtime.bigint()
  let pending: Native.LossesHandle | undefined
  let last: Native.TrainerRunResult = first
  for (let done = 0; done < steps; done += chunk) {
    last = await run(Math.min(chunk, steps - done), 2 + done)
    if (pending) await native.trainerLosses(pending)
    pending = last.losses
  }
  const losses = await native.trainerLosses(pending!)
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  const memory = cuda ? await native.cudaPeakMemory(device) : undefined
  await native.trainerDispose(trainer)
  return {
    imagesPerSecond: (steps * c.batch) / seconds,
    graph: last.graph === 'eager' && v.cudaGraph && cuda ? `eager (${last.reason})` : last.graph,
    peakMiB: memory && memory.allocated / 2 ** 20,
    loss: losses[losses.length - 1],
  }
}

interface Reference {
  images_per_s?: number
  error?: string
  device?: string
  torch?: string
}

function reference(mode: string, c: Case, data: string): Reference {
  const extra = mode === 'lightly' ? ['--workers', args.workers!] : ['--bf16', '--channels-last', '--foreach-ema']
  const argv = [args.reference!, '--mode', mode, '--stem', c.stem, '--batch', String(c.batch), '--steps', String(steps), '--warmup', String(warmup), ...extra]
  if (data) argv.push('--data', data)
  try {
    const out = execFileSync(args.python!, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 })
    return JSON.parse(out.trim().split('\n').pop()!)
  } catch (e) {
    return { error: ((e as { stderr?: string }).stderr || (e as Error).message).trim().split('\n').pop() }
  }
}

/** The training images in the CIFAR-10 binary layout (label byte + CHW pixels), for the reference's --data. */
function writeCifarBinary(images: Uint8Array, labels: Int32Array | undefined, n: number): string {
  const file = path.join(os.tmpdir(), `byol-bench-cifar-${process.pid}.bin`)
  const out = new Uint8Array(n * 3073)
  for (let i = 0; i < n; i++) {
    const base = i * 3073
    out[base] = labels ? labels[i] : 0
    for (let p = 0; p < 1024; p++) for (let ch = 0; ch < 3; ch++) out[base + 1 + ch * 1024 + p] = images[(i * 1024 + p) * 3 + ch]
  }
  fs.writeFileSync(file, out)
  return file
}

const fmt = (x: number | undefined, digits = 0) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits))

async function main(): Promise<void> {
  const info = runtimeInfo()
  if (device.startsWith('cuda') && !info.cudaAvailable) {
    console.log('gpu-speed: no CUDA device visible to libtorch; nothing to measure')
    return
  }
  const cases: Case[] = args.cases!.split(',').map((s) => {
    const [stem, batch] = s.split(':')
    if (stem !== 'imagenet' && stem !== 'cifar') throw new Error(`--cases: unknown stem ${stem}`)
    return { stem, batch: Number(batch) }
  })
  const synthetic = 16384
  const datasets: Array<{ name: string; handle: Native.DatasetHandle; n: number; refData: string }> = [
    {
      name: 'synthetic',
      handle: await native.datasetCreate({ data: randomImages(synthetic, 32), shape: [synthetic, 32, 32, 3] }, null, { device }),
      n: synthetic,
      refData: '',
    },
  ]
  if (args.data) {
    const train = await loadDataSource(args.data, 'train', { imageSize: 32, device })
    const host = await loadDataSource(args.data, 'train', { imageSize: 32, device: 'cpu' })
    const all = await host.gather(Array.from({ length: host.length }, (_, i) => i))
    datasets.push({ name: 'cifar10', handle: train.handle, n: train.length, refData: writeCifarBinary(all.data, host.labels, host.length) })
  }

  const rows: string[] = []
  let refDevice = ''
  for (const c of cases) {
    for (const d of datasets) {
      const refs: Record<string, Reference> = {}
      for (const mode of d.name === 'synthetic' ? ['lightly', 'gpuaug', 'graph'] : ['graph']) refs[mode] = reference(mode, c, d.refData)
      refDevice = refDevice || refs.graph.device || ''
      const variants = d.name === 'synthetic' && !args['no-ablations'] ? [BEST, ...ABLATIONS] : [BEST]
      const line = (name: string, ips: number | undefined, extra: { graph?: string; peakMiB?: number; error?: string }) => {
        const ratio = (m: string) => (ips && refs[m]?.images_per_s ? (ips / refs[m].images_per_s!).toFixed(2) : '-')
        const tflops = ips && (ips * GFLOP_PER_IMAGE[c.stem]) / 1000
        rows.push(
          `| ${c.stem} ${c.batch} | ${d.name} | ${name} | ${fmt(ips)} | ${ratio('lightly')} | ${ratio('gpuaug')} | ${ratio('graph')} | ` +
            `${fmt(tflops, 1)} | ${tflops ? ((100 * tflops) / peak).toFixed(1) + '%' : '-'} | ${fmt(extra.peakMiB)} | ${extra.graph ?? extra.error ?? ''} |`,
        )
      }
      for (const v of variants) {
        // One failing variant (out of memory, say) must not cost the rest of the table.
        const m = await ours(c, v, d.handle, d.n).catch((e: Error) => ({ error: e.message.split('\n')[0] }))
        if ('error' in m) line(v.name, undefined, m)
        else line(v.name, m.imagesPerSecond, m)
        console.log(JSON.stringify({ bench: 'gpu-speed', case: c, data: d.name, variant: v.name, ...m }))
      }
      for (const [mode, r] of Object.entries(refs)) {
        line(`PyTorch ${mode}${mode === 'lightly' ? '' : ' bf16 channels-last foreach-ema'}`, r.images_per_s, { error: r.error })
        console.log(JSON.stringify({ bench: 'gpu-speed', case: c, data: d.name, reference: mode, ...r }))
      }
    }
  }
  console.log(
    `\nBYOL training step on ${refDevice || device}, libtorch ${info.libtorch}, ${steps} timed steps after ${warmup} warm-up steps, losses read every ${chunk} steps`,
  )
  console.log(`TFLOP/s from ${GFLOP_PER_IMAGE.imagenet} (7x7 stem) / ${GFLOP_PER_IMAGE.cifar} (3x3 stem) GFLOP per image; share of a ${peak} TFLOP/s bf16 peak`)
  console.log('| stem batch | data | run | images/s | x lightly | x gpuaug | x graph | TFLOP/s | of peak | peak MiB | graph / note |')
  console.log('|---|---|---|---|---|---|---|---|---|---|---|')
  for (const r of rows) console.log(r)
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
