// One image to RGB uint8 pixels with sharp (libvips, on libuv's thread pool). Apart from the
// folder loader so that a decoding worker thread (src/serving/decode-worker.ts) can use it
// without loading the native addon.
import fs = require('fs')
import { asBytes } from '../files/atomic-write'
import { sharp } from './sharp'

/** Decodes one image file (or encoded bytes) to RGB uint8 `[h, w, 3]`, resizing (cover + centre crop) when needed. */
export async function decodeImage(file: string | Uint8Array, h: number, w: number): Promise<Buffer> {
  // A file is read here rather than by libvips, so that one that cannot be read fails with its
  // errno (EACCES, ELOOP, EISDIR) instead of libvips' "unsupported image format".
  const bytes = typeof file === 'string' ? asBytes(await fs.promises.readFile(file)) : file
  if (bytes.length === 0) throw new Error(typeof file === 'string' ? 'the file is empty' : 'the image is empty (0 bytes)')
  const { data, info } = await sharp()(bytes, { failOn: 'warning' })
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true })
    .catch((e: Error) => {
      // libvips reports damaged data either as the decoder's error or, when the decoder only
      // warned (a truncated PNG, depending on where the data ends), as this: say what it means.
      const message = e.message.split('\n')[0]
      throw new Error(/Warning treated as error/.test(message) ? `the image data is damaged or truncated (${message})` : message)
    })
  if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`)
  if (info.width === w && info.height === h) return data
  return sharp()(asBytes(data), { raw: { width: info.width, height: info.height, channels: 3 } })
    .resize(w, h, { fit: 'cover' })
    .raw()
    .toBuffer()
}
