// How the service turns an uploaded image into an embedding. `batch` is the one to deploy; the
// other two exist for the load test (bench/serve-load.ts), behind the same HTTP shape and with
// the embedder's own decoding (libjpeg-turbo for model-sized JPEGs, else sharp on a worker):
//   batch   byol's micro-batching embedder (createEmbedder)
//   single  one byol `embed()` call per request
//   onnx    onnxruntime-node running the exported ONNX backbone, one `run()` per request
import { createEmbedder, embed, OverloadError, setNumThreads } from '../../src'
import type { Byol } from '../../src'
import { DecodePool } from '../../src/serving/decode-pool'
import type { ModelSource } from '../../src/serving/load'

export type BackendName = 'batch' | 'single' | 'onnx'

export interface Backend {
  readonly name: BackendName
  readonly imageSize: number
  embed(image: Buffer | Uint8Array, signal?: AbortSignal): Promise<Float32Array>
  /** Requests waiting or computing. */
  depth(): number
  close(): Promise<void>
}

export interface BackendOptions extends ModelSource {
  backend?: BackendName
  /** The ONNX file (`byol export --format onnx`) for the `onnx` backend. */
  onnx?: string
  imageSize?: number
  /** Compute threads: byol's (setNumThreads, process-wide) or onnxruntime's intra-op threads. */
  threads?: number
  maxBatchSize?: number
  maxDelayMs?: number
  maxQueue?: number
  onBatch?: (size: number, ms: number) => void
}

export async function createBackend(o: BackendOptions): Promise<Backend> {
  const name = o.backend ?? 'batch'
  const maxQueue = o.maxQueue ?? 1024
  if (o.threads !== undefined && name !== 'onnx') setNumThreads(o.threads)
  if (name === 'batch') {
    const embedder = await createEmbedder({ ...o, maxQueue })
    return {
      name,
      imageSize: embedder.imageSize,
      embed: (image, signal) => embedder.embed(image, { signal }),
      depth: () => embedder.stats().queued + embedder.stats().computing,
      close: () => embedder.close(),
    }
  }
  const run = name === 'single' ? await singleCalls(o) : await onnxRuntime(o)
  const decoder = new DecodePool(1)
  let inFlight = 0
  return {
    name,
    imageSize: run.imageSize,
    async embed(image) {
      if (inFlight >= maxQueue) throw new OverloadError(maxQueue)
      inFlight++
      try {
        const pixels = await decoder.decode(image, run.imageSize)
        const started = performance.now()
        const out = await run.forward(pixels)
        o.onBatch?.(1, performance.now() - started)
        return out
      } finally {
        inFlight--
      }
    },
    depth: () => inFlight,
    async close() {
      while (inFlight > 0) await new Promise((r) => setTimeout(r, 5))
      await decoder.close()
    },
  }
}

interface Forward {
  imageSize: number
  forward(pixels: Uint8Array): Promise<Float32Array>
}

async function singleCalls(o: BackendOptions): Promise<Forward> {
  const { loadServingModel } = await import('../../src/serving/load')
  const { model, imageSize } = await loadServingModel(o)
  const size = o.imageSize ?? imageSize ?? 32
  return {
    imageSize: size,
    forward: async (pixels) => (await embed(model as Byol, { data: pixels, shape: [1, size, size, 3] })).data,
  }
}

async function onnxRuntime(o: BackendOptions): Promise<Forward> {
  if (!o.onnx) throw new Error('the onnx backend needs --onnx FILE (byol export --format onnx)')
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const ort = require('onnxruntime-node')
  const threads = o.threads === undefined ? {} : { intraOpNumThreads: o.threads, interOpNumThreads: 1 }
  const session = await ort.InferenceSession.create(o.onnx, threads)
  const size = o.imageSize ?? 32
  return {
    imageSize: size,
    forward: async (pixels) => {
      const out = await session.run({ images: new ort.Tensor('uint8', pixels, [1, size, size, 3]) })
      return out.embeddings.data as Float32Array
    },
  }
}
