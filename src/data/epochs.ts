// Batches of one epoch: a seeded shuffle, drop_last, and batch indices ready for a native gather.
import { permutation } from './random'

export interface EpochOptions {
  batchSize: number
  /** Shuffle with a permutation determined by `(seed, epoch)` (default true). */
  shuffle?: boolean
  /** Drop the last, incomplete batch (default true, as the Lightly example). */
  dropLast?: boolean
  seed?: number
}

/** How many batches one epoch of `length` images has. */
export function batchesPerEpoch(length: number, batchSize: number, dropLast = true): number {
  return dropLast ? Math.floor(length / batchSize) : Math.ceil(length / batchSize)
}

/**
 * The index batches of one epoch, as BigInt64Arrays (what the native gather takes). The same
 * arguments always give the same batches, so an epoch can be resumed at any batch.
 */
export function epochBatches(length: number, epoch: number, options: EpochOptions): BigInt64Array[] {
  const { batchSize, shuffle = true, dropLast = true, seed = 0 } = options
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`)
  const order = shuffle ? permutation(length, seed, epoch) : Int32Array.from({ length }, (_, i) => i)
  const count = batchesPerEpoch(length, batchSize, dropLast)
  const batches: BigInt64Array[] = []
  for (let b = 0; b < count; b++) {
    const slice = order.subarray(b * batchSize, Math.min(length, (b + 1) * batchSize))
    const indices = new BigInt64Array(slice.length)
    for (let i = 0; i < slice.length; i++) indices[i] = BigInt(slice[i])
    batches.push(indices)
  }
  return batches
}
