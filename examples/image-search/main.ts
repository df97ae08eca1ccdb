// Starts the image-search service: `npm run example:image-search -- --run runs/photos` (see
// README.md). SIGTERM or SIGINT drains the queue, saves the index (with --index), and exits.
import fs = require('fs')
import { monitorEventLoopDelay } from 'perf_hooks'
import { parseArgs } from 'util'
import { SimilarityIndex } from '../../src'
import type { Device } from '../../src'
import type { BackendName } from './backends'
import { startService } from './server'

const USAGE = `usage: node dist/examples/image-search/main.js (--run DIR | --weights FILE) [options]
  --run DIR             a byol run directory        --weights FILE     backbone weights (byol export)
  --device DEV          auto, cpu, cuda:N (auto)    --port N           (8080; 0 picks a free port)
  --host ADDR           (127.0.0.1)                 --index FILE       load the index from FILE, save it there on exit
  --max-batch-size N    (32)                        --max-delay-ms N   (5)
  --max-queue N         (1024)                      --max-body-bytes N (8388608)
  --image-size N        (the run's, else 32)        --threads N        compute threads (byol's and onnxruntime's; default: theirs)
  --backend B           batch (default) | single (one embed() per request) | onnx (with --onnx FILE)`

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: Object.fromEntries(
      [
        'run',
        'weights',
        'device',
        'port',
        'host',
        'index',
        'threads',
        'max-batch-size',
        'max-delay-ms',
        'max-queue',
        'max-body-bytes',
        'image-size',
        'backend',
        'onnx',
      ].map((k) => [k, { type: 'string' as const }]),
    ),
  })
  const int = (name: string) => (v[name] === undefined ? undefined : Number(v[name]))
  const indexFile = v.index as string | undefined
  const index = indexFile && fs.existsSync(indexFile) ? await SimilarityIndex.load(indexFile) : undefined
  const lag = monitorEventLoopDelay({ resolution: 1 })
  lag.enable()
  const service = await startService({
    run: v.run as string | undefined,
    weights: v.weights as string | undefined,
    device: (v.device ?? 'auto') as Device,
    backend: (v.backend ?? 'batch') as BackendName,
    onnx: v.onnx as string | undefined,
    port: int('port') ?? 8080,
    host: v.host as string | undefined,
    imageSize: int('image-size'),
    maxBatchSize: int('max-batch-size'),
    maxDelayMs: int('max-delay-ms'),
    maxQueue: int('max-queue'),
    maxBodyBytes: int('max-body-bytes'),
    threads: int('threads'),
    index,
  })
  process.stderr.write(`image-search (${service.backend.name}, ${service.backend.imageSize}px) listening on ${service.url}\n`)
  // A parent that forked this process (bench/serve-load.ts) learns the address and can read
  // the event loop's delay over IPC, without an HTTP route for it.
  process.send?.({ ready: service.url })
  process.on('message', (m: { lag?: 'reset' | 'read' }) => {
    if (m.lag === 'reset') lag.reset()
    if (m.lag === 'read') process.send?.({ lag: { p50: lag.percentile(50) / 1e6, p99: lag.percentile(99) / 1e6, max: lag.max / 1e6 } })
  })
  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    process.stderr.write(`${signal}: draining\n`)
    await service.close()
    const finalIndex = service.index()
    if (indexFile && finalIndex) await finalIndex.save(indexFile)
    process.exit(0)
  }
  process.on('SIGTERM', () => void stop('SIGTERM'))
  process.on('SIGINT', () => void stop('SIGINT'))
}

main().catch((e: Error) => {
  process.stderr.write(`${e.message}\n${USAGE}\n`)
  process.exit(1)
})
