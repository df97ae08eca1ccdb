// How the embedder decodes. A JPEG already at the model's size (thumbnails, CIFAR-sized uploads)
// decodes natively on libuv's pool with libjpeg-turbo: about 10 us against about 1 ms of CPU for
// sharp's per-call pipeline at 32x32, with the same pixels. Anything else goes to worker threads
// running sharp, so that the event loop only hands bytes over (decode-worker.ts says why).
// Workers are unref'd: a forgotten embedder never keeps a process alive.
import path = require('path')
import { Worker } from 'worker_threads'
import { decodeJpegNatively } from '../data/native-jpeg'
import { decodeInput, ImageInput, isRaw } from './decode'
import type { DecodeReply, DecodeRequest } from './decode-worker'
import { InvalidImageError } from './errors'

interface Pending {
  resolve: (pixels: Uint8Array) => void
  reject: (e: Error) => void
  worker: number
}

export class DecodePool {
  private workers: Worker[] = []
  private load: number[] = []
  private readonly pending = new Map<number, Pending>()
  private next = 0

  /** `threads` workers, started on the first image that needs one. */
  constructor(private readonly threads: number) {}

  private start(): void {
    const file = path.join(__dirname, 'decode-worker.js')
    this.workers = Array.from({ length: this.threads }, () => {
      const w = new Worker(file)
      w.unref()
      w.on('message', (reply: DecodeReply) => this.settle(reply))
      w.on('error', (e) => this.failAll(e))
      return w
    })
    this.load = this.workers.map(() => 0)
  }

  /** An image's RGB pixels at `size` x `size`: JPEGs of that size natively, the rest with sharp. */
  async decode(input: ImageInput, size: number): Promise<Uint8Array> {
    const fast = input instanceof Uint8Array ? await decodeJpegNatively(input, size, size) : undefined
    return fast ?? this.decodeWithSharp(input, size)
  }

  /** On a worker; raw pixels already at `size` need no decoding and stay on this thread. */
  private decodeWithSharp(input: ImageInput, size: number): Promise<Uint8Array> {
    const raw = isRaw(input)
    if (this.threads === 0 || (raw && input.shape[0] === size && input.shape[1] === size)) return decodeInput(input, size)
    if (this.workers.length === 0) this.start()
    const id = this.next++
    // The least busy worker; a copy of the bytes travels, since a caller's Buffer may share
    // its memory with others (Node pools small Buffers).
    const worker = this.load.indexOf(Math.min(...this.load))
    const message: DecodeRequest = {
      id,
      input: raw ? { data: input.data.slice(), shape: [...input.shape] } : typeof input === 'string' ? input : new Uint8Array(input),
      size,
    }
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker })
      this.load[worker]++
      const bytes = typeof message.input === 'string' ? [] : [(message.input instanceof Uint8Array ? message.input : message.input.data).buffer as ArrayBuffer]
      this.workers[worker].postMessage(message, bytes)
    })
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()))
    this.failAll(new Error('decode pool closed'))
  }

  private settle(reply: DecodeReply): void {
    const p = this.pending.get(reply.id)
    if (!p) return
    this.pending.delete(reply.id)
    this.load[p.worker]--
    if ('pixels' in reply) p.resolve(reply.pixels)
    else p.reject(reply.invalid ? new InvalidImageError(reply.error) : new Error(reply.error))
  }

  private failAll(e: Error): void {
    for (const [id, p] of this.pending) {
      this.pending.delete(id)
      p.reject(e)
    }
  }
}
