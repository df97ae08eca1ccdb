// The readers of files byol did not necessarily write, fuzzed for a bounded number of seeded
// iterations: a safetensors file, a checkpoint and the decoded-image cache, each mutated (bit
// flips, overwritten runs, truncation, a rewritten length field) or replaced by random bytes.
// Every outcome must be a value or an Error naming the file; a crash ends the test process.
import test from 'ava'
import fs = require('fs')
import path = require('path')
import { CHECKPOINT_FILE, decodeSafetensors, loadCheckpoint, loadImageFolder, train } from '../src'
import { classImages, TINY_MODEL, tmpDir, writeImageFolder } from './data.fixtures'

/** A seeded generator (mulberry32), so that a failing iteration can be replayed. */
function random(seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** One mutation of `bytes`, chosen by `rand`; `headerEnd` focuses half of them on the header. */
function mutate(bytes: Uint8Array, rand: () => number, headerEnd: number): Uint8Array {
  const out = new Uint8Array(bytes)
  const at = (limit: number) => Math.floor(rand() * limit)
  const where = () => (rand() < 0.5 ? at(Math.min(headerEnd, out.length)) : at(out.length))
  switch (at(5)) {
    case 0: // flip bits
      for (let i = 0, n = 1 + at(8); i < n; i++) out[where()] ^= 1 << at(8)
      return out
    case 1: {
      // overwrite a run with random bytes
      const start = where()
      for (let i = start; i < Math.min(out.length, start + 1 + at(32)); i++) out[i] = at(256)
      return out
    }
    case 2: // truncate
      return out.subarray(0, where())
    case 3: {
      // rewrite the little-endian length field at the start
      new DataView(out.buffer).setUint32(rand() < 0.5 ? 0 : 8, at(2 ** 32), true)
      return out
    }
    default: {
      // random bytes of a similar size
      const noise = new Uint8Array(at(bytes.length * 2 + 16))
      for (let i = 0; i < noise.length; i++) noise[i] = at(256)
      return noise
    }
  }
}

const headerEnd = (bytes: Uint8Array) => 8 + Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true))

/** Runs `attempt` and allows only success or an Error whose message satisfies `named`. */
async function clean(t: import('ava').ExecutionContext, i: number, attempt: () => Promise<unknown> | unknown, named: RegExp) {
  try {
    await attempt()
  } catch (e) {
    t.true(e instanceof Error, `iteration ${i}: threw a non-Error ${String(e)}`)
    if (!named.test((e as Error).message)) t.fail(`iteration ${i}: ${(e as Error).message}`)
  }
}

let trained: Promise<string> | undefined
const run = () =>
  (trained ??= train({
    data: classImages(8, 16),
    testData: false,
    model: TINY_MODEL,
    batchSize: 4,
    epochs: 1,
    device: 'cpu',
    log: () => {},
    runDir: path.join(tmpDir('fuzz'), 'run'),
  }).then((r) => r.runDir!))

test('safetensors reader: 2000 mutated files and random bytes give a value or a named error', async (t) => {
  const original = new Uint8Array(fs.readFileSync(path.join(await run(), 'backbone.safetensors')))
  const rand = random(12345)
  let refused = 0
  for (let i = 0; i < 2000; i++) {
    const bytes = mutate(original, rand, headerEnd(original))
    await clean(t, i, () => decodeSafetensors(bytes, 'fuzzed.safetensors'), /^fuzzed\.safetensors: /)
    try {
      decodeSafetensors(bytes, 'fuzzed.safetensors')
    } catch {
      refused++
    }
  }
  t.true(refused > 1000, `most mutations must be caught, ${refused} were`)
})

test('checkpoint loading: 60 mutated checkpoints give a model or a named error', async (t) => {
  const file = path.join(await run(), CHECKPOINT_FILE)
  const original = new Uint8Array(fs.readFileSync(file))
  const dir = tmpDir('fuzz-ckpt')
  const rand = random(777)
  for (let i = 0; i < 60; i++) {
    const target = path.join(dir, `fuzzed-${i}.safetensors`)
    fs.writeFileSync(target, mutate(original, rand, headerEnd(original)))
    await clean(
      t,
      i,
      () => loadCheckpoint(target, { device: 'cpu' }),
      new RegExp(`fuzzed-${i}\\.safetensors|^Unexpected|JSON|checkpoint|shape|entries|must be`),
    )
  }
  t.pass()
})

test('decoded-image cache: 150 mutated caches are rebuilt or refused, never read as garbage shapes', async (t) => {
  const root = tmpDir('fuzz-images')
  await writeImageFolder(root, 6, 8, 2)
  const cacheDir = tmpDir('fuzz-cache')
  const first = await loadImageFolder(root, { imageSize: 8, cacheDir })
  const cacheFile = first.meta.cache!.file
  const original = new Uint8Array(fs.readFileSync(cacheFile))
  const jsonEnd = 44 + new DataView(original.buffer).getUint32(8, true)
  const rand = random(4242)
  for (let i = 0; i < 150; i++) {
    fs.writeFileSync(cacheFile, mutate(original, rand, jsonEnd))
    await clean(
      t,
      i,
      async () => {
        const ds = await loadImageFolder(root, { imageSize: 8, cacheDir })
        // Whatever was read must describe the folder: six 8x8 images, labelled by their class.
        if (ds.length !== 6 || ds.height !== 8 || ds.width !== 8) throw new Error(`iteration ${i}: read ${ds.length} images of ${ds.height}x${ds.width}`)
        t.deepEqual(Array.from(ds.labels!), [0, 0, 0, 1, 1, 1])
        await ds.gather([0, 5])
      },
      /^$/,
    )
  }
})
