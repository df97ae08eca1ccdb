// A decoding thread of the embedder (decode-pool.ts). sharp does its pixel work on libuv's pool
// either way, but each call also spends a few hundred microseconds of JavaScript and option
// marshalling on the thread that calls it: here, not on the service's event loop.
import { parentPort } from 'worker_threads'
import { decodeInput, ImageInput } from './decode'
import { InvalidImageError } from './errors'

export interface DecodeRequest {
  id: number
  input: ImageInput
  size: number
}

export type DecodeReply = { id: number; pixels: Uint8Array } | { id: number; error: string; invalid: boolean }

parentPort!.on('message', ({ id, input, size }: DecodeRequest) => {
  decodeInput(input, size).then(
    (pixels) => parentPort!.postMessage({ id, pixels } satisfies DecodeReply, [pixels.buffer as ArrayBuffer]),
    (e: Error) => parentPort!.postMessage({ id, error: e.message, invalid: e instanceof InvalidImageError } satisfies DecodeReply),
  )
})
