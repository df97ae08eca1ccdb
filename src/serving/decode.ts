// One request's image to uint8 RGB `[h, w, 3]` at the model's size. sharp runs its work on
// libuv's thread pool, so a service's event loop only hands buffers over.
import { asBytes } from '../files/atomic-write'
import { decodeImage } from '../data/decode-image'
import { sharp } from '../data/sharp'
import { InvalidImageError } from './errors'

/** Raw RGB pixels of one image, `[height, width, 3]`. */
export interface RawImage {
  data: Uint8Array
  shape: [number, number, number] | number[]
}

/** A file path, an encoded image (JPEG, PNG, WebP, ...), or raw uint8 RGB pixels. */
export type ImageInput = string | Buffer | Uint8Array | RawImage

export function isRaw(input: ImageInput): input is RawImage {
  return typeof input === 'object' && !(input instanceof Uint8Array) && input !== null && 'shape' in input
}

/** Decodes and resizes (cover, then centre crop) to `[size, size, 3]`; fails with InvalidImageError. */
export async function decodeInput(input: ImageInput, size: number): Promise<Uint8Array> {
  if (isRaw(input)) return rawPixels(input, size)
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) {
    throw new InvalidImageError('input must be a file path, an encoded image Buffer or { data: Uint8Array, shape: [H, W, 3] }')
  }
  if (input instanceof Uint8Array && input.length === 0) throw new InvalidImageError('empty image')
  try {
    return asBytes(await decodeImage(typeof input === 'string' ? input : asBytes(input), size, size))
  } catch (e) {
    const what = typeof input === 'string' ? input : `${input.length}-byte image`
    throw new InvalidImageError(`cannot decode ${what}: ${(e as Error).message.split('\n')[0]}`)
  }
}

async function rawPixels({ data, shape }: RawImage, size: number): Promise<Uint8Array> {
  const [h, w, c] = shape
  if (!(data instanceof Uint8Array) || shape.length !== 3 || c !== 3 || !(h >= 1 && w >= 1) || data.length !== h * w * 3) {
    throw new InvalidImageError(`raw pixels must be { data: Uint8Array, shape: [H, W, 3] } with H*W*3 bytes, got shape [${shape}] and ${data?.length} bytes`)
  }
  if (h === size && w === size) return data
  const resized = await sharp()(data, { raw: { width: w, height: h, channels: 3 } })
    .resize(size, size, { fit: 'cover' })
    .raw()
    .toBuffer()
  return asBytes(resized)
}
