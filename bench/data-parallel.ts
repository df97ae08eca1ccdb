// Data-parallel training on this machine: byol with 2 processes x 1 thread (Gloo on loopback,
// gradient buckets sent during backward, and sent after it) against 1 process x 2 threads at the
// same global batch, and PyTorch the same two ways in the same run: byol_torch_ref.py --mode
// compute for one process, bench/ddp_torch_ref.py (DistributedDataParallel over Gloo, started by
// torchrun) for two. Also the all-reduce time per step and its share of the step.
//   node dist/bench/data-parallel.js [--steps 8] [--rounds 2] [--batch 256]
// With --world1 [--device cuda]: what a job of one process costs against no job (byol's eager
// step with and without a world-size-1 group: Gloo on the CPU, NCCL on CUDA), next to PyTorch's
// step with and without DistributedDataParallel of world size 1, in the same run.
// byol trains Lightly's example model on random 32x32 images without augmentations (the
// reference's compute step has none either); its rate is that of the second epoch.
import { execFileSync, spawn } from 'child_process'
import path from 'path'
import { parseArgs } from 'util'
import { freePort, launch } from '../src/distributed/launch'
import { distributedFromEnv } from '../src/distributed/options'
import { runtimeInfo, train } from '../src'

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '2' },
    batch: { type: 'string', default: '256' },
    worker: { type: 'boolean', default: false },
    world1: { type: 'boolean', default: false },
    device: { type: 'string', default: 'cpu' },
    // On a device machine the pack carries the reference in .device/ (scripts/device/pack.sh).
    reference: { type: 'string' },
  },
})
const steps = Number(args.steps)
const batch = Number(args.batch)
const root = path.resolve(__dirname, '..', '..')
const reference = args.reference ?? path.resolve(root, '..', 'shared', 'bench', 'byol_torch_ref.py')
const python = '/usr/bin/python3'

interface WorkerResult {
  imagesPerSecond: number
  stepSeconds: number
  allReducePerStep?: number
  waitPerStep?: number
  broadcastPerStep?: number
}

/** One process of a byol run (rank 0 of a job, or alone): prints its result as JSON. */
async function worker(): Promise<void> {
  const n = batch * steps
  const data = new Uint8Array(n * 32 * 32 * 3)
  let x = 12345
  for (let i = 0; i < data.length; i++) data[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24
  const result = await train({
    data: { data, shape: [n, 32, 32, 3] },
    testData: false,
    augmenter: 'none',
    epochs: 2,
    batchSize: batch,
    device: args.device as 'cpu',
    // Eager steps in every configuration: a job turns CUDA graphs off.
    cudaGraph: false,
    log: () => {},
    distributed: process.env.BENCH_PORT
      ? { rank: 0, worldSize: 1, masterPort: Number(process.env.BENCH_PORT) }
      : process.env.WORLD_SIZE
        ? { ...distributedFromEnv()!, overlap: process.env.BENCH_OVERLAP !== '0' }
        : false,
  })
  if (Number(process.env.RANK ?? 0) !== 0) return
  const second = result.history[1]
  const c = result.communication
  const out: WorkerResult = {
    imagesPerSecond: second.imagesPerSecond,
    stepSeconds: second.seconds / second.steps,
    allReducePerStep: c && c.allReduceSeconds / c.steps,
    waitPerStep: c && c.waitSeconds / c.steps,
    broadcastPerStep: c && c.broadcastSeconds / c.steps,
  }
  process.stdout.write(`${JSON.stringify(out)}\n`)
}

function lastJson<T>(text: string): T {
  const line = text
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'))
  if (!line) throw new Error(`no result in:\n${text}`)
  return JSON.parse(line) as T
}

/** One byol process; with `port`, as the only rank of a job whose store it hosts there. */
async function byolAlone(port?: number): Promise<WorkerResult> {
  const argv = [__filename, '--worker', '--steps', String(steps), '--batch', String(batch), '--device', args.device!]
  const out = execFileSync(process.execPath, argv, {
    encoding: 'utf8',
    env: { ...process.env, BYOL_NUM_THREADS: '2', WORLD_SIZE: '', BENCH_PORT: port ? String(port) : '' },
  })
  return lastJson<WorkerResult>(out)
}

async function byolTwo(overlap: boolean): Promise<WorkerResult> {
  let out = ''
  const { exitCode } = await launch([process.execPath, __filename, '--worker', '--steps', String(steps), '--batch', String(batch)], {
    nprocPerNode: 2,
    threadsPerWorker: 1,
    env: { ...process.env, BENCH_OVERLAP: overlap ? '1' : '0' },
    onWorkerOutput: ({ rank, stream, data }) => {
      if (rank === 0 && stream === 'stdout') out += data.toString()
      if (stream === 'stderr') process.stderr.write(data)
    },
  })
  if (exitCode !== 0) throw new Error(`the 2-process byol run exited with ${exitCode}`)
  return lastJson<WorkerResult>(out)
}

function torchAlone(): number {
  const out = execFileSync(python, [reference, '--mode', 'compute', '--threads', '2', '--batch', String(batch), '--steps', String(steps), '--warmup', '2'], {
    encoding: 'utf8',
  })
  return lastJson<{ images_per_s: number }>(out).images_per_s
}

/** PyTorch's DistributedDataParallel step with `n` processes of 2/n threads. */
function torchRanks(n: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      python,
      [
        '-m',
        'torch.distributed.run',
        '--nproc_per_node',
        String(n),
        '--master_port',
        '29731',
        '--redirects',
        '9:0',
        '--tee',
        '9:0',
        path.join(root, 'bench', 'ddp_torch_ref.py'),
        '--reference',
        reference,
        '--batch',
        String(batch),
        '--steps',
        String(steps),
        '--device',
        args.device!,
      ],
      { env: { ...process.env, OMP_NUM_THREADS: String(2 / n) }, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    child.on('close', (code) =>
      code === 0 ? resolve(lastJson<{ images_per_s: number }>(out).images_per_s) : reject(new Error(`torchrun exited ${code}:\n${err}`)),
    )
  })
}

const ms = (s?: number) => (s === undefined ? '-' : (s * 1000).toFixed(1))

/** A job of one process against no job: what the process group alone costs a step. */
async function worldOfOne(): Promise<void> {
  console.log('| round | byol, no job | byol, job of 1 | byol job / no job | PyTorch, no DDP | PyTorch DDP of 1 | PyTorch DDP / no DDP |')
  console.log('|---|---|---|---|---|---|---|')
  for (let round = 1; round <= Number(args.rounds); round++) {
    const none = await byolAlone()
    const one = await byolAlone(await freePort())
    const tNone = torchAlone()
    const tOne = await torchRanks(1)
    const f = (x: number) => x.toFixed(1)
    const ratio = (a: number, b: number) => (a / b).toFixed(3)
    console.log(
      `| ${round} | ${f(none.imagesPerSecond)} | ${f(one.imagesPerSecond)} | **${ratio(one.imagesPerSecond, none.imagesPerSecond)}** | ${f(tNone)} | ${f(tOne)} | ${ratio(tOne, tNone)} |`,
    )
  }
}

async function main(): Promise<void> {
  if (args.worker) return worker()
  const info = runtimeInfo()
  console.log(
    `data-parallel benchmark: batch ${batch} (global), ${steps} timed steps, ${args.device}, libtorch ${info.libtorch}, ${info.blas.name}, ${new Date().toISOString()}`,
  )
  if (args.world1) return worldOfOne()
  console.log(
    '| round | byol 1x2 | byol 2x1 (after backward: the CPU default) | byol 2x1 overlapped | PyTorch 1x2 | PyTorch DDP 2x1 | byol 2x1 / 1x2 | PyTorch 2x1 / 1x2 | byol 2x1 / PyTorch DDP |',
  )
  console.log('|---|---|---|---|---|---|---|---|---|')
  const comm: string[] = []
  for (let round = 1; round <= Number(args.rounds); round++) {
    const alone = await byolAlone()
    const overlapped = await byolTwo(true)
    const after = await byolTwo(false)
    const tAlone = torchAlone()
    const tTwo = await torchRanks(2)
    const f = (x: number) => x.toFixed(1)
    console.log(
      `| ${round} | ${f(alone.imagesPerSecond)} | ${f(after.imagesPerSecond)} | ${f(overlapped.imagesPerSecond)} | ${f(tAlone)} | ${f(tTwo)} | ` +
        `${(after.imagesPerSecond / alone.imagesPerSecond).toFixed(2)} | ${(tTwo / tAlone).toFixed(2)} | **${(after.imagesPerSecond / tTwo).toFixed(2)}** |`,
    )
    for (const [name, r] of [
      ['overlap', overlapped],
      ['after backward', after],
    ] as const) {
      comm.push(
        `| ${round} | ${name} | ${ms(r.stepSeconds)} | ${ms(r.allReducePerStep)} | ${ms(r.waitPerStep)} | ${ms(r.broadcastPerStep)} | ${(((r.waitPerStep ?? 0) / r.stepSeconds) * 100).toFixed(1)}% |`,
      )
    }
  }
  console.log(
    '\nPer step of rank 0 (ms): the all-reduce from first bucket sent to last back, what the step waited for it after backward, the statistics broadcast',
  )
  console.log('| round | byol 2x1 | step | all-reduce | waited | broadcast | waited / step |')
  console.log('|---|---|---|---|---|---|---|')
  for (const line of comm) console.log(line)
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
