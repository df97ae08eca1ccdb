// The safetensors format (https://huggingface.co/docs/safetensors): an 8-byte little-endian
// header length, a JSON header `{ name: { dtype, shape, data_offsets }, __metadata__ }`, then the
// tensors' little-endian bytes. Written atomically (temporary file, fsync, rename).
import fs = require('fs')
import { asBytes, writeFileAtomic } from '../files/atomic-write'

export type SafetensorsData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array

export interface SafetensorsTensor {
  data: SafetensorsData
  shape: number[]
}

export interface SafetensorsFile {
  tensors: Map<string, SafetensorsTensor>
  metadata: Record<string, string>
}

const DTYPES: Array<[string, new (n: number) => SafetensorsData, number]> = [
  ['F32', Float32Array, 4],
  ['F64', Float64Array, 8],
  ['I64', BigInt64Array, 8],
  ['I32', Int32Array, 4],
  ['U8', Uint8Array, 1],
]

function dtypeOf(data: SafetensorsData): string {
  for (const [name, ctor] of DTYPES) if (data instanceof ctor) return name
  throw new TypeError('safetensors: unsupported typed array')
}

// Typed arrays are little-endian on every platform Node supports for byol (x64, arm64).
function bytesOf(data: SafetensorsData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
}

/** Serialises tensors (in the given order) and string metadata. */
export function encodeSafetensors(
  tensors: Map<string, SafetensorsTensor> | Array<[string, SafetensorsTensor]>,
  metadata: Record<string, string> = {},
): Uint8Array[] {
  const header: Record<string, unknown> = {}
  if (Object.keys(metadata).length) header.__metadata__ = metadata
  let offset = 0
  const parts: Uint8Array[] = []
  for (const [name, t] of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1)
    if (count !== t.data.length) throw new RangeError(`safetensors: ${name} has shape [${t.shape}] but ${t.data.length} values`)
    const bytes = bytesOf(t.data)
    header[name] = { dtype: dtypeOf(t.data), shape: t.shape, data_offsets: [offset, offset + bytes.length] }
    parts.push(bytes)
    offset += bytes.length
  }
  let json = JSON.stringify(header)
  json += ' '.repeat((8 - (json.length % 8)) % 8) // keeps the data 8-byte aligned
  const prefix = Buffer.alloc(8)
  const jsonBytes = Buffer.from(json, 'utf8')
  prefix.writeBigUInt64LE(BigInt(jsonBytes.length))
  return [asBytes(prefix), asBytes(jsonBytes), ...parts]
}

export async function writeSafetensors(
  file: string,
  tensors: Map<string, SafetensorsTensor> | Array<[string, SafetensorsTensor]>,
  metadata: Record<string, string> = {},
): Promise<void> {
  await writeFileAtomic(file, encodeSafetensors(tensors, metadata))
}

/** The largest header byol reads: the safetensors format's own limit. */
const MAX_HEADER = 100 * 1024 * 1024

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0

/**
 * Parses a safetensors buffer; tensors are copied into aligned typed arrays. The header is
 * checked as the format specifies (a JSON object of string metadata and tensors whose offsets
 * tile the data exactly), so a damaged file fails naming the entry and what is wrong with it.
 */
export function decodeSafetensors(buf: Uint8Array, name = 'safetensors data'): SafetensorsFile {
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  if (view.length < 8) throw new Error(`${name}: too short for a safetensors file`)
  const headerLength = view.readBigUInt64LE(0)
  if (headerLength > BigInt(Math.min(MAX_HEADER, view.length - 8))) {
    throw new Error(`${name}: not a safetensors file (header length ${headerLength} past the end or above 100 MiB)`)
  }
  const base = 8 + Number(headerLength)
  let header: unknown
  try {
    header = JSON.parse(view.toString('utf8', 8, base))
  } catch {
    throw new Error(`${name}: not a safetensors file (unreadable header)`)
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new Error(`${name}: not a safetensors file (the header is not a JSON object)`)
  }
  const tensors = new Map<string, SafetensorsTensor>()
  let metadata: Record<string, string> = {}
  const spans: Array<[number, number, string]> = []
  for (const [key, value] of Object.entries(header as Record<string, unknown>)) {
    if (key === '__metadata__') {
      metadata = checkMetadata(value, name)
      continue
    }
    const info = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown }
    const bad = (what: string) => new Error(`${name}: ${key} ${what}`)
    if (typeof info !== 'object' || info === null) throw bad('is not a tensor entry')
    const dtype = DTYPES.find(([n]) => n === info.dtype)
    if (!dtype) throw bad(`has dtype ${String(info.dtype)}; byol reads ${DTYPES.map(([n]) => n).join(', ')}`)
    if (!Array.isArray(info.shape) || !info.shape.every(isCount)) throw bad(`has shape ${JSON.stringify(info.shape)}, not a list of sizes`)
    const offsets = info.data_offsets
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
      throw bad(`has data_offsets ${JSON.stringify(offsets)}, not [begin, end]`)
    }
    const shape = info.shape as number[]
    const [begin, end] = offsets as [number, number]
    const [, Ctor, size] = dtype
    const count = shape.reduce((a, b) => a * b, 1)
    if (end - begin !== count * size || base + end > view.length) {
      throw bad(`has data_offsets [${begin}, ${end}] that do not fit shape [${shape}] (truncated file?)`)
    }
    spans.push([begin, end, key])
    const data = new Ctor(count)
    bytesOf(data).set(view.subarray(base + begin, base + end))
    tensors.set(key, { data, shape })
  }
  checkTiling(spans, view.length - base, name)
  return { tensors, metadata }
}

function checkMetadata(value: unknown, name: string): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${name}: __metadata__ is not an object`)
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new Error(`${name}: __metadata__.${k} is not a string`)
  }
  return value as Record<string, string>
}

/** The tensors' byte ranges must cover the data without overlap or gap, as the format requires. */
function checkTiling(spans: Array<[number, number, string]>, dataLength: number, name: string): void {
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1])
  let at = 0
  for (const [begin, end, key] of spans) {
    if (begin < at) throw new Error(`${name}: ${key} overlaps another tensor's data (data_offsets [${begin}, ${end}])`)
    if (begin > at) throw new Error(`${name}: ${begin - at} bytes of data before ${key} belong to no tensor`)
    at = end
  }
  if (at !== dataLength) throw new Error(`${name}: ${dataLength - at} bytes after the last tensor belong to no tensor`)
}

export async function readSafetensors(file: string): Promise<SafetensorsFile> {
  return decodeSafetensors(asBytes(await fs.promises.readFile(file)), file)
}
