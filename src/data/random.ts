// Seeded, platform-independent randomness for data order: the same seed and epoch give the same
// permutation on every machine and after a resume, without any state to save.

/** A 32-bit mixing hash (from splitmix / murmur3's finaliser) of any number of integers. */
export function hashInts(...values: number[]): number {
  let h = 0x9e3779b9
  for (const v of values) {
    // Mix both 32-bit halves of integers up to 2^53.
    for (const part of [v >>> 0, Math.floor(v / 0x100000000) >>> 0]) {
      h = Math.imul(h ^ part, 0x85ebca6b)
      h ^= h >>> 13
      h = Math.imul(h, 0xc2b2ae35)
      h ^= h >>> 16
    }
  }
  return h >>> 0
}

/** mulberry32: a small, fast generator of uniform numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A Fisher-Yates permutation of 0..n-1 determined by `(seed, epoch)`. */
export function permutation(n: number, seed: number, epoch: number): Int32Array {
  const order = new Int32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  const random = mulberry32(hashInts(seed, epoch))
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const t = order[i]
    order[i] = order[j]
    order[j] = t
  }
  return order
}
