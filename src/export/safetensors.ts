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

/** Parses a safetensors buffer; tensors are copied into aligned typed arrays. */
export function decodeSafetensors(buf: Uint8Array, name = 'safetensors data'): SafetensorsFile {
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  if (view.length < 8) throw new Error(`${name}: too short for a safetensors file`)
  const headerLength = Number(view.readBigUInt64LE(0))
  if (8 + headerLength > view.length) throw new Error(`${name}: not a safetensors file (header length ${headerLength} past the end)`)
  let header: Record<string, unknown>
  try {
    header = JSON.parse(view.toString('utf8', 8, 8 + headerLength))
  } catch {
    throw new Error(`${name}: not a safetensors file (unreadable header)`)
  }
  const base = 8 + headerLength
  const tensors = new Map<string, SafetensorsTensor>()
  let metadata: Record<string, string> = {}
  for (const [key, value] of Object.entries(header)) {
    if (key === '__metadata__') {
      metadata = value as Record<string, string>
      continue
    }
    const info = value as { dtype: string; shape: number[]; data_offsets: [number, number] }
    const dtype = DTYPES.find(([n]) => n === info.dtype)
    if (!dtype) throw new Error(`${name}: ${key} has dtype ${info.dtype}; byol reads ${DTYPES.map(([n]) => n).join(', ')}`)
    const [, Ctor, size] = dtype
    const [begin, end] = info.data_offsets
    const count = info.shape.reduce((a, b) => a * b, 1)
    if (end - begin !== count * size || base + end > view.length) {
      throw new Error(`${name}: ${key} has data_offsets [${begin}, ${end}] that do not fit shape [${info.shape}] (truncated file?)`)
    }
    const data = new Ctor(count)
    bytesOf(data).set(view.subarray(base + begin, base + end))
    tensors.set(key, { data, shape: info.shape })
  }
  return { tensors, metadata }
}

export async function readSafetensors(file: string): Promise<SafetensorsFile> {
  return decodeSafetensors(asBytes(await fs.promises.readFile(file)), file)
}
