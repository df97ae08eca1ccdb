// This process's part in a data-parallel job, as the training loop sees it: its rank, the stop
// every rank agrees on, and the few messages the ranks exchange
// through the rendezvous store (rank 0's epoch results and checkpoint state, every rank's
// augmenter state). The gradients are averaged natively, inside each step.
import { native, Native } from '../model/addon'
import { checkDistributed, distributedFromEnv, DistributedOptions, ResolvedDistributed } from './options'

/** The job `options.distributed` names (even of one process: its communication then runs, for
 * measuring what it costs), or the one torchrun's environment describes (undefined when that is a
 * single process). `false` ignores the environment. */
export function resolveDistributed(distributed: DistributedOptions | boolean | undefined): ResolvedDistributed | undefined {
  if (distributed === false) return undefined
  const options = distributed === undefined || distributed === true ? distributedFromEnv() : distributed
  if (options === undefined) {
    if (distributed === true) throw new Error('distributed: true, but WORLD_SIZE is not set (launch with `byol train --nproc-per-node N` or torchrun)')
    return undefined
  }
  const resolved = checkDistributed(options)
  return resolved.worldSize > 1 || typeof distributed === 'object' ? resolved : undefined
}

export class DataParallelJob {
  private constructor(
    readonly options: ResolvedDistributed,
    readonly backend: 'gloo' | 'nccl',
    readonly handle: Native.GroupHandle,
  ) {}

  /** Meets the other ranks; fails within the job's timeout, saying why, when they do not come. */
  static async join(options: ResolvedDistributed, device: string): Promise<DataParallelJob> {
    const backend = options.backend === 'auto' ? (device.startsWith('cuda') ? 'nccl' : 'gloo') : options.backend
    const available = native.distributedBackends()
    if (!available.includes(backend)) {
      throw new Error(
        `data-parallel training over ${backend} is not available in this build of byol (it has: ${available.join(', ') || 'none'}); ` +
          (backend === 'gloo' ? 'install libgloo-dev and rebuild (node scripts/install.js --force)' : 'NCCL needs a CUDA libtorch with nccl.h'),
      )
    }
    const handle = await native.groupJoin({
      rank: options.rank,
      worldSize: options.worldSize,
      masterAddr: options.masterAddr,
      masterPort: options.masterPort,
      backend,
      timeoutSeconds: options.timeoutSeconds,
      device,
      agentRestart: options.agentStore ? options.restartCount : undefined,
      socketInterface: options.socketInterface,
    })
    return new DataParallelJob(options, backend, handle)
  }

  get rank(): number {
    return this.options.rank
  }

  get worldSize(): number {
    return this.options.worldSize
  }

  /** Rank 0 evaluates, writes the run directory and hosts the store. */
  get isMain(): boolean {
    return this.options.rank === 0
  }

  /** Whether any rank wants to stop (every rank gets the same answer after the same step). */
  anyStop(local: boolean): Promise<boolean> {
    return native.groupAny(this.handle, local)
  }

  /** Rank 0's `value` on every rank (rank 0 passes it, the others wait for it). */
  async fromMain<T>(key: string, value?: T): Promise<T> {
    if (this.isMain) {
      await native.groupPublish(this.handle, key, JSON.stringify(value ?? null))
      return value as T
    }
    return JSON.parse(await native.groupWaitFor(this.handle, key, 0)) as T
  }

  /** Every rank's `value`, in rank order, on rank 0 (undefined elsewhere). */
  async toMain<T>(key: string, value: T): Promise<T[] | undefined> {
    if (!this.isMain) {
      await native.groupPublish(this.handle, `${key}/${this.rank}`, JSON.stringify(value))
      return undefined
    }
    const values: T[] = [value]
    for (let r = 1; r < this.worldSize; r++) values.push(JSON.parse(await native.groupWaitFor(this.handle, `${key}/${r}`, r)) as T)
    return values
  }

  /** Tells the other ranks why this one stops, and leaves. Rank 0 hosts the store the message
   * goes through, so it stays a moment for the others to read it. */
  async fail(error: unknown): Promise<void> {
    try {
      native.groupReportFailure(this.handle, error instanceof Error ? error.message : String(error))
      if (this.isMain) await new Promise((resolve) => setTimeout(resolve, 1500))
    } catch {
      // the store is gone too: the others learn it from the broken connection
    }
    await this.leave(false).catch(() => {})
  }

  /** Leaves the job; after a whole run, waits for every rank first (rank 0 leaves last). */
  leave(finished: boolean): Promise<void> {
    return native.groupLeave(this.handle, { finish: finished })
  }
}
