// CPU speed of the full BYOL step (batch 256, 32x32, imagenet stem, SGD lr 0.06, EMA 0.996),
// next to the PyTorch reference (../shared/bench/byol_torch_ref.py --mode compute) measured in
// the same run, with peak RSS of both. Each side runs in its own process; they alternate so that
// drift of the machine affects both alike.
//   node dist/bench/cpu-step.js [--steps 10] [--warmup 2] [--rounds 2] [--threads 2] [--precision bf16] [--layout nchw]
// byol runs with its CPU defaults (fp32, channels-last); `--layout nchw` keeps the reference's
// layout. Both sides use the same libtorch, BLAS and threads; the header names them.
// `--tuned-reference` gives the reference process glibc's allocator settings that byol applies to
// itself at load time, to separate that from the rest of the difference.
// With --precision bf16 byol computes under bf16 autocast (float32 weights and loss) while the
// reference stays float32: its compute mode has no CPU bf16, so that ratio mixes precisions.
import { execFileSync } from 'child_process'
import os from 'os'
import path from 'path'
import { parseArgs } from 'util'
import { Byol, runtimeInfo, setNumThreads, tensor } from '../src'

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '2' },
    threads: { type: 'string', default: '2' },
    batch: { type: 'string', default: '256' },
    worker: { type: 'boolean', default: false },
    precision: { type: 'string', default: 'fp32' },
    layout: { type: 'string', default: 'channels-last' },
    'tuned-reference': { type: 'boolean', default: false },
  },
})
const steps = Number(args.steps)
const warmup = Number(args.warmup)
const batch = Number(args.batch)
const threads = Number(args.threads)
if (args.layout !== 'channels-last' && args.layout !== 'nchw') throw new RangeError(`--layout must be channels-last or nchw, got ${args.layout}`)
const channelsLast = args.layout === 'channels-last'
const root = path.resolve(__dirname, '..', '..')
const reference = path.resolve(root, '..', 'shared', 'bench', 'byol_torch_ref.py')

interface Result {
  imagesPerS: number
  peakRssMb: number
}

// Same inputs as the reference's compute mode: two fixed normalised views of random images.
async function worker(): Promise<Result> {
  setNumThreads(threads)
  const model = await Byol.create({})
  await model.setStepOptions({ precision: args.precision as 'fp32' | 'bf16', channelsLast })
  const view = () => {
    const data = new Float32Array(batch * 3 * 32 * 32)
    for (let i = 0; i < data.length; i++) data[i] = Math.random() * 4 - 2
    return tensor(data, [batch, 3, 32, 32])
  }
  const [v0, v1] = [view(), view()]
  for (let i = 0; i < warmup; i++) await model.step(v0, v1, { momentum: 0.996 })
  const start = process.hrtime.bigint()
  for (let i = 0; i < steps; i++) await model.step(v0, v1, { momentum: 0.996 })
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  return { imagesPerS: (steps * batch) / seconds, peakRssMb: process.resourceUsage().maxRSS / 1024 }
}

function runOurs(): Result {
  const out = execFileSync(process.execPath, [__filename, '--worker', ...process.argv.slice(2)], { encoding: 'utf8' })
  return JSON.parse(out.trim().split('\n').pop()!)
}

function runReference(): Result {
  const wrapper = [
    'import json, resource, runpy, sys, io, contextlib',
    `sys.argv = ['ref', '--mode', 'compute', '--threads', '${threads}', '--steps', '${steps}', '--warmup', '${warmup}', '--batch', '${batch}']`,
    'buf = io.StringIO()',
    'with contextlib.redirect_stdout(buf):',
    `    runpy.run_path(${JSON.stringify(reference)}, run_name='__main__')`,
    'out = json.loads(buf.getvalue().strip().splitlines()[-1])',
    'print(json.dumps({"imagesPerS": out["images_per_s"], "peakRssMb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "torch": out["torch"]}))',
  ].join('\n')
  // byol's bt_init: mallopt(M_MMAP_THRESHOLD, 1 GiB), M_TRIM_THRESHOLD 1 GiB, M_TOP_PAD 256 MiB.
  const allocator = { MALLOC_MMAP_THRESHOLD_: String(1 << 30), MALLOC_TRIM_THRESHOLD_: String(1 << 30), MALLOC_TOP_PAD_: String(256 << 20) }
  const env = args['tuned-reference'] ? { ...process.env, ...allocator } : process.env
  const out = execFileSync('/usr/bin/python3', ['-c', wrapper], { encoding: 'utf8', env })
  return JSON.parse(out.trim().split('\n').pop()!)
}

function main() {
  const ours: Result[] = []
  const refs: Result[] = []
  for (let r = 0; r < Number(args.rounds); r++) {
    refs.push(runReference())
    ours.push(runOurs())
  }
  const best = (rs: Result[]) => Math.max(...rs.map((r) => r.imagesPerS))
  const peak = (rs: Result[]) => Math.max(...rs.map((r) => r.peakRssMb))
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU'
  const ratio = best(ours) / best(refs)
  const { blas, onednn } = runtimeInfo()
  console.log(`BYOL step on CPU (${cpu}, ${os.cpus().length} cores, ${threads} threads), batch ${batch}, 32x32, imagenet stem`)
  console.log(`BLAS: ${blas.name}${blas.threading ? ` (${blas.threading})` : ''}; oneDNN ${onednn.version} on ${onednn.isa}`)
  console.log(`${steps} timed steps after ${warmup} warm-up steps, best of ${args.rounds} alternating rounds`)
  console.log('| implementation | images/s | peak RSS (MB) |')
  console.log('|---|---|---|')
  const how = [args.precision, args.layout].join(', ')
  console.log(`| byol (${how}) | ${best(ours).toFixed(1)} | ${peak(ours).toFixed(0)} |`)
  const tuned = args['tuned-reference'] ? ', allocator tuned as byol' : ''
  console.log(`| PyTorch reference (--mode compute, fp32${tuned}) | ${best(refs).toFixed(1)} | ${peak(refs).toFixed(0)} |`)
  console.log(`| ratio | ${ratio.toFixed(3)} | |`)
  console.log(
    JSON.stringify({
      bench: 'cpu-step',
      cpu,
      threads,
      batch,
      steps,
      precision: args.precision,
      channelsLast,
      tunedReference: args['tuned-reference'],
      blas: blas.name,
      onednnIsa: onednn.isa,
      ours: ours.map((r) => r.imagesPerS),
      reference: refs.map((r) => r.imagesPerS),
      ratio,
      oursPeakRssMb: peak(ours),
      referencePeakRssMb: peak(refs),
    }),
  )
}

if (args.worker) {
  worker().then((r) => console.log(JSON.stringify(r)))
} else {
  main()
}
