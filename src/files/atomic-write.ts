// Small file-system helpers shared by the cache, checkpoints, exports and run directories.
import crypto = require('crypto')
import fs = require('fs')
import path = require('path')

/**
 * Writes `file` atomically: the bytes go to a temporary file in the same folder, which is
 * flushed to disk and renamed over `file`. A crash leaves the old file or the new one, never a
 * part of either.
 */
export async function writeFileAtomic(file: string, chunks: Array<Uint8Array | string>): Promise<void> {
  await fs.promises.mkdir(path.dirname(path.resolve(file)), { recursive: true })
  const tmp = `${file}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`
  try {
    const fd = await fs.promises.open(tmp, 'w')
    try {
      for (const c of chunks) await fd.write(typeof c === 'string' ? asBytes(Buffer.from(c, 'utf8')) : c)
      await fd.sync()
    } finally {
      await fd.close()
    }
    await fs.promises.rename(tmp, file)
  } catch (e) {
    await fs.promises.rm(tmp, { force: true })
    throw e
  }
}

/** A Buffer seen as a plain Uint8Array (the same memory). */
export function asBytes(buf: { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
}
