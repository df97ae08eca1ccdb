// The fixtures that scripts/fixtures/generate.py writes, read with the library's own safetensors
// decoder.
import fs = require('fs')
import path = require('path')
import { asBytes } from '../../src/files/atomic-write'
import { decodeSafetensors } from '../../src/export/safetensors'

export type FixtureData = Float32Array | Float64Array | BigInt64Array | Uint8Array

export interface FixtureTensor<T extends FixtureData = FixtureData> {
  dtype: 'F32' | 'F64' | 'I64' | 'U8'
  shape: number[]
  data: T
}

export interface Fixture {
  tensors: Map<string, FixtureTensor>
  metadata: Record<string, string>
}

/** The committed fixtures, `__test__/fixtures` at the repository root (tests run from dist/). */
export const FIXTURES = path.resolve(__dirname, '..', '..', '..', '__test__', 'fixtures')

function dtypeOf(data: unknown): FixtureTensor['dtype'] {
  if (data instanceof Float32Array) return 'F32'
  if (data instanceof Float64Array) return 'F64'
  if (data instanceof BigInt64Array) return 'I64'
  if (data instanceof Uint8Array) return 'U8'
  throw new Error('fixtures hold F32, F64, I64 and U8 tensors only')
}

export function readSafetensors(file: string): Fixture {
  const { tensors, metadata } = decodeSafetensors(asBytes(fs.readFileSync(file)), file)
  const fixture = new Map<string, FixtureTensor>()
  for (const [name, t] of tensors) fixture.set(name, { dtype: dtypeOf(t.data), shape: t.shape, data: t.data as FixtureData })
  return { tensors: fixture, metadata }
}

/** Reads `__test__/fixtures/<name>.safetensors`. */
export function loadFixture(name: string): Fixture {
  return readSafetensors(path.join(FIXTURES, `${name}.safetensors`))
}

/** The fixture's `config` metadata (the generator's options for this case). */
export function fixtureConfig<T = Record<string, unknown>>(fixture: Fixture): T {
  return JSON.parse(fixture.metadata.config ?? '{}') as T
}

/** One tensor, which must exist. */
export function get(fixture: Fixture, name: string): FixtureTensor {
  const t = fixture.tensors.get(name)
  if (!t) throw new Error(`fixture has no tensor ${name}`)
  return t
}

/** One float32 tensor as a byol input tensor. */
export function input(fixture: Fixture, name: string): { data: Float32Array; shape: number[] } {
  const t = get(fixture, name)
  if (t.dtype !== 'F32') throw new Error(`fixture tensor ${name} is ${t.dtype}, expected F32`)
  return { data: t.data as Float32Array, shape: t.shape }
}

/**
 * Images stored as bytes (U8), as float32 images: `(byte - 128) / 64`, exactly as the generator's
 * `images_from_u8`.
 */
export function images(fixture: Fixture, name: string): { data: Float32Array; shape: number[] } {
  const t = get(fixture, name)
  if (t.dtype !== 'U8') throw new Error(`fixture tensor ${name} is ${t.dtype}, expected U8 images`)
  const data = new Float32Array(t.data.length)
  for (let i = 0; i < data.length; i++) data[i] = ((t.data as Uint8Array)[i] - 128) / 64
  return { data, shape: t.shape }
}

/** The tensors whose names start with `prefix`, with the prefix removed. */
export function withPrefix(fixture: Fixture, prefix: string): Map<string, FixtureTensor> {
  const out = new Map<string, FixtureTensor>()
  for (const [name, t] of fixture.tensors) if (name.startsWith(prefix)) out.set(name.slice(prefix.length), t)
  return out
}
