// The micro-batching embedder (src/serving/embedder.ts): batches, order, isolation of bad images,
// aborts, overload and draining, against byol's one-call `embed` on the same images.
import test from 'ava'
import path = require('path')
import { Byol, createEmbedder, embed, EmbedderClosedError, exportBackbone, InvalidImageError, OverloadError } from '../src'
import { classImages, tmpDir, TINY_MODEL, writeImage } from './data.fixtures'

const SIZE = 16
const N = 50

const modelPromise = Byol.create({ ...TINY_MODEL, stem: 'cifar', seed: 3 })
const images = classImages(N, SIZE, 5, 7)
const pixels = (i: number) => images.data.subarray(i * SIZE * SIZE * 3, (i + 1) * SIZE * SIZE * 3)
const raw = (i: number) => ({ data: pixels(i), shape: [SIZE, SIZE, 3] })

/** Each image embedded alone, by `embed`. */
const singlesPromise = modelPromise.then(async (model) => {
  const out: Float32Array[] = []
  for (let i = 0; i < N; i++) out.push((await embed(model, { data: pixels(i), shape: [1, SIZE, SIZE, 3] })).data)
  return out
})

function maxDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity
  let d = 0
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]))
  return d
}

test('concurrent calls come back in request order, in batches of at most maxBatchSize, equal to unbatched embeddings', async (t) => {
  const model = await modelPromise
  const sizes: number[] = []
  // Only full batches go (the delay is never reached), however the machine schedules this test.
  const embedder = await createEmbedder({ model, imageSize: SIZE, maxBatchSize: 8, maxDelayMs: 60_000, onBatch: (n) => sizes.push(n) })
  const settled: number[] = []
  const results = await Promise.all(
    Array.from({ length: 48 }, (_, i) =>
      embedder.embed(raw(i)).then((v) => {
        settled.push(i)
        return v
      }),
    ),
  )
  t.deepEqual(
    settled,
    Array.from({ length: 48 }, (_, i) => i),
  )
  t.deepEqual(sizes, [8, 8, 8, 8, 8, 8])
  const singles = await singlesPromise
  const worst = Math.max(...results.map((r, i) => maxDiff(r, singles[i])))
  t.log(`batched vs unbatched: max |diff| ${worst.toExponential(2)}`)
  t.true(worst <= 1e-5, `max |diff| ${worst}`)
  t.deepEqual(embedder.stats(), { queued: 0, computing: 0, batches: 6, requests: 48 })
  // A lone request goes after maxDelayMs.
  const lone = await createEmbedder({ model, imageSize: SIZE, maxBatchSize: 8, maxDelayMs: 5 })
  t.true(maxDiff(await lone.embed(raw(48)), singles[48]) <= 1e-5)
  await lone.close()
  await embedder.close()
})

test('files, encoded buffers and raw pixels of other sizes are decoded and resized; order holds across them', async (t) => {
  const model = await modelPromise
  const dir = tmpDir('embedder')
  const big = classImages(1, 40, 5, 9)
  await writeImage(path.join(dir, 'a.png'), pixels(0), SIZE, SIZE)
  const sharp = require('sharp') as (i: Uint8Array, o: object) => { png(): { toBuffer(): Promise<Buffer> } }
  const png = await sharp(pixels(1), { raw: { width: SIZE, height: SIZE, channels: 3 } })
    .png()
    .toBuffer()
  const embedder = await createEmbedder({ model, imageSize: SIZE, maxBatchSize: 4, maxDelayMs: 20 })
  const settled: string[] = []
  const tag = (name: string) => (v: Float32Array) => {
    settled.push(name)
    return v
  }
  const [file, buffer, rawSame, rawBig] = await Promise.all([
    embedder.embed(path.join(dir, 'a.png')).then(tag('file')),
    embedder.embed(png).then(tag('buffer')),
    embedder.embed(raw(2)).then(tag('raw')),
    embedder.embed({ data: big.data, shape: [40, 40, 3] }).then(tag('big')),
  ])
  t.deepEqual(settled, ['file', 'buffer', 'raw', 'big'])
  const singles = await singlesPromise
  // PNG is lossless: a file or buffer of image i embeds as image i.
  t.true(maxDiff(file, singles[0]) <= 1e-5)
  t.true(maxDiff(buffer, singles[1]) <= 1e-5)
  t.true(maxDiff(rawSame, singles[2]) <= 1e-5)
  const resized = await embed(model, [await writeAndReturn(path.join(dir, 'big.png'), big.data, 40)], { imageSize: SIZE })
  t.true(maxDiff(rawBig, resized.data) <= 1e-5, 'raw pixels are resized as files are')
  await embedder.close()
})

async function writeAndReturn(file: string, data: Uint8Array, size: number): Promise<string> {
  await writeImage(file, data, size, size)
  return file
}

test('a bad image fails only its own request, with an InvalidImageError', async (t) => {
  const model = await modelPromise
  const embedder = await createEmbedder({ model, imageSize: SIZE, maxBatchSize: 8, maxDelayMs: 20 })
  const calls = [
    embedder.embed(raw(0)),
    embedder.embed(Buffer.from('this is not an image')),
    embedder.embed(raw(1)),
    embedder.embed({ data: new Uint8Array(10), shape: [2, 2, 3] }),
    embedder.embed('/no/such/image.png'),
    embedder.embed(raw(2)),
  ]
  const outcomes = await Promise.allSettled(calls)
  t.deepEqual(
    outcomes.map((o) => o.status),
    ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'rejected', 'fulfilled'],
  )
  for (const i of [1, 3, 4]) {
    const reason = (outcomes[i] as PromiseRejectedResult).reason
    t.true(reason instanceof InvalidImageError, String(reason))
  }
  t.regex(((outcomes[1] as PromiseRejectedResult).reason as Error).message, /cannot decode 20-byte image/)
  t.regex(((outcomes[3] as PromiseRejectedResult).reason as Error).message, /H\*W\*3 bytes/)
  const singles = await singlesPromise
  t.true(maxDiff((outcomes[5] as PromiseFulfilledResult<Float32Array>).value, singles[2]) <= 1e-5)
  await embedder.close()
})

test('an aborted queued request leaves the queue at once and rejects with the abort reason', async (t) => {
  const model = await modelPromise
  const sizes: number[] = []
  const embedder = await createEmbedder({ model, imageSize: SIZE, maxBatchSize: 4, maxDelayMs: 60_000, onBatch: (n) => sizes.push(n) })
  const controller = new AbortController()
  const calls = [0, 1, 2, 3, 4].map((i) => embedder.embed(raw(i), i === 2 ? { signal: controller.signal } : {}))
  t.is(embedder.stats().queued, 5)
  controller.abort()
  t.is(embedder.stats().queued, 4)
  const outcomes = await Promise.allSettled(calls)
  t.deepEqual(
    outcomes.map((o) => o.status),
    ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
  )
  t.is(((outcomes[2] as PromiseRejectedResult).reason as Error).name, 'AbortError')
  t.deepEqual(sizes, [4], 'the four others ran as one batch')
  const singles = await singlesPromise
  t.true(maxDiff((outcomes[3] as PromiseFulfilledResult<Float32Array>).value, singles[3]) <= 1e-5)
  const already = AbortSignal.abort()
  const reason = await embedder.embed(raw(0), { signal: already }).catch((e: Error) => e)
  t.is((reason as Error).name, 'AbortError')
  await embedder.close()
})

test('a full queue refuses at once with an OverloadError', async (t) => {
  const model = await modelPromise
  const embedder = await createEmbedder({ model, imageSize: SIZE, maxBatchSize: 2, maxDelayMs: 10, maxQueue: 3 })
  const accepted = [0, 1, 2].map((i) => embedder.embed(raw(i)))
  const refused = embedder.embed(raw(3))
  t.is(embedder.stats().queued, 3)
  const error = await t.throwsAsync(refused, { instanceOf: OverloadError })
  t.is(error!.code, 'BYOL_OVERLOAD')
  t.is((await Promise.all(accepted)).length, 3)
  // Room again once the queue drained.
  t.is((await embedder.embed(raw(3))).length, 64)
  await embedder.close()
})

test('close() finishes what is queued, then refuses new calls', async (t) => {
  const model = await modelPromise
  const embedder = await createEmbedder({ model, imageSize: SIZE, maxBatchSize: 3, maxDelayMs: 1000 })
  let done = 0
  const calls = Array.from({ length: 7 }, (_, i) => embedder.embed(raw(i)).then(() => done++))
  await embedder.close()
  t.is(done, 7, 'every queued request finished before close() resolved (without waiting maxDelayMs)')
  await Promise.all(calls)
  await t.throwsAsync(embedder.embed(raw(0)), { instanceOf: EmbedderClosedError })
  await embedder.close()
})

test('createEmbedder loads exported weights, and checks its options', async (t) => {
  const model = await modelPromise
  const file = path.join(tmpDir('embedder-weights'), 'backbone.safetensors')
  await exportBackbone(model, file)
  const embedder = await createEmbedder({ weights: file, device: 'cpu', imageSize: SIZE })
  t.is(embedder.device, 'cpu')
  t.true(maxDiff(await embedder.embed(raw(4)), (await singlesPromise)[4]) <= 1e-5)
  await embedder.close()
  await t.throwsAsync(createEmbedder({ model, maxBatchSize: 0 }), { instanceOf: RangeError })
  await t.throwsAsync(createEmbedder({ model, weights: file }), { message: /exactly one of run, weights or model/ })
})
