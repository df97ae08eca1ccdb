// Deterministic synthetic inputs for the benchmarks (no data set needed).

/** `n` RGB images of `size x size` pixels, uint8 NHWC, from a fixed linear congruential stream. */
export function randomImages(n: number, size: number): Uint8Array {
  const data = new Uint8Array(n * size * size * 3)
  let x = 12345
  for (let i = 0; i < data.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    data[i] = x >>> 24
  }
  return data
}
