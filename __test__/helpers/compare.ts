// Comparison against the fixtures: relative error = max|a - b| / max(max|b|, 1e-6) per tensor,
// at most 1e-4 in float32. A failure names every tensor that is off and by how much.
import type { ExecutionContext } from 'ava'
import type { FixtureData } from './safetensors'

export const TOLERANCE = 1e-4

export interface Comparable {
  data: Float32Array | Float64Array | BigInt64Array | Uint8Array | ArrayLike<number>
  shape: number[]
}

/** max|a - b| / max(max|b|, 1e-6); Infinity when `actual` holds a NaN or an infinity where `expected` does not. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity
  let diff = 0
  let scale = 0
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i])
    if (Number.isNaN(d)) return Infinity
    if (d > diff) diff = d
    const e = Math.abs(expected[i])
    if (e > scale) scale = e
  }
  return diff / Math.max(scale, 1e-6)
}

/** Why `actual` does not match `expected` (null when it does). Integer tensors must be equal. */
export function mismatch(name: string, actual: Comparable, expected: Comparable, tolerance = TOLERANCE): string | null {
  const shapeA = JSON.stringify(actual.shape)
  const shapeE = JSON.stringify(expected.shape)
  if (shapeA !== shapeE) return `${name}: shape ${shapeA}, expected ${shapeE}`
  const a = actual.data
  const e = expected.data
  if (a instanceof BigInt64Array || e instanceof BigInt64Array) {
    if (!(a instanceof BigInt64Array && e instanceof BigInt64Array)) return `${name}: integer tensor expected on both sides`
    for (let i = 0; i < e.length; i++) {
      if (a[i] !== e[i]) return `${name}: element ${i} is ${a[i]}, expected ${e[i]}`
    }
    return null
  }
  const err = relativeError(a as ArrayLike<number>, e as ArrayLike<number>)
  return err <= tolerance ? null : `${name}: relative error ${err.toExponential(3)} > ${tolerance}`
}

/** Asserts one tensor; the message names it. */
export function assertClose(t: ExecutionContext, name: string, actual: Comparable, expected: Comparable, tolerance = TOLERANCE): void {
  const problem = mismatch(name, actual, expected, tolerance)
  if (problem) {
    t.fail(problem)
  } else {
    const a = actual.data
    if (!(a instanceof BigInt64Array)) {
      t.log(`${name}: relative error ${relativeError(a as ArrayLike<number>, expected.data as ArrayLike<number>).toExponential(2)}`)
    }
    t.pass()
  }
}

/** The worst relative error over the float tensors of a state (for logging the margin). */
export function worstError(actual: Map<string, Comparable>, expected: Map<string, Comparable>): { name: string; error: number } {
  let worst = { name: '', error: 0 }
  for (const [name, e] of expected) {
    const a = actual.get(name)
    if (!a || e.data instanceof BigInt64Array || a.data instanceof BigInt64Array) continue
    const error = relativeError(a.data as ArrayLike<number>, e.data as ArrayLike<number>)
    if (error >= worst.error) worst = { name, error }
  }
  return worst
}

/** Asserts that two named states hold the same names, shapes and values (within the tolerance). */
export function assertState(
  t: ExecutionContext,
  label: string,
  actual: Map<string, Comparable>,
  expected: Map<string, Comparable>,
  tolerance = TOLERANCE,
): void {
  const problems: string[] = []
  for (const name of expected.keys()) if (!actual.has(name)) problems.push(`${name}: missing`)
  for (const name of actual.keys()) if (!expected.has(name)) problems.push(`${name}: not in the fixture`)
  for (const [name, e] of expected) {
    const a = actual.get(name)
    if (!a) continue
    const problem = mismatch(name, a, e, tolerance)
    if (problem) problems.push(problem)
  }
  if (problems.length > 0) {
    t.fail(`${label}: ${problems.length} of ${expected.size} tensors differ\n  ${problems.join('\n  ')}`)
  } else {
    const worst = worstError(actual, expected)
    t.log(`${label}: ${expected.size} tensors match (worst ${worst.error.toExponential(2)} in ${worst.name})`)
    t.pass()
  }
}

export type { FixtureData }
