// The example service (examples/image-search) over real HTTP on loopback: embed, index, search,
// health, metrics, 400 / 413 / 503, the ONNX backend, and draining on SIGTERM in its own process.
import test from 'ava'
import { fork } from 'child_process'
import fs = require('fs')
import path = require('path')
import { Byol, embed, exportBackbone, exportOnnx } from '../src'
import { asBytes } from '../src/files/atomic-write'
import { startService } from '../examples/image-search/server'
import { classImages, tmpDir, TINY_MODEL } from './data.fixtures'

const SIZE = 16
const modelPromise = Byol.create({ ...TINY_MODEL, stem: 'cifar', seed: 8 })
const images = classImages(6, SIZE, 3, 4)
const pixels = (i: number) => images.data.subarray(i * SIZE * SIZE * 3, (i + 1) * SIZE * SIZE * 3)

const sharp = require('sharp') as (i: Uint8Array, o: object) => { png(): { toBuffer(): Promise<Buffer> } }
const png = async (i: number) =>
  asBytes(
    await sharp(pixels(i), { raw: { width: SIZE, height: SIZE, channels: 3 } })
      .png()
      .toBuffer(),
  )

const post = (url: string, body: Uint8Array | string, type = 'image/png') => fetch(url, { method: 'POST', body, headers: { 'content-type': type } })

test('embed, index and search over HTTP; healthz and Prometheus metrics', async (t) => {
  const model = await modelPromise
  const service = await startService({ model, imageSize: SIZE, maxBatchSize: 4, maxDelayMs: 2 })
  try {
    const health = await fetch(`${service.url}/healthz`)
    t.is(health.status, 200)
    t.deepEqual(await health.json(), { status: 'ok', backend: 'batch' })

    const r = await post(`${service.url}/embed`, await png(0))
    t.is(r.status, 200)
    const { dim, embedding } = (await r.json()) as { dim: number; embedding: number[] }
    const expected = await embed(model, { data: pixels(0), shape: [1, SIZE, SIZE, 3] })
    t.is(dim, 64)
    t.true(embedding.every((x, j) => Math.abs(x - expected.data[j]) <= 1e-5))

    for (const i of [0, 1, 2]) t.is((await post(`${service.url}/index?id=img${i}`, await png(i))).status, 200)
    const json = JSON.stringify({ images: await Promise.all([3, 4].map(async (i) => ({ id: `img${i}`, data: Buffer.from(await png(i)).toString('base64') }))) })
    const added = await post(`${service.url}/index`, json, 'application/json')
    t.deepEqual(await added.json(), { ids: ['img3', 'img4'], size: 5 })

    const search = await post(`${service.url}/search?k=3`, await png(3))
    t.is(search.status, 200)
    const { results } = (await search.json()) as { results: Array<{ id: string; score: number }> }
    t.is(results.length, 3)
    t.is(results[0].id, 'img3')
    t.true(Math.abs(results[0].score - 1) < 1e-5)
    t.true(results[0].score >= results[1].score && results[1].score >= results[2].score)

    const metrics = await (await fetch(`${service.url}/metrics`)).text()
    t.regex(metrics, /^byol_requests_total\{route="\/index",status="200"\} 4$/m)
    t.regex(metrics, /^byol_request_duration_seconds_count\{route="\/search"\} 1$/m)
    t.regex(metrics, /^byol_batch_size_bucket\{le="\+Inf"\} \d+$/m)
    t.regex(metrics, /^byol_queue_depth 0$/m)
    t.regex(metrics, /^byol_index_size 5$/m)
  } finally {
    await service.close()
  }
})

test('a bad image is a 400, a too-large body a 413, a full queue a 503; close() drains the queued request', async (t) => {
  const model = await modelPromise
  // One queued request fills the queue; it waits (maxDelayMs) for company that never comes.
  const service = await startService({ model, imageSize: SIZE, maxBatchSize: 2, maxDelayMs: 60_000, maxQueue: 1, maxBodyBytes: 4096 })
  const bad = await post(`${service.url}/embed`, 'not an image at all')
  t.is(bad.status, 400)
  t.regex(((await bad.json()) as { error: string }).error, /cannot decode/)
  const big = await post(`${service.url}/embed`, new Uint8Array(5000))
  t.is(big.status, 413)
  t.regex(((await big.json()) as { error: string }).error, /over the 4096-byte limit/)
  t.is((await post(`${service.url}/search?k=0`, await png(0))).status, 400)
  t.is((await fetch(`${service.url}/nowhere`)).status, 404)

  const queued = post(`${service.url}/embed`, await png(1))
  while (service.backend.depth() === 0) await new Promise((r) => setTimeout(r, 5))
  const overloaded = await post(`${service.url}/embed`, await png(2))
  t.is(overloaded.status, 503)
  t.regex(((await overloaded.json()) as { error: string }).error, /overloaded/)
  await service.close()
  t.is((await queued).status, 200, 'the queued request finished while draining')
})

// onnxruntime-node is a devDependency the GPU pack leaves out; there this test skips.
const hasOnnxRuntime = (() => {
  try {
    require.resolve('onnxruntime-node')
    return true
  } catch {
    return false
  }
})()

;(hasOnnxRuntime ? test : test.skip)('the onnx backend serves the exported model behind the same HTTP shape', async (t) => {
  const model = await modelPromise
  const file = path.join(tmpDir('serve-onnx'), 'backbone.onnx')
  await exportOnnx(model, file)
  const service = await startService({ model, backend: 'onnx', onnx: file, imageSize: SIZE })
  try {
    const r = await post(`${service.url}/embed`, await png(5))
    t.is(r.status, 200)
    const { embedding } = (await r.json()) as { embedding: number[] }
    const expected = await embed(model, { data: pixels(5), shape: [1, SIZE, SIZE, 3] })
    t.true(embedding.every((x, j) => Math.abs(x - expected.data[j]) <= 1e-4))
  } finally {
    await service.close()
  }
})

test('main.js: started from exported weights, on SIGTERM it finishes the queued request, saves the index and exits 0', async (t) => {
  const model = await modelPromise
  const dir = tmpDir('serve-main')
  const weights = path.join(dir, 'backbone.safetensors')
  const indexFile = path.join(dir, 'index.safetensors')
  await exportBackbone(model, weights)
  const main = path.resolve(__dirname, '..', 'examples', 'image-search', 'main.js')
  const child = fork(
    main,
    [
      '--weights',
      weights,
      '--device',
      'cpu',
      '--port',
      '0',
      '--image-size',
      String(SIZE),
      '--index',
      indexFile,
      '--max-batch-size',
      '2',
      '--max-delay-ms',
      '60000',
    ],
    { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] },
  )
  let stderr = ''
  child.stderr!.on('data', (c) => (stderr += c))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const url = await new Promise<string>((resolve, reject) => {
    child.on('message', (m: { ready?: string }) => m.ready && resolve(m.ready))
    void exited.then(() => reject(new Error(`main.js exited early: ${stderr}`)))
  })
  // Waits 60 s for a second image to batch with, unless the service drains.
  const indexed = post(`${url}/index?id=only`, await png(0))
  while (!/byol_queue_depth 1/.test(await (await fetch(`${url}/metrics`)).text())) await new Promise((r) => setTimeout(r, 10))
  child.kill('SIGTERM')
  const r = await indexed
  t.is(r.status, 200)
  t.deepEqual(await r.json(), { id: 'only', size: 1 })
  t.is(await exited, 0, stderr)
  t.regex(stderr, /SIGTERM: draining/)
  t.true(fs.existsSync(indexFile))
})
