// The local launcher: starts the workers of a data-parallel job on this machine with torchrun's
// environment and supervises them as torchrun's agent does, so that `byol train --nproc-per-node N`
// and `torchrun --nproc-per-node N --no-python byol train` start workers that cannot tell the two
// apart, and stop them the same way.
import { ChildProcess, spawn } from 'child_process'
import net = require('net')
import os = require('os')
import { DEFAULT_MASTER_PORT } from './options'

/** A chunk a worker wrote, when `onWorkerOutput` takes the workers' output instead of the terminal. */
export interface WorkerOutput {
  rank: number
  localRank: number
  stream: 'stdout' | 'stderr'
  data: Buffer
}

export interface LaunchOptions {
  /** Workers to start on this machine. */
  nprocPerNode: number
  /** Machines in the job, each running its own launcher. Default 1. */
  nnodes?: number
  /** This machine's place among them, 0..nnodes-1: its workers get ranks `nodeRank * nprocPerNode + localRank`. Default 0. */
  nodeRank?: number
  /** Where rank 0 hosts the rendezvous store. Default `127.0.0.1`. */
  masterAddr?: string
  /** The store's port. Default: 29500 (torchrun's) across machines; a free port on `masterAddr` on one machine. */
  masterPort?: number
  /** `OMP_NUM_THREADS` of each worker. Default: the cores divided among the workers (at least 1), unless the environment already sets `OMP_NUM_THREADS`. */
  threadsPerWorker?: number
  /** The environment the workers' variables are added to. Default `process.env`. */
  env?: NodeJS.ProcessEnv
  /** When a worker fails, the others get SIGTERM, and SIGKILL when they are still running this many seconds later. Default 10. */
  graceSeconds?: number
  /** Receives the workers' stdout and stderr. Default: the workers write to the launcher's stdout and stderr. */
  onWorkerOutput?: (output: WorkerOutput) => void
}

/** The first worker that failed: its exit code, or the signal that killed it (both null when it could not be started). */
export interface WorkerFailure {
  rank: number
  localRank: number
  code: number | null
  signal: string | null
}

export interface LaunchResult {
  /** 0 when every worker exited 0; else the failed worker's status (128 + the signal's number when killed), or after a forwarded signal the first non-zero status. */
  exitCode: number
  /** Set when a worker failed on its own (not after a signal the launcher forwarded). */
  failed?: WorkerFailure
}

/** torchrun's agent forwards these too: the workers are in sessions of their own, so only the launcher receives them from a terminal. */
const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']

function integer(name: string, x: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(x) || x < min || x > max) {
    throw new RangeError(`launch: ${name} must be an integer ${max < Number.MAX_SAFE_INTEGER ? `in [${min}, ${max}]` : `>= ${min}`}, got ${x}`)
  }
  return x
}

interface Resolved {
  nprocPerNode: number
  nnodes: number
  nodeRank: number
  masterAddr: string
  masterPort?: number
  threadsPerWorker?: number
  env: NodeJS.ProcessEnv
  graceSeconds: number
  onWorkerOutput?: (output: WorkerOutput) => void
}

function resolveOptions(command: string[], options: LaunchOptions): Resolved {
  if (!Array.isArray(command) || command.length === 0 || command.some((a) => typeof a !== 'string') || command[0] === '') {
    throw new RangeError('launch: command must be [executable, ...arguments], all strings')
  }
  const nnodes = integer('nnodes', options.nnodes ?? 1, 1)
  const masterAddr = options.masterAddr ?? '127.0.0.1'
  if (typeof masterAddr !== 'string' || masterAddr === '') throw new RangeError(`launch: masterAddr must be a host name or address, got '${masterAddr}'`)
  const graceSeconds = options.graceSeconds ?? 10
  if (typeof graceSeconds !== 'number' || !(graceSeconds >= 0) || !Number.isFinite(graceSeconds)) {
    throw new RangeError(`launch: graceSeconds must be a number >= 0, got ${graceSeconds}`)
  }
  return {
    nprocPerNode: integer('nprocPerNode', options.nprocPerNode, 1),
    nnodes,
    nodeRank: integer('nodeRank', options.nodeRank ?? 0, 0, nnodes - 1),
    masterAddr,
    masterPort: options.masterPort === undefined ? undefined : integer('masterPort', options.masterPort, 1, 65535),
    threadsPerWorker: options.threadsPerWorker === undefined ? undefined : integer('threadsPerWorker', options.threadsPerWorker, 1),
    env: options.env ?? process.env,
    graceSeconds,
    onWorkerOutput: options.onWorkerOutput,
  }
}

/** A TCP port on `host` that was free a moment ago (the OS picks it). Another process may take it
 * before rank 0 does; on one machine that is unlikely enough. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

function workerEnv(o: Resolved, masterPort: number, localRank: number): NodeJS.ProcessEnv {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length
  const threads = o.threadsPerWorker ?? (o.env.OMP_NUM_THREADS || Math.max(1, Math.floor(cores / o.nprocPerNode)))
  const env: NodeJS.ProcessEnv = {
    ...o.env,
    RANK: String(o.nodeRank * o.nprocPerNode + localRank),
    LOCAL_RANK: String(localRank),
    WORLD_SIZE: String(o.nnodes * o.nprocPerNode),
    LOCAL_WORLD_SIZE: String(o.nprocPerNode),
    GROUP_RANK: String(o.nodeRank),
    MASTER_ADDR: o.masterAddr,
    MASTER_PORT: String(masterPort),
    OMP_NUM_THREADS: String(threads),
    BYOL_LAUNCHED: '1',
  }
  // Inherited from a torchrun job around this launcher, it would send the workers to an agent's
  // store that this launcher does not host; here rank 0 hosts the store.
  delete env.TORCHELASTIC_USE_AGENT_STORE
  return env
}

/** The status a shell reports: the exit code, or 128 + the signal's number. */
function statusOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code
  return signal ? 128 + (os.constants.signals[signal] ?? 0) : 1
}

/** Signals the worker's process group, so that processes it started stop with it (as torchrun does). */
function signalWorker(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (process.platform !== 'win32' && child.pid !== undefined) process.kill(-child.pid, signal)
    else child.kill(signal)
  } catch {
    // Gone already: its exit event is on its way.
  }
}

interface Worker {
  rank: number
  localRank: number
  child?: ChildProcess
  running: boolean
  status?: number
}

/**
 * Starts `nprocPerNode` copies of `command` with torchrun's variables (`RANK`, `LOCAL_RANK`,
 * `WORLD_SIZE`, `LOCAL_WORLD_SIZE`, `GROUP_RANK`, `MASTER_ADDR`, `MASTER_PORT`, `OMP_NUM_THREADS`,
 * plus `BYOL_LAUNCHED=1`) and resolves when they have all exited. When one fails, the others get
 * SIGTERM (SIGKILL after `graceSeconds`) and one line on stderr names it. SIGINT, SIGTERM and SIGHUP
 * sent to this process while the workers run are passed on to them, and the result is then their
 * status (130 or 143 for a byol trainer that stopped with a checkpoint).
 */
export async function launch(command: string[], options: LaunchOptions): Promise<LaunchResult> {
  const o = resolveOptions(command, options)
  const masterPort = o.masterPort ?? (o.nnodes > 1 ? DEFAULT_MASTER_PORT : await freePort(o.masterAddr))
  return new Promise((resolve) => {
    const workers: Worker[] = Array.from({ length: o.nprocPerNode }, (_, localRank) => ({
      rank: o.nodeRank * o.nprocPerNode + localRank,
      localRank,
      running: false,
    }))
    let failed: (WorkerFailure & { error?: Error; othersRunning: boolean }) | undefined
    let forwarded = false
    let killTimer: NodeJS.Timeout | undefined
    let open = workers.length

    const signalRunning = (signal: NodeJS.Signals) => {
      for (const w of workers) if (w.running && w.child) signalWorker(w.child, signal)
    }
    const onSignal = (signal: NodeJS.Signals) => {
      forwarded = true
      signalRunning(signal)
    }
    // The workers are in sessions of their own: a launcher that exits without them would leave them running.
    const onProcessExit = () => signalRunning('SIGKILL')

    const ended = (w: Worker, code: number | null, signal: NodeJS.Signals | null, error?: Error) => {
      if (w.status !== undefined) return
      w.running = false
      w.status = error ? 1 : statusOf(code, signal)
      if (w.status === 0 || failed || forwarded) return
      const othersRunning = workers.some((x) => x.running)
      failed = { rank: w.rank, localRank: w.localRank, code, signal, error, othersRunning }
      signalRunning('SIGTERM')
      if (othersRunning) killTimer = setTimeout(() => signalRunning('SIGKILL'), o.graceSeconds * 1000)
    }

    const closed = () => {
      if (--open > 0) return
      clearTimeout(killTimer)
      for (const signal of FORWARDED_SIGNALS) process.off(signal, onSignal)
      process.off('exit', onProcessExit)
      if (failed) {
        const { error, othersRunning, ...failure } = failed
        const how = error ? `could not be started (${error.message})` : failure.signal ? `was killed by ${failure.signal}` : `exited with code ${failure.code}`
        process.stderr.write(
          `byol: worker rank ${failure.rank} (local rank ${failure.localRank}) ${how}${othersRunning ? '; stopped the other workers' : ''}\n`,
        )
        resolve({ exitCode: workers.find((w) => w.rank === failure.rank)!.status!, failed: failure })
        return
      }
      resolve({ exitCode: workers.find((w) => w.status !== 0)?.status ?? 0 })
    }

    for (const signal of FORWARDED_SIGNALS) process.on(signal, onSignal)
    process.on('exit', onProcessExit)
    for (const w of workers) {
      if (failed) {
        // The command could not be started for an earlier worker: it would fail the same way.
        closed()
        continue
      }
      try {
        w.child = spawn(command[0], command.slice(1), {
          env: workerEnv(o, masterPort, w.localRank),
          stdio: o.onWorkerOutput ? ['inherit', 'pipe', 'pipe'] : 'inherit',
          detached: process.platform !== 'win32',
        })
      } catch (e) {
        ended(w, null, null, e as Error)
        closed()
        continue
      }
      w.running = w.child.pid !== undefined
      const output = o.onWorkerOutput
      if (output) {
        for (const stream of ['stdout', 'stderr'] as const) {
          w.child[stream]!.on('data', (data: Buffer) => output({ rank: w.rank, localRank: w.localRank, stream, data }))
        }
      }
      w.child.on('error', (e) => ended(w, null, null, e))
      w.child.on('exit', (code, signal) => ended(w, code, signal))
      w.child.on('close', closed)
    }
  })
}
