// A small reader of the safetensors files that scripts/fixtures/generate.py writes: an 8-byte
// little-endian header length, a JSON header ({name: {dtype, shape, data_offsets}, __metadata__}),
// then the raw little-endian data of every tensor.
import fs = require('fs')
import path = require('path')

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

const SIZES = { F32: 4, F64: 8, I64: 8, U8: 1 } as const

export function readSafetensors(file: string): Fixture {
  const buf = fs.readFileSync(file)
  if (buf.length < 8) throw new Error(`${file}: too short for a safetensors file`)
  const headerLength = Number(buf.readBigUInt64LE(0))
  if (8 + headerLength > buf.length) throw new Error(`${file}: header length ${headerLength} past the end`)
  const header = JSON.parse(buf.toString('utf8', 8, 8 + headerLength)) as Record<string, unknown>
  const base = 8 + headerLength
  const tensors = new Map<string, FixtureTensor>()
  let metadata: Record<string, string> = {}
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = value as Record<string, string>
      continue
    }
    const info = value as { dtype: string; shape: number[]; data_offsets: [number, number] }
    if (!(info.dtype in SIZES)) throw new Error(`${file}: ${name} has unsupported dtype ${info.dtype}`)
    const dtype = info.dtype as keyof typeof SIZES
    const [begin, end] = info.data_offsets
    const count = info.shape.reduce((a, b) => a * b, 1)
    if (end - begin !== count * SIZES[dtype] || base + end > buf.length) {
      throw new Error(`${file}: ${name} has data_offsets [${begin}, ${end}] that do not fit shape [${info.shape}]`)
    }
    const view = new DataView(buf.buffer, buf.byteOffset + base + begin, end - begin)
    let data: FixtureData
    if (dtype === 'F32') {
      data = new Float32Array(count)
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(4 * i, true)
    } else if (dtype === 'F64') {
      data = new Float64Array(count)
      for (let i = 0; i < count; i++) data[i] = view.getFloat64(8 * i, true)
    } else if (dtype === 'U8') {
      data = new Uint8Array(count)
      for (let i = 0; i < count; i++) data[i] = view.getUint8(i)
    } else {
      data = new BigInt64Array(count)
      for (let i = 0; i < count; i++) data[i] = view.getBigInt64(8 * i, true)
    }
    tensors.set(name, { dtype, shape: info.shape, data })
  }
  return { tensors, metadata }
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
