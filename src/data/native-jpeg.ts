// JPEGs already at the wanted size decode with the system's libjpeg-turbo, on libuv's pool
// (crates/torch-sys/libtch/byol_jpeg.cpp): about 10 us of CPU for a 32x32 image against about
// 1 ms for sharp's per-call pipeline, and the same pixels. It only speeds up the common case:
// every other image, and any JPEG it cannot decode, goes to sharp, which then decodes it or says
// what is wrong with it (one wording for damaged files, wherever they come from).
import type * as Native from '../model/addon-api'

let native: typeof Native | undefined
let available: boolean | undefined

/** The RGB pixels `[h, w, 3]` of a plain JPEG of exactly `h` x `w`; undefined for anything else. */
export function decodeJpegNatively(bytes: Uint8Array, h: number, w: number): Promise<Uint8Array | undefined> {
  return isJpeg(bytes) ? attempt((addon) => addon.decodeJpeg(bytes, h, w)) : Promise.resolve(undefined)
}

/** A file whose name says JPEG, read and decoded natively when it is a plain one of `h` x `w`. */
export function decodeJpegFileNatively(file: string, h: number, w: number): Promise<Uint8Array | undefined> {
  return /\.jpe?g$/i.test(file) ? attempt((addon) => addon.decodeJpegFile(file, h, w)) : Promise.resolve(undefined)
}

async function attempt(decode: (addon: typeof Native) => Promise<Uint8Array | null>): Promise<Uint8Array | undefined> {
  if (available === undefined) {
    // Loaded here, not on import: listing a folder or parsing a command line needs no addon.
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    native = (require('../model/addon') as typeof import('../model/addon')).native
    available = native.jpegAvailable()
  }
  if (!available) return undefined
  try {
    return (await decode(native!)) ?? undefined
  } catch {
    return undefined
  }
}

/** JPEG's start-of-image marker followed by another marker. */
function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff
}
