// Load test of the example service (examples/image-search): requests/s and p50/p99 latency at
// 1, 16 and 64 concurrent clients (autocannon, loopback), and the service's event-loop p99 delay
// during each load, for three ways of embedding behind the same HTTP shape:
//   batch   byol's micro-batching embedder
//   single  one byol `embed()` call per request
//   onnx    onnxruntime-node running the exported ONNX model, one `run()` per request
// Usage: node dist/bench/serve-load.js [--seconds 6] [--clients 1,16,64] [--threads 1]
//          [--max-batch-size 32] [--backends batch,single,onnx] [--json FILE]
// --threads: compute threads of byol and of onnxruntime alike (default 1: on 2 cores, one core
// computes while the other runs the event loop, HTTP and decoding).
// Default model: byol's default (ResNet-18, imagenet stem, width 64) at 32x32 pixels, JPEG uploads.
import { fork } from 'child_process'
import fs = require('fs')
import os = require('os')
import path = require('path')
import { parseArgs } from 'util'
import { Byol, exportBackbone, exportOnnx, runtimeInfo } from '../src'
import { randomImages } from './synthetic'

// eslint-disable-next-line @typescript-eslint/no-var-requires
const autocannon = require('autocannon') as (o: object) => Promise<{
  requests: { average: number }
  latency: { p50: number; p99: number }
  '2xx': number
  non2xx: number
  errors: number
  timeouts: number
}>

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '6' },
    clients: { type: 'string', default: '1,16,64' },
    size: { type: 'string', default: '32' },
    threads: { type: 'string', default: '1' },
    backends: { type: 'string', default: 'batch,single,onnx' },
    'max-batch-size': { type: 'string', default: '32' },
    json: { type: 'string' },
  },
})
const SECONDS = Number(args.seconds)
const CLIENTS = args.clients!.split(',').map(Number)
const SIZE = Number(args.size)
const BACKENDS = args.backends!.split(',')

interface Row {
  backend: string
  clients: number
  rps: number
  p50: number
  p99: number
  loopP99: number
  ok: number
  failed: number
}

async function jpegs(n: number): Promise<Buffer[]> {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const encode = require('sharp') as (i: Uint8Array, o: object) => { jpeg(): { toBuffer(): Promise<Buffer> } }
  const pixels = randomImages(n, SIZE)
  const bytes = SIZE * SIZE * 3
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      encode(pixels.subarray(i * bytes, (i + 1) * bytes), { raw: { width: SIZE, height: SIZE, channels: 3 } })
        .jpeg()
        .toBuffer(),
    ),
  )
}

function startService(backend: string, weights: string, onnx: string) {
  const main = path.resolve(__dirname, '..', 'examples', 'image-search', 'main.js')
  const child = fork(
    main,
    [
      '--weights',
      weights,
      '--onnx',
      onnx,
      '--device',
      'cpu',
      '--backend',
      backend,
      '--port',
      '0',
      '--image-size',
      String(SIZE),
      '--max-queue',
      '100000',
      '--threads',
      args.threads!,
      '--max-batch-size',
      args['max-batch-size']!,
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      // Tiny images: one libvips thread per decode and a small libuv pool leave the cores to the
      // forward passes and the event loop (the same for all three configurations).
      env: { ...process.env, VIPS_CONCURRENCY: process.env.VIPS_CONCURRENCY ?? '1', UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? '2' },
    },
  )
  const ask = (lag: 'reset' | 'read') =>
    new Promise<{ p50: number; p99: number; max: number }>((resolve) => {
      if (lag === 'reset') {
        child.send({ lag })
        resolve({ p50: 0, p99: 0, max: 0 })
        return
      }
      child.once('message', (m: { lag: { p50: number; p99: number; max: number } }) => resolve(m.lag))
      child.send({ lag })
    })
  const ready = new Promise<string>((resolve, reject) => {
    child.once('message', (m: { ready?: string }) => (m.ready ? resolve(m.ready) : reject(new Error('unexpected message'))))
    child.once('exit', (code) => reject(new Error(`service exited with ${code}`)))
  })
  const stop = () =>
    new Promise<void>((resolve) => {
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    })
  return { ready, ask, stop }
}

async function load(url: string, clients: number, bodies: Buffer[], seconds: number) {
  return autocannon({
    url: `${url}/embed`,
    connections: clients,
    duration: seconds,
    // Bounded also by count, should a configuration be far faster than expected.
    maxOverallRequests: 200_000,
    timeout: 30,
    requests: bodies.map((body) => ({ method: 'POST', body, headers: { 'content-type': 'image/jpeg' } })),
  })
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'byol-serve-load-'))
  const model = await Byol.create({ seed: 0 })
  const weights = path.join(dir, 'backbone.safetensors')
  const onnx = path.join(dir, 'backbone.onnx')
  await exportBackbone(model, weights)
  await exportOnnx(model, onnx)
  const bodies = await jpegs(64)
  const info = runtimeInfo()
  process.stderr.write(
    `serve-load: ResNet-18 (imagenet stem, width 64), ${SIZE}x${SIZE} JPEG uploads, ${SECONDS} s per load, clients ${CLIENTS.join('/')}; ` +
      `${os.cpus().length} CPUs (${os.cpus()[0].model}), libtorch ${info.libtorch}, ${args.threads} compute threads, embedder maxBatchSize ${args['max-batch-size']}, BLAS ${info.blas.name}, load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}\n`,
  )
  const rows: Row[] = []
  for (const backend of BACKENDS) {
    const service = startService(backend, weights, onnx)
    const url = await service.ready
    await load(url, 4, bodies, 1) // warm-up: first allocations, oneDNN kernel choice
    for (const clients of CLIENTS) {
      await service.ask('reset')
      const r = await load(url, clients, bodies, SECONDS)
      const lag = await service.ask('read')
      const row = {
        backend,
        clients,
        rps: r.requests.average,
        p50: r.latency.p50,
        p99: r.latency.p99,
        loopP99: lag.p99,
        ok: r['2xx'],
        failed: r.non2xx + r.errors + r.timeouts,
      }
      rows.push(row)
      process.stderr.write(
        `  ${backend.padEnd(6)} ${String(clients).padStart(2)} clients: ${row.rps.toFixed(1)} req/s, p50 ${row.p50} ms, p99 ${row.p99} ms, event loop p99 ${row.loopP99.toFixed(2)} ms, ${row.ok} ok, ${row.failed} failed\n`,
      )
    }
    await service.stop()
  }
  const table = [
    '| configuration | clients | requests/s | p50 ms | p99 ms | event-loop p99 ms | failed |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.backend} | ${r.clients} | ${r.rps.toFixed(1)} | ${r.p50} | ${r.p99} | ${r.loopP99.toFixed(2)} | ${r.failed} |`),
  ].join('\n')
  process.stdout.write(`${table}\n`)
  const at = (b: string, c: number) => rows.find((r) => r.backend === b && r.clients === c)
  const top = Math.max(...CLIENTS)
  const [batch, single, ort] = [at('batch', top), at('single', top), at('onnx', top)]
  if (batch && single && ort) {
    process.stdout.write(
      `\nat ${top} clients: batch / single = ${(batch.rps / single.rps).toFixed(2)}x (target >= 5x); batch / onnx = ${(batch.rps / ort.rps).toFixed(2)}x ` +
        `at p99 ${batch.p99} vs ${ort.p99} ms (target >= 1x at equal or better p99); worst event-loop p99 of batch: ${Math.max(...rows.filter((r) => r.backend === 'batch').map((r) => r.loopP99)).toFixed(2)} ms (target <= 10 ms)\n`,
    )
  }
  if (args.json) fs.writeFileSync(args.json, JSON.stringify({ seconds: SECONDS, size: SIZE, rows, loadavg: os.loadavg() }, null, 2))
  fs.rmSync(dir, { recursive: true, force: true })
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
