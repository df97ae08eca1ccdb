// Where a process stands in a data-parallel job: its rank, the world, and how the ranks meet.
// Read from torchrun's environment, so that `python3 -m torch.distributed.run --no-python byol
// train ...` and byol's own launcher (`byol train --nproc-per-node N`) start the same workers.

export type DistributedBackend = 'auto' | 'gloo' | 'nccl'

export interface DistributedOptions {
  /** This process's rank, 0..worldSize-1. Rank 0 writes the run directory. */
  rank: number
  /** How many processes train together. */
  worldSize: number
  /** Rank among the processes on this machine: picks the GPU (`cuda:<localRank>`). Default: `rank`. */
  localRank?: number
  /** Processes on this machine: the CPU threads are divided among them. Default: `worldSize`. */
  localWorldSize?: number
  /** Where rank 0 (or torchrun's agent) hosts the rendezvous store. Default `127.0.0.1`. */
  masterAddr?: string
  /** The store's port. Default 29500, as torchrun's. */
  masterPort?: number
  /** `auto` (default): NCCL on CUDA, Gloo on the CPU. */
  backend?: DistributedBackend
  /** A rank that is gone, a collective that does not finish, or a rendezvous that does not
   * complete fails everyone within this many seconds. Default 300. */
  timeoutSeconds?: number
  /** torchrun's agent hosts the store (TORCHELASTIC_USE_AGENT_STORE): every rank connects as a
   * client, under the prefix of restart `restartCount`. */
  agentStore?: boolean
  restartCount?: number
  /** The network interface Gloo binds to (GLOO_SOCKET_IFNAME). Default: the one that reaches
   * `masterAddr`. */
  socketInterface?: string
  /** Send each bucket of gradients as soon as backward has made them, while it computes the rest.
   * Default: on CUDA (NCCL moves data while the GPU computes), not on the CPU, where Gloo's
   * threads took cores from backward and the step got slower (BENCHMARKS.md). Steps that
   * accumulate micro-batches send after the last one either way. */
  overlap?: boolean
  /** Gradients per all-reduce, in MiB (default 25, as PyTorch's DistributedDataParallel). */
  bucketMegabytes?: number
}

export const DEFAULT_MASTER_PORT = 29500
export const DEFAULT_TIMEOUT_SECONDS = 300

function envInteger(env: NodeJS.ProcessEnv, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const raw = env[name]
  if (raw === undefined || raw === '') return undefined
  const x = Number(raw)
  if (!/^\s*-?\d+\s*$/.test(raw) || x < min || x > max) {
    throw new RangeError(`${name} must be an integer ${max < Number.MAX_SAFE_INTEGER ? `in [${min}, ${max}]` : `>= ${min}`}, got '${raw}'`)
  }
  return x
}

/**
 * The job this process belongs to according to torchrun's variables (`RANK`, `WORLD_SIZE`,
 * `LOCAL_RANK`, `LOCAL_WORLD_SIZE`, `MASTER_ADDR`, `MASTER_PORT`, `TORCHELASTIC_USE_AGENT_STORE`,
 * `TORCHELASTIC_RESTART_COUNT`, plus `GLOO_SOCKET_IFNAME` and `BYOL_DIST_TIMEOUT` in seconds), or
 * undefined when `WORLD_SIZE` is not set. Inconsistent values throw, naming the variable.
 */
export function distributedFromEnv(env: NodeJS.ProcessEnv = process.env): DistributedOptions | undefined {
  const worldSize = envInteger(env, 'WORLD_SIZE', 1)
  if (worldSize === undefined) return undefined
  const rank = envInteger(env, 'RANK', 0)
  if (rank === undefined) throw new RangeError(`WORLD_SIZE is ${worldSize} but RANK is not set; set both (torchrun sets both)`)
  if (rank >= worldSize) throw new RangeError(`RANK must be below WORLD_SIZE, got RANK=${rank} and WORLD_SIZE=${worldSize}`)
  const options: DistributedOptions = {
    rank,
    worldSize,
    localRank: envInteger(env, 'LOCAL_RANK', 0),
    localWorldSize: envInteger(env, 'LOCAL_WORLD_SIZE', 1),
    masterAddr: env.MASTER_ADDR || undefined,
    masterPort: envInteger(env, 'MASTER_PORT', 1, 65535),
    agentStore: env.TORCHELASTIC_USE_AGENT_STORE === 'True' || env.TORCHELASTIC_USE_AGENT_STORE === '1',
    restartCount: envInteger(env, 'TORCHELASTIC_RESTART_COUNT', 0),
    socketInterface: env.GLOO_SOCKET_IFNAME || undefined,
    timeoutSeconds: envInteger(env, 'BYOL_DIST_TIMEOUT', 1),
  }
  return checkDistributed(options)
}

/** `options` with every default filled in, or a RangeError naming what is inconsistent. */
export function checkDistributed(
  options: DistributedOptions,
): Required<Omit<DistributedOptions, 'socketInterface' | 'bucketMegabytes' | 'overlap'>> &
  Pick<DistributedOptions, 'socketInterface' | 'bucketMegabytes' | 'overlap'> {
  const { rank, worldSize } = options
  const integer = (name: string, x: number, min: number, max = Number.MAX_SAFE_INTEGER) => {
    if (!Number.isInteger(x) || x < min || x > max) throw new RangeError(`distributed.${name} must be an integer in [${min}, ${max}], got ${x}`)
    return x
  }
  integer('worldSize', worldSize, 1)
  integer('rank', rank, 0, worldSize - 1)
  const localWorldSize = integer('localWorldSize', options.localWorldSize ?? worldSize, 1, worldSize)
  const localRank = integer('localRank', options.localRank ?? rank, 0, localWorldSize - 1)
  const backend = options.backend ?? 'auto'
  if (!['auto', 'gloo', 'nccl'].includes(backend)) throw new RangeError(`distributed.backend must be auto, gloo or nccl, got '${backend}'`)
  return {
    rank,
    worldSize,
    localRank,
    localWorldSize,
    masterAddr: options.masterAddr ?? '127.0.0.1',
    masterPort: integer('masterPort', options.masterPort ?? DEFAULT_MASTER_PORT, 1, 65535),
    backend,
    timeoutSeconds: integer('timeoutSeconds', options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS, 1),
    agentStore: options.agentStore ?? false,
    restartCount: integer('restartCount', options.restartCount ?? 0, 0),
    socketInterface: options.socketInterface,
    overlap: options.overlap,
    bucketMegabytes: options.bucketMegabytes,
  }
}

export type ResolvedDistributed = ReturnType<typeof checkDistributed>
