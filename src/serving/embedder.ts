// A micro-batching embedder for services: concurrent `embed` calls are decoded on libuv's pool
// (decode-pool.ts), gathered in arrival order into batches of at most `maxBatchSize` (waiting at
// most `maxDelayMs` for more), and each batch runs as one forward pass on the native compute
// thread. One batch is in flight at a time; the next one gathers meanwhile, so batches grow with
// the load.
import { modelHandle } from '../model/byol-handle'
import type { Byol } from '../model/byol'
import { native } from '../model/addon'
import type { ImageInput } from './decode'
import { DecodePool } from './decode-pool'
import { EmbedderClosedError, OverloadError } from './errors'
import { loadServingModel, ModelSource } from './load'

export interface EmbedderOptions extends ModelSource {
  /** Most requests in one forward pass (default 32). */
  maxBatchSize?: number
  /** Longest a request waits for others to join its batch (default 5 ms). */
  maxDelayMs?: number
  /** Most requests waiting (decoding or queued, not yet computing); more fail with OverloadError (default 1024). */
  maxQueue?: number
  /** Images are resized to this square size (default: the size the model was trained at, else 32). */
  imageSize?: number
  /** L2-normalise every embedding (default false). */
  normalize?: boolean
  /** Worker threads that decode with sharp the images libjpeg-turbo does not take (JPEGs at the
   * model's size decode natively on libuv's pool either way; default 1). 0 calls sharp from the
   * calling thread: it still decodes on libuv's pool, but its per-call JavaScript then runs on
   * the event loop. */
  decodeThreads?: number
  /** Called after every batch: its size and how long its forward pass took. */
  onBatch?: (size: number, ms: number) => void
}

export interface EmbedderStats {
  /** Requests waiting (decoding or queued). */
  queued: number
  /** Requests in the batch being computed. */
  computing: number
  batches: number
  requests: number
}

export interface Embedder {
  /** The backbone embedding of one image (`dim` floats). */
  embed(input: ImageInput, options?: { signal?: AbortSignal }): Promise<Float32Array>
  /** Finishes every queued request, then refuses new ones. */
  close(): Promise<void>
  stats(): EmbedderStats
  readonly model: Byol
  readonly imageSize: number
  readonly device: string
}

interface Request {
  arrived: number
  pixels?: Uint8Array
  resolve: (v: Float32Array) => void
  reject: (e: unknown) => void
  signal?: AbortSignal
  onAbort?: () => void
  done: boolean
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`)
  return v
}

/** Loads the model (or takes `model`) and returns an embedder over it. */
export async function createEmbedder(options: EmbedderOptions): Promise<Embedder> {
  const maxBatchSize = positiveInteger(options.maxBatchSize, 32, 'maxBatchSize')
  const maxQueue = positiveInteger(options.maxQueue, 1024, 'maxQueue')
  const maxDelayMs = options.maxDelayMs ?? 5
  if (!(maxDelayMs >= 0)) throw new RangeError(`maxDelayMs must be >= 0, got ${options.maxDelayMs}`)
  const loaded = await loadServingModel(options)
  const imageSize = positiveInteger(options.imageSize ?? loaded.imageSize, 32, 'imageSize')
  const decodeThreads = options.decodeThreads ?? 1
  if (!Number.isInteger(decodeThreads) || decodeThreads < 0) throw new RangeError(`decodeThreads must be an integer >= 0, got ${options.decodeThreads}`)
  const decoder = new DecodePool(decodeThreads)
  return new MicroBatcher(loaded.model, imageSize, decoder, {
    maxBatchSize,
    maxDelayMs,
    maxQueue,
    normalize: options.normalize ?? false,
    onBatch: options.onBatch,
  })
}

class MicroBatcher implements Embedder {
  /** Accepted, not yet computing: in arrival order, decoded or still decoding. */
  private readonly queue: Request[] = []
  private computing = 0
  /** Batches whose results are still being handed out. */
  private delivering = 0
  /** The chain that hands batches over in order (see inOrder). */
  private deliveries: Promise<void> = Promise.resolve()
  private timer: NodeJS.Timeout | undefined
  private closed = false
  private drained: (() => void) | undefined
  private batches = 0
  private requests = 0

  constructor(
    readonly model: Byol,
    readonly imageSize: number,
    private readonly decoder: DecodePool,
    private readonly o: { maxBatchSize: number; maxDelayMs: number; maxQueue: number; normalize: boolean; onBatch?: (size: number, ms: number) => void },
  ) {}

  get device(): string {
    return this.model.device
  }

  stats(): EmbedderStats {
    return { queued: this.queue.length, computing: this.computing, batches: this.batches, requests: this.requests }
  }

  embed(input: ImageInput, options: { signal?: AbortSignal } = {}): Promise<Float32Array> {
    if (this.closed) return Promise.reject(new EmbedderClosedError())
    if (this.queue.length >= this.o.maxQueue) return Promise.reject(new OverloadError(this.o.maxQueue))
    const { signal } = options
    if (signal?.aborted) return Promise.reject(signal.reason)
    return new Promise<Float32Array>((resolve, reject) => {
      const request: Request = { arrived: performance.now(), resolve, reject, signal, done: false }
      this.queue.push(request)
      if (signal) {
        request.onAbort = () => this.fail(request, signal.reason)
        signal.addEventListener('abort', request.onAbort, { once: true })
      }
      this.decoder.decode(input, this.imageSize).then(
        (pixels) => {
          request.pixels = pixels
          this.schedule()
        },
        (e) => this.fail(request, e),
      )
    })
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.queue.length > 0 || this.computing > 0 || this.delivering > 0) await this.drain()
    await this.decoder.close()
  }

  private drain(): Promise<void> {
    return new Promise<void>((resolve) => {
      const previous = this.drained
      this.drained = () => {
        previous?.()
        resolve()
      }
      this.schedule()
    })
  }

  /** Settles a request that never reaches (or no longer waits for) a batch. */
  private fail(request: Request, error: unknown): void {
    if (request.done) return
    this.settle(request)
    const i = this.queue.indexOf(request)
    if (i >= 0) this.queue.splice(i, 1)
    request.reject(error)
    this.schedule()
  }

  private settle(request: Request): void {
    request.done = true
    if (request.onAbort) request.signal!.removeEventListener('abort', request.onAbort)
  }

  /** The decoded requests at the head of the queue: batches keep arrival order. */
  private readyCount(): number {
    let n = 0
    while (n < this.queue.length && n < this.o.maxBatchSize && this.queue[n].pixels) n++
    return n
  }

  private schedule(): void {
    if (this.computing > 0) return
    if (this.queue.length === 0) {
      this.clearTimer()
      if (this.drained && this.delivering === 0) {
        const drained = this.drained
        this.drained = undefined
        drained()
      }
      return
    }
    const ready = this.readyCount()
    if (ready === 0) return
    // Full batches, a draining embedder and requests that waited (also behind the previous batch)
    // go at once; others wait for company.
    const waited = performance.now() - this.queue[0].arrived
    if (ready >= this.o.maxBatchSize || this.closed || waited >= this.o.maxDelayMs) {
      this.run(ready)
      return
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined
      this.schedule()
    }, this.o.maxDelayMs - waited)
  }

  /** Resolves a batch's requests in order, one per event-loop turn: what each caller does with
   * its embedding (a service encodes a response) then never holds the loop for a whole batch. */
  private deliver(batch: Request[], values: Float32Array, dim: number): Promise<void> {
    return new Promise((delivered) => {
      const next = (i: number) => {
        const r = batch[i]
        if (!r.done) {
          this.settle(r)
          r.resolve(values.slice(i * dim, (i + 1) * dim))
        }
        if (i + 1 < batch.length) setImmediate(next, i + 1)
        else delivered()
      }
      next(0)
    })
  }

  /** Hands a batch's outcome over after every earlier batch's: the next batch computes while
   * one is being delivered, and its results must still come back after the earlier ones. */
  private inOrder(handOver: () => void | Promise<void>): void {
    this.delivering++
    this.deliveries = this.deliveries.then(handOver).then(() => {
      this.delivering--
      this.schedule()
    })
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
  }

  private run(count: number): void {
    this.clearTimer()
    const batch = this.queue.splice(0, count)
    const bytes = this.imageSize * this.imageSize * 3
    const data = new Uint8Array(batch.length * bytes)
    batch.forEach((r, i) => data.set(r.pixels!, i * bytes))
    this.computing = batch.length
    const started = performance.now()
    // A native call that throws at once (a disposed model) must fail the batch, not the queue.
    const computed = (async () =>
      native.byolEmbedImages(
        modelHandle(this.model),
        { data, shape: [batch.length, this.imageSize, this.imageSize, 3] },
        { batchSize: batch.length, normalize: this.o.normalize },
      ))()
    computed
      .then(
        (features) => this.inOrder(() => this.deliver(batch, features.data as Float32Array, features.shape[1])),
        (e) =>
          this.inOrder(() => {
            for (const r of batch) {
              if (r.done) continue
              this.settle(r)
              r.reject(e)
            }
          }),
      )
      .finally(() => {
        this.batches++
        this.requests += batch.length
        this.computing = 0
        this.o.onBatch?.(batch.length, performance.now() - started)
        this.schedule()
      })
  }
}
