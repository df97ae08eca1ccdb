/** A dense, row-major tensor in host memory: what goes into and comes out of byol. */
export interface Tensor<T extends Float32Array | Uint8Array | BigInt64Array = Float32Array> {
  data: T
  shape: number[]
}

/** Builds a tensor, checking that `shape` matches the data's length. */
export function tensor<T extends Float32Array | Uint8Array | BigInt64Array>(data: T, shape: number[]): Tensor<T> {
  const elements = shape.reduce((a, b) => a * b, 1)
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new RangeError(`shape must hold non-negative integers, got [${shape.join(', ')}]`)
  }
  if (elements !== data.length) {
    throw new RangeError(`shape [${shape.join(', ')}] needs ${elements} elements but data has ${data.length}`)
  }
  return { data, shape }
}
