// Speed of the BYOL training step on a CUDA GPU, next to the PyTorch reference measured in the
// same call (run by scripts/device/gpu-check.sh on the GPU machine; skips itself without CUDA).
//   node dist/bench/gpu-step.js [--steps 50] [--warmup 10] [--reference path/to/byol_torch_ref.py]
import { execFileSync } from 'child_process'
import path from 'path'
import { parseArgs } from 'util'
import { Byol, runtimeInfo, tensor } from '../src'

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '50' },
    warmup: { type: 'string', default: '10' },
    reference: { type: 'string', default: path.resolve(__dirname, '..', '..', '.device', 'byol_torch_ref.py') },
    python: { type: 'string', default: 'python3' },
  },
})
const steps = Number(args.steps)
const warmup = Number(args.warmup)

async function ours(stem: 'imagenet' | 'cifar', batch: number): Promise<number> {
  const model = await Byol.create({ stem, device: 'cuda' })
  const view = () => tensor(Float32Array.from({ length: batch * 3 * 32 * 32 }, () => Math.random() * 4 - 2), [batch, 3, 32, 32])
  const [v0, v1] = [view(), view()]
  for (let i = 0; i < warmup; i++) await model.step(v0, v1, { momentum: 0.996 })
  const start = process.hrtime.bigint()
  for (let i = 0; i < steps; i++) await model.step(v0, v1, { momentum: 0.996 })
  return (steps * batch) / (Number(process.hrtime.bigint() - start) / 1e9)
}

function reference(extra: string[]): { images_per_s: number; device: string; torch: string } {
  const out = execFileSync(args.python!, [args.reference!, '--steps', String(steps), '--warmup', String(warmup), ...extra], { encoding: 'utf8' })
  return JSON.parse(out.trim().split('\n').pop()!)
}

async function main() {
  if (!runtimeInfo().cudaAvailable) {
    console.log('gpu-step: no CUDA device visible to libtorch; nothing to measure')
    return
  }
  const rows: string[] = []
  for (const [stem, batch] of [['imagenet', 256], ['cifar', 256]] as const) {
    const mine = await ours(stem, batch)
    const ref = reference(['--mode', 'compute', '--stem', stem, '--batch', String(batch)])
    rows.push(`| ${stem} | ${batch} | ${mine.toFixed(0)} | ${ref.images_per_s.toFixed(0)} | ${(mine / ref.images_per_s).toFixed(2)} | ${ref.device} | ${ref.torch} |`)
    console.log(JSON.stringify({ bench: 'gpu-step', stem, batch, ours: mine, reference: ref }))
  }
  console.log('Eager fp32 step, views already on the device (PyTorch: --mode compute, same inputs, same call)')
  console.log('| stem | batch | byol images/s | PyTorch images/s | ratio | device | torch |')
  console.log('|---|---|---|---|---|---|---|')
  for (const row of rows) console.log(row)
}

main()
