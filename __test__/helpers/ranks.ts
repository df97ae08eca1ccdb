// Starts the ranks of a data-parallel test job as separate processes (helpers/dp-worker.ts), each
// with torchrun's environment, and collects how each ended and what it wrote.
import { ChildProcess, spawn } from 'child_process'
import fs = require('fs')
import path = require('path')
import { tmpDir } from '../data.fixtures'

export const WORKER = path.join(__dirname, 'dp-worker.js')

export interface RankOutcome {
  rank: number
  code: number | null
  signal: NodeJS.Signals | null
  stderr: string
  /** Seconds from start to exit. */
  seconds: number
  /** What the worker wrote (undefined when it failed). */
  out?: WorkerOutput
}

export interface WorkerOutput {
  stepLosses: number[]
  steps: number
  aborted: boolean
  history: Array<{ epoch: number; loss: number; knnTop1?: number }>
  checkpoint?: string
  /** In a job: the steps this rank averaged gradients for. */
  communication?: { steps: number }
  state: Record<string, number[]>
}

import { freePort } from '../../src/distributed/launch'

export { freePort }

export interface RankSpec {
  /** train() options for this rank (JSON), `images`: how many tiny class images. */
  options: Record<string, unknown>
  /** Extra environment (overrides the torchrun variables). */
  env?: Record<string, string>
  /** Run under this prefix (e.g. `ip netns exec ns0`). */
  prefix?: string[]
}

export interface RunningRank {
  rank: number
  child: ChildProcess
  done: Promise<RankOutcome>
}

/** Starts one worker process per spec as ranks 0..n-1 of a job at 127.0.0.1:`port`. */
export function startRanks(specs: RankSpec[], port: number, options: { timeoutSeconds?: number; killAfterSeconds?: number } = {}): RunningRank[] {
  const dir = tmpDir('ranks')
  const worldSize = specs.length
  return specs.map((spec, rank) => {
    const outFile = path.join(dir, `rank${rank}.json`)
    const env = {
      ...process.env,
      WORLD_SIZE: String(worldSize),
      RANK: String(rank),
      LOCAL_RANK: String(rank),
      LOCAL_WORLD_SIZE: String(worldSize),
      MASTER_ADDR: '127.0.0.1',
      MASTER_PORT: String(port),
      BYOL_DIST_TIMEOUT: String(options.timeoutSeconds ?? 60),
      BYOL_TEST_OPTIONS: JSON.stringify(spec.options),
      BYOL_TEST_OUT: outFile,
      ...spec.env,
    }
    const [cmd, ...args] = [...(spec.prefix ?? []), process.execPath, WORKER]
    const started = Date.now()
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr!.on('data', (d) => (stderr += d))
    // A hung rank is a failed test, not a hung test run.
    const guard = setTimeout(() => child.kill('SIGKILL'), (options.killAfterSeconds ?? 240) * 1000)
    const done = new Promise<RankOutcome>((resolve) => {
      child.on('close', (code, signal) => {
        clearTimeout(guard)
        const out = fs.existsSync(outFile) ? (JSON.parse(fs.readFileSync(outFile, 'utf8')) as WorkerOutput) : undefined
        resolve({ rank, code, signal, stderr, seconds: (Date.now() - started) / 1000, out })
      })
    })
    return { rank, child, done }
  })
}

/** Runs ranks to the end. */
export async function runRanks(specs: RankSpec[], options: { timeoutSeconds?: number; killAfterSeconds?: number; port?: number } = {}): Promise<RankOutcome[]> {
  const port = options.port ?? (await freePort())
  return Promise.all(startRanks(specs, port, options).map((r) => r.done))
}

/** The largest absolute difference between two states (names in `a`; those matching `skip` left out). */
export function largestDifference(a: Record<string, number[]>, b: Record<string, number[]>, skip?: RegExp): { name: string; difference: number } {
  let worst = { name: '', difference: 0 }
  for (const [name, values] of Object.entries(a)) {
    if (skip?.test(name)) continue
    const other = b[name]
    if (!other || other.length !== values.length) return { name, difference: Infinity }
    for (let i = 0; i < values.length; i++) {
      const d = Math.abs(values[i] - other[i])
      if (!(d <= worst.difference)) worst = { name, difference: d }
    }
  }
  return worst
}

/** Names whose values differ at all between two states. */
export function differingNames(a: Record<string, number[]>, b: Record<string, number[]>): string[] {
  return Object.keys(a).filter((name) => JSON.stringify(a[name]) !== JSON.stringify(b[name]))
}
