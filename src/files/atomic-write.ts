// Small file-system helpers shared by the cache, checkpoints, exports and run directories.
import crypto = require('crypto')
import fs = require('fs')
import path = require('path')

/** Temporary files being written now: removed if the process is made to exit mid-write. */
const inFlight = new Set<string>()

/**
 * Writes `file` atomically: the bytes go to a temporary file in the same folder, which is
 * flushed to disk and renamed over `file`. A crash leaves the old file or the new one, never a
 * part of either; a failed write (a full disk) removes its temporary file and names `file`.
 */
export async function writeFileAtomic(file: string, chunks: Array<Uint8Array | string>): Promise<void> {
  await fs.promises.mkdir(path.dirname(path.resolve(file)), { recursive: true })
  const tmp = `${file}${TMP_MARK}${process.pid}-${crypto.randomBytes(4).toString('hex')}`
  inFlight.add(tmp)
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
    throw new Error(`cannot write ${file}: ${(e as Error).message}`)
  } finally {
    inFlight.delete(tmp)
  }
}

const TMP_MARK = '.tmp-'

/** Removes the temporary files of writes still running; for a process about to exit at once. */
export function removeTemporaryFiles(): void {
  for (const tmp of inFlight) fs.rmSync(tmp, { force: true })
  inFlight.clear()
}

/**
 * Removes temporary files in `dir` left by processes that died mid-write (SIGKILL, power loss).
 * Those of live processes are kept: another run may share a cache folder.
 */
export async function removeStaleTemporaryFiles(dir: string): Promise<void> {
  const names = await fs.promises.readdir(dir).catch(() => [] as string[])
  for (const name of names) {
    const match = /\.tmp-(\d+)-[0-9a-f]{8}$/.exec(name)
    if (match && !alive(Number(match[1]))) await fs.promises.rm(path.join(dir, name), { force: true })
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** A Buffer seen as a plain Uint8Array (the same memory). */
export function asBytes(buf: { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
}
