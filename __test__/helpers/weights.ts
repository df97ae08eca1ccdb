// Fixed weights from a formula, so fixtures need not store them. Mirrors `formula_tensor` in
// scripts/fixtures/generate.py exactly: every step is exact or a correctly rounded float64
// operation, then one rounding to float32, so both sides produce the same bits.
import type { Byol, Network, State } from '../../src'

/** `(sum over the name's UTF-16 code units c_i * (i + 1)) mod 100003`, plus the salt. */
export function nameKey(name: string, salt: number): number {
  let sum = 0
  for (let i = 0; i < name.length; i++) sum += name.charCodeAt(i) * (i + 1)
  return (sum % 100003) + salt
}

/** The formula value of one named tensor: float32, or int64 (zeros) for num_batches_tracked. */
export function formulaTensor(name: string, shape: number[], salt: number): Float32Array | BigInt64Array {
  const n = shape.reduce((a, b) => a * b, 1)
  const leaf = name.slice(name.lastIndexOf('.') + 1)
  if (leaf === 'num_batches_tracked') return new BigInt64Array(n)
  const k = nameKey(name, salt)
  let value: (u: number) => number
  if (leaf === 'weight' && shape.length >= 2) {
    const scale = Math.sqrt(24 / (n / shape[0]))
    value = (u) => u * scale
  } else if (leaf === 'weight') {
    value = (u) => 1 + 0.2 * u
  } else if (leaf === 'bias') {
    value = (u) => 0.1 * u
  } else if (leaf === 'running_mean') {
    value = (u) => 0.1 * u
  } else if (leaf === 'running_var') {
    value = (u) => 0.75 + 0.5 * (u + 0.5)
  } else {
    throw new Error(`no formula for ${name}`)
  }
  const out = new Float32Array(n)
  const offset = k * 104729 // exact: both factors and all sums below stay far under 2^53
  for (let j = 0; j < n; j++) {
    const u = ((j * 7919 + offset) % 2003) / 2003 - 0.5
    out[j] = value(u)
  }
  return out
}

/** The formula state for every tensor of a template (names and shapes from `model.state`). */
export function formulaState(template: Map<string, { shape: number[] }>, salt: number, options: { numBatchesTracked?: bigint } = {}): State {
  const state: State = new Map()
  for (const [name, { shape }] of template) {
    const data = formulaTensor(name, shape, salt)
    if (data instanceof BigInt64Array && options.numBatchesTracked !== undefined) data.fill(options.numBatchesTracked)
    state.set(name, { data, shape: [...shape] })
  }
  return state
}

/** Loads the formula weights with `salt` into one network of the model; returns what it loaded. */
export async function loadFormula(model: Byol, network: Network, salt: number, options: { numBatchesTracked?: bigint } = {}): Promise<State> {
  const state = formulaState(await model.state(network), salt, options)
  await model.loadState(state, network)
  return state
}
