// The bad-input matrix, checkpoints and weights (RELIABILITY.md): a damaged, foreign or
// mismatched file is refused naming the file and the entry, and the run it was meant for is left
// as it was.
import test from 'ava'
import crypto = require('crypto')
import fs = require('fs')
import path = require('path')
import { CHECKPOINT_FILE, decodeSafetensors, encodeSafetensors, readSafetensors, train, TrainOptions, writeSafetensors } from '../src'
import { classImages, TINY_MODEL, tmpDir } from './data.fixtures'

const BASE: TrainOptions = { data: classImages(8, 16), testData: false, model: TINY_MODEL, batchSize: 4, epochs: 1, device: 'cpu', log: () => {} }

/** One finished run, shared by the tests (each copies what it damages). */
let trained: Promise<string> | undefined
const run = () => (trained ??= train({ ...BASE, runDir: path.join(tmpDir('ckpt'), 'run') }).then((r) => r.runDir!))

/** Every file of a folder with a hash of its bytes: what "left as it was" compares. */
function snapshot(dir: string): Record<string, string> {
  const hash = (f: string) =>
    crypto
      .createHash('sha256')
      .update(new Uint8Array(fs.readFileSync(path.join(dir, f))))
      .digest('hex')
  return Object.fromEntries(
    fs
      .readdirSync(dir)
      .sort()
      .map((f) => [f, hash(f)]),
  )
}

/** A copy of the run's checkpoint with its tensors and metadata passed through `edit`. */
async function editedCheckpoint(edit: (tensors: Map<string, { data: Float32Array | Float64Array | BigInt64Array; shape: number[] }>) => void) {
  const file = (await readSafetensors(path.join(await run(), CHECKPOINT_FILE))) as {
    tensors: Map<string, { data: Float32Array | Float64Array | BigInt64Array; shape: number[] }>
    metadata: Record<string, string>
  }
  edit(file.tensors)
  const out = path.join(tmpDir('ckpt-edit'), 'edited.safetensors')
  await writeSafetensors(out, file.tensors, file.metadata)
  return out
}

test('a truncated checkpoint is refused naming the file and the tensor; the run is left as it was', async (t) => {
  const dir = await run()
  const before = snapshot(dir)
  const bytes = fs.readFileSync(path.join(dir, CHECKPOINT_FILE))
  const cut = path.join(tmpDir('ckpt-cut'), 'cut.safetensors')
  fs.writeFileSync(cut, new Uint8Array(bytes.subarray(0, bytes.length - 1000)))
  await t.throwsAsync(train({ ...BASE, epochs: 2, resume: cut }), { message: /cut\.safetensors: .* has data_offsets .* \(truncated file\?\)/ })
  t.deepEqual(snapshot(dir), before)
})

test("another model's weights as init are refused naming the tensor and both shapes", async (t) => {
  const other = await train({ ...BASE, model: { ...TINY_MODEL, width: 16 }, runDir: path.join(tmpDir('ckpt-wide'), 'run') })
  await t.throwsAsync(train({ ...BASE, init: path.join(other.runDir!, 'backbone.safetensors') }), {
    message: /backbone\.safetensors: conv1\.weight has shape \[16,3,7,7\], the model \[8,3,7,7\]/,
  })
})

test('a checkpoint given as backbone weights says what it is', async (t) => {
  await t.throwsAsync(train({ ...BASE, init: path.join(await run(), CHECKPOINT_FILE) }), {
    message: /checkpoint\.safetensors is a byol checkpoint, not backbone weights: resume from it/,
  })
})

test('a resume with another configuration is refused naming every key that differs; the run is left as it was', async (t) => {
  const dir = await run()
  const before = snapshot(dir)
  const error = await t.throwsAsync(train({ ...BASE, epochs: 2, batchSize: 2, lr: 0.5, model: { ...TINY_MODEL, width: 16 }, runDir: dir, resume: true }))
  t.regex(error!.message, /^cannot resume .*checkpoint\.safetensors with another configuration \(checkpoint -> now\): /)
  t.regex(error!.message, /batchSize: 4 -> 2/)
  t.regex(error!.message, /lr: 0\.06 -> 0\.5/)
  t.regex(error!.message, /model\.width: 8 -> 16/)
  t.notRegex(error!.message, /epochs: /, 'more epochs are what a resume is for')
  t.notRegex(error!.message, /projectionHiddenDim/, 'options given again with the same value are fine')
  t.deepEqual(snapshot(dir), before)
})

test('a checkpoint tensor of the wrong dtype is refused naming it (float64 weights)', async (t) => {
  const file = await editedCheckpoint((tensors) => {
    const t0 = tensors.get('online/backbone.conv1.weight')!
    tensors.set('online/backbone.conv1.weight', { data: Float64Array.from(t0.data as Float32Array), shape: t0.shape })
  })
  await t.throwsAsync(train({ ...BASE, epochs: 2, resume: file }), {
    message: /edited\.safetensors: online\/backbone\.conv1\.weight holds Float64 values; a byol checkpoint stores Float32 there/,
  })
})

test('a checkpoint tensor of the wrong dtype is refused naming it (int64 weights, same byte size)', async (t) => {
  const file = await editedCheckpoint((tensors) => {
    const t0 = tensors.get('target/backbone.fc.weight') ?? tensors.get('target/backbone.conv1.weight')!
    tensors.set('target/backbone.conv1.weight', { data: BigInt64Array.from(t0.data as Float32Array, (v) => BigInt(Math.round(v))), shape: t0.shape })
  })
  await t.throwsAsync(train({ ...BASE, epochs: 2, resume: file }), { message: /target\/backbone\.conv1\.weight holds BigInt64 values/ })
})

// Safetensors headers: each damage is named. `file(header, data)` builds a file by hand.
function file(header: unknown, data = new Uint8Array(0), length?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header))
  const out = new Uint8Array(8 + json.length + data.length)
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(json.length), true)
  out.set(json, 8)
  out.set(data, 8 + json.length)
  return out
}
const f32 = (n: number, at = 0) => ({ dtype: 'F32', shape: [n], data_offsets: [at, at + 4 * n] })
const SAFETENSORS: Array<[string, Uint8Array, RegExp]> = [
  ['shorter than its length field', new Uint8Array(5), /too short for a safetensors file/],
  ['a header length past the end', file({}, new Uint8Array(0), 1000n), /header length 1000 past the end/],
  ['an oversized header length', file({}, new Uint8Array(0), 2n ** 60n), /header length 1152921504606846976 past the end or above 100 MiB/],
  ['a header that is not JSON', file('{"a": '), /unreadable header/],
  ['a header that is not an object', file([1, 2]), /the header is not a JSON object/],
  ['a tensor entry that is not an object', file({ a: 3 }), /a is not a tensor entry/],
  ['an unknown dtype', file({ a: { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }, new Uint8Array(4)), /a has dtype F16; byol reads F32/],
  ['a negative size in a shape', file({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 0] } }), /a has shape \[-1\], not a list of sizes/],
  [
    'offsets that are not a pair',
    file({ a: { dtype: 'F32', shape: [1], data_offsets: [4] } }, new Uint8Array(4)),
    /a has data_offsets \[4\], not \[begin, end\]/,
  ],
  [
    'offsets that do not fit the shape',
    file({ a: f32(4) }, new Uint8Array(8)),
    /a has data_offsets \[0, 16\] that do not fit shape \[4\] \(truncated file\?\)/,
  ],
  ['two tensors over the same bytes', file({ a: f32(2), b: f32(2) }, new Uint8Array(8)), /b overlaps another tensor's data/],
  ['bytes that belong to no tensor', file({ a: f32(1, 4) }, new Uint8Array(8)), /4 bytes of data before a belong to no tensor/],
  ['trailing bytes after the last tensor', file({ a: f32(1) }, new Uint8Array(12)), /8 bytes after the last tensor belong to no tensor/],
  ['metadata that is not strings', file({ __metadata__: { epochs: 3 } }), /__metadata__\.epochs is not a string/],
]
for (const [title, bytes, message] of SAFETENSORS) {
  test(`safetensors: ${title} is refused`, (t) => {
    t.throws(() => decodeSafetensors(bytes, 'damaged.safetensors'), { message: new RegExp(`^damaged\\.safetensors: .*${message.source}`) })
  })
}

test("safetensors: byol's own files and empty ones read back", (t) => {
  const parts = encodeSafetensors([['w', { data: Float32Array.from([1, 2]), shape: [2] }]], { note: 'x' })
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  parts.reduce((at, p) => (bytes.set(p, at), at + p.length), 0)
  const back = decodeSafetensors(bytes)
  t.deepEqual(Array.from(back.tensors.get('w')!.data as Float32Array), [1, 2])
  t.deepEqual(back.metadata, { note: 'x' })
  t.is(decodeSafetensors(file({})).tensors.size, 0)
})
