// Steps go to the device in chunks of up to `lossEvery` batches, and a chunk's losses are read
// only once the next chunk is queued: the device always has work, and JavaScript waits only for
// steps that are (nearly) done.
import { native, Native } from '../model/addon'

/** A chunk of steps queued on the device whose losses have not been read yet. */
export interface Chunk {
  epoch: number
  firstBatch: number
  images: number
  lr: number
  momentum: number
  run: Native.TrainerRunResult
}

/** The number of batches from `first` that make the next chunk: at most `lossEvery`, all of one
 * size (a smaller last batch is a chunk of its own, so that one chunk is one batch size). */
export function chunkLength(batches: BigInt64Array[], first: number, lossEvery: number): number {
  let n = 1
  while (n < lossEvery && first + n < batches.length && batches[first + n].length === batches[first].length) n++
  return n
}

/** The indices of several batches as one int64 array, in order. */
export function concatBatches(batches: BigInt64Array[]): BigInt64Array {
  const out = new BigInt64Array(batches.reduce((n, b) => n + b.length, 0))
  let at = 0
  for (const b of batches) {
    out.set(b, at)
    at += b.length
  }
  return out
}

/** At most one chunk in flight: queuing the next one hands back the previous one, read. */
export class ChunkQueue {
  private queued: Chunk | undefined

  /** Holds `chunk` (just queued on the device) and reads the chunk before it, waiting for its steps. */
  async push(chunk: Chunk): Promise<{ chunk: Chunk; losses: Float32Array } | undefined> {
    const previous = this.queued
    this.queued = chunk
    return previous && { chunk: previous, losses: await native.trainerLosses(previous.run.losses) }
  }

  /** Reads the chunk still held (at the end of an epoch or before an abort's checkpoint). */
  async flush(): Promise<{ chunk: Chunk; losses: Float32Array } | undefined> {
    const last = this.queued
    this.queued = undefined
    return last && { chunk: last, losses: await native.trainerLosses(last.run.losses) }
  }

  /** Waits for the steps of a chunk still held, dropping its losses and any error: before the
   * trainer is disposed, whether training ended or threw. */
  async discard(): Promise<void> {
    const unread = this.queued?.run.losses
    this.queued = undefined
    if (unread)
      await Promise.resolve()
        .then(() => native.trainerLosses(unread))
        .catch(() => undefined)
  }
}
