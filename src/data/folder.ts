// Image folders: the ImageFolder layout (`<root>/<class>/**/*.jpg|png|webp`, labelled by folder)
// and flat folders of unlabelled images. Images are decoded with sharp (on libuv's thread pool),
// converted to RGB, resized to one storage size, and cached as one uint8 file that later runs
// read natively; the cache is rebuilt when a file is added, removed or changed.
import crypto = require('crypto')
import fs = require('fs')
import os = require('os')
import path = require('path')
import { asBytes, removeStaleTemporaryFiles, writeFileAtomic } from '../files/atomic-write'
import { Dataset, fromFile, fromImages, SkippedImage } from './dataset'
import { decodeImage } from './decode-image'
import { decodeJpegFileNatively } from './native-jpeg'

export { decodeImage }

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp']

export interface FolderOptions {
  /** Storage size in pixels (square), or `[height, width]`. Images of another size are resized
   * (scaled to cover, then centre-cropped). Default 32. */
  imageSize?: number | [number, number]
  /** `auto` (default): class sub-folders make an ImageFolder, images directly in the folder a flat
   * unlabelled set. `flat` takes every image below the folder, unlabelled. */
  layout?: 'auto' | 'imagefolder' | 'flat'
  /** Where decoded-image caches live (default `$BYOL_CACHE_DIR` or `~/.cache/byol`); `false`: none. */
  cacheDir?: string | false
  /** Skip images that fail to decode (listed in `dataset.meta.skipped`) instead of failing. */
  skipCorrupt?: boolean
  /** Where the images are kept for training (`cpu`, `cuda:N`). Default `cpu`. */
  device?: string
  /** Called while decoding (not when the cache is used). */
  onProgress?: (done: number, total: number) => void
  /** Images decoded at once (default 16). */
  concurrency?: number
}

interface Listing {
  root: string
  layout: 'imagefolder' | 'flat'
  files: string[]
  labels?: number[]
  classes?: string[]
  /** Image files whose names are not valid UTF-8, escaped (`bad\\xff.png`): Node cannot open them by a string path. */
  unnamed: string[]
}

// Layout: magic, header length (u32), SHA-256 of the header, the header (JSON), pixels at a
// 64-byte boundary. The digest makes a damaged header a cache miss instead of wrong labels.
const CACHE_MAGIC = 'BYOLIMG2'
const CACHE_VERSION = 2
const PREFIX = 12 + 32

function isImage(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase())
}

/** A file name as bytes, with every byte that is not printable ASCII written `\\xNN`. */
function escapeName(name: Buffer): string {
  return Array.from(name, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('')
}

async function walk(dir: string, rel: string, out: string[], unnamed: string[]): Promise<void> {
  // Names are read as bytes: a name that is not valid UTF-8 would come back as replacement
  // characters, a path no file has.
  // (@types/node has no overload for this pair of options, which Node has supported since 10.)
  type RawEntry = Omit<fs.Dirent, 'name'> & { name: Buffer }
  const options = { withFileTypes: true, encoding: 'buffer' } as unknown as { withFileTypes: true }
  const entries = (await fs.promises.readdir(dir, options)) as unknown as RawEntry[]
  const named = entries.map((e) => ({ e, name: e.name.toString('utf8') }))
  named.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  for (const { e, name } of named) {
    if (name.startsWith('.')) continue
    const relative = rel ? `${rel}/${name}` : name
    if (!Buffer.from(name, 'utf8').equals(asBytes(e.name))) {
      if (isImage(name)) unnamed.push(rel ? `${rel}/${escapeName(e.name)}` : escapeName(e.name))
    } else if (e.isDirectory()) await walk(path.join(dir, name), relative, out, unnamed)
    else if ((e.isFile() || e.isSymbolicLink()) && isImage(name)) out.push(relative)
  }
}

/** Lists a folder's images and, for the ImageFolder layout, their classes. */
export async function listImageFolder(root: string, layout: FolderOptions['layout'] = 'auto'): Promise<Listing> {
  const abs = path.resolve(root)
  let stat: fs.Stats
  try {
    stat = await fs.promises.stat(abs)
  } catch {
    throw new Error(`data folder ${abs} does not exist`)
  }
  if (!stat.isDirectory()) throw new Error(`${abs} is not a folder (expected a folder of images)`)
  const entries = (await fs.promises.readdir(abs, { withFileTypes: true })).filter((e) => !e.name.startsWith('.'))
  const looseImages = entries.filter((e) => !e.isDirectory() && isImage(e.name)).map((e) => e.name)
  const dirs = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()
  const exts = IMAGE_EXTENSIONS.join(', ')
  if (layout === 'flat' || (layout === 'auto' && dirs.length === 0)) {
    const files: string[] = []
    const unnamed: string[] = []
    await walk(abs, '', files, unnamed)
    if (files.length + unnamed.length === 0) throw new Error(`no images (${exts}) found in ${abs}`)
    return { root: abs, layout: 'flat', files, unnamed }
  }
  if (layout === 'auto' && looseImages.length > 0) {
    throw new Error(
      `${abs} holds both images (${looseImages.slice(0, 3).join(', ')}${looseImages.length > 3 ? ', ...' : ''}) ` +
        `and sub-folders (${dirs.slice(0, 3).join(', ')}${dirs.length > 3 ? ', ...' : ''}); use layout 'flat' ` +
        `(every image, unlabelled) or move the loose images into class folders`,
    )
  }
  if (dirs.length === 0) throw new Error(`${abs} has no class sub-folders (ImageFolder layout: <root>/<class>/*.jpg)`)
  const files: string[] = []
  const labels: number[] = []
  const unnamed: string[] = []
  for (const [label, dir] of dirs.entries()) {
    const found: string[] = []
    const before = unnamed.length
    await walk(path.join(abs, dir), dir, found, unnamed)
    if (found.length + unnamed.length - before === 0) throw new Error(`class folder ${path.join(abs, dir)} has no images (${exts})`)
    for (const f of found) {
      files.push(f)
      labels.push(label)
    }
  }
  return { root: abs, layout: 'imagefolder', files, labels, classes: dirs, unnamed }
}

function storageSize(size: FolderOptions['imageSize']): [number, number] {
  const [h, w] = typeof size === 'number' ? [size, size] : (size ?? [32, 32])
  if (![h, w].every((d) => Number.isInteger(d) && d >= 1 && d <= 4096)) {
    throw new RangeError(`imageSize must be a positive integer or [height, width], got ${JSON.stringify(size)}`)
  }
  return [h, w]
}

export function defaultCacheDir(): string {
  return process.env.BYOL_CACHE_DIR || path.join(os.homedir(), '.cache', 'byol')
}

/** A fingerprint of the listing: names, sizes and modification times of every file. */
async function fingerprint(listing: Listing, size: [number, number]): Promise<string> {
  const hash = crypto.createHash('sha256')
  hash.update(JSON.stringify({ v: CACHE_VERSION, layout: listing.layout, size, classes: listing.classes ?? null }))
  // A link that cannot be followed (a loop, a missing target) counts by its own stat: decoding
  // names it, and fixing it changes the fingerprint.
  const stat = (f: string) => fs.promises.stat(f).catch(() => fs.promises.lstat(f))
  const stats = await mapLimit(listing.files, 64, (f) => stat(path.join(listing.root, f)))
  listing.files.forEach((f, i) => hash.update(`\n${f}\t${stats[i].size}\t${stats[i].mtimeMs}`))
  for (const f of listing.unnamed) hash.update(`\n${f}\tunnamed`)
  return hash.digest('hex')
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i], i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}

interface CacheHeader {
  version: number
  fingerprint: string
  root: string
  layout: string
  shape: [number, number, number, number]
  files: string[]
  labels?: number[]
  classes?: string[]
  skipped: SkippedImage[]
}

/** Reads a cache file's header, or undefined when there is none or it is unreadable or damaged. */
async function readCacheHeader(file: string): Promise<{ header: CacheHeader; dataOffset: number } | undefined> {
  let fd: fs.promises.FileHandle | undefined
  try {
    fd = await fs.promises.open(file, 'r')
    const { size } = await fd.stat()
    const head = Buffer.alloc(PREFIX)
    await fd.read(asBytes(head), 0, PREFIX, 0)
    if (head.toString('latin1', 0, 8) !== CACHE_MAGIC) return undefined
    const length = head.readUInt32LE(8)
    if (PREFIX + length > size) return undefined
    const json = Buffer.alloc(length)
    await fd.read(asBytes(json), 0, length, PREFIX)
    if (!sha256(json).equals(asBytes(head.subarray(12, PREFIX)))) return undefined
    const header = JSON.parse(json.toString('utf8')) as CacheHeader
    const dataOffset = align(PREFIX + length)
    if (!consistent(header) || size !== dataOffset + header.shape.reduce((a, b) => a * b, 1)) return undefined
    return { header, dataOffset }
  } catch {
    return undefined
  } finally {
    await fd?.close()
  }
}

/** A header whose fields agree with each other (a damaged one is rebuilt, never trusted). */
function consistent(h: CacheHeader): boolean {
  const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0
  if (!Array.isArray(h.shape) || h.shape.length !== 4 || !h.shape.every(count) || h.shape[3] !== 3) return false
  const n = h.shape[0]
  if (!Array.isArray(h.files) || h.files.length !== n || !Array.isArray(h.skipped)) return false
  if (h.labels === undefined) return h.classes === undefined
  return Array.isArray(h.labels) && h.labels.length === n && Array.isArray(h.classes) && h.labels.every((l) => count(l) && l < h.classes!.length)
}

const align = (n: number) => Math.ceil(n / 64) * 64
const sha256 = (bytes: Buffer) => crypto.createHash('sha256').update(asBytes(bytes)).digest()

/** Writes header + pixels to `file` atomically (a temporary file renamed into place). */
async function writeCache(file: string, header: CacheHeader, pixels: Uint8Array): Promise<void> {
  const json = Buffer.from(JSON.stringify(header), 'utf8')
  const prefix = Buffer.alloc(align(PREFIX + json.length))
  prefix.write(CACHE_MAGIC, 0, 'latin1')
  prefix.writeUInt32LE(json.length, 8)
  prefix.set(asBytes(sha256(json)), 12)
  prefix.set(asBytes(json), PREFIX)
  await writeFileAtomic(file, [asBytes(prefix), pixels])
}

/** One file's RGB pixels at `h` x `w`: a JPEG of that size with libjpeg-turbo, anything else (or a
 * JPEG it refuses, which sharp then names) with sharp. */
async function decodeFile(file: string, h: number, w: number): Promise<Uint8Array> {
  return (await decodeJpegFileNatively(file, h, w)) ?? asBytes(await decodeImage(file, h, w))
}

/** Decodes every image of a listing into one `[N, h, w, 3]` buffer (in listing order). */
async function decodeAll(
  listing: Listing,
  [h, w]: [number, number],
  options: FolderOptions,
): Promise<{ pixels: Uint8Array; files: string[]; labels?: number[]; skipped: SkippedImage[] }> {
  const n = listing.files.length
  const imageBytes = h * w * 3
  const pixels = new Uint8Array(n * imageBytes)
  const ok = new Uint8Array(n)
  const skipped: SkippedImage[] = []
  for (const name of listing.unnamed) {
    const reason = 'the file name is not valid UTF-8; rename it'
    if (!options.skipCorrupt) throw new Error(`cannot read ${path.join(listing.root, name)}: ${reason} (pass skipCorrupt / --skip-corrupt to skip such files)`)
    skipped.push({ file: name, error: reason })
  }
  let done = 0
  await mapLimit(listing.files, options.concurrency ?? 16, async (rel, i) => {
    const file = path.join(listing.root, rel)
    try {
      pixels.set(await decodeFile(file, h, w), i * imageBytes)
      ok[i] = 1
    } catch (e) {
      const message = (e as Error).message.split('\n')[0]
      if (!options.skipCorrupt) {
        throw new Error(`cannot decode ${file}: ${message} (pass skipCorrupt / --skip-corrupt to skip such files)`)
      }
      skipped.push({ file: rel, error: message })
    }
    done++
    if (options.onProgress && (done % 256 === 0 || done === n)) options.onProgress(done, n)
  })
  if (n > 0 && ok.every(Boolean)) return { pixels, files: listing.files, labels: listing.labels, skipped }
  // Compact the decoded images, keeping the listing order.
  const keep = listing.files.map((_, i) => i).filter((i) => ok[i])
  if (keep.length === 0)
    throw new Error(`none of the ${n + listing.unnamed.length} images in ${listing.root} could be decoded (first: ${skipped[0].file}: ${skipped[0].error})`)
  const packed = new Uint8Array(keep.length * imageBytes)
  keep.forEach((src, dst) => packed.set(pixels.subarray(src * imageBytes, (src + 1) * imageBytes), dst * imageBytes))
  skipped.sort((a, b) => (a.file < b.file ? -1 : 1))
  return {
    pixels: packed,
    files: keep.map((i) => listing.files[i]),
    labels: listing.labels && keep.map((i) => listing.labels![i]),
    skipped,
  }
}

/**
 * Loads an image folder as a dataset: from the cache when the folder has not changed since it
 * was decoded, otherwise by decoding every image (and writing the cache).
 */
export async function loadImageFolder(root: string, options: FolderOptions = {}): Promise<Dataset> {
  const size = storageSize(options.imageSize)
  const listing = await listImageFolder(root, options.layout)
  const print = await fingerprint(listing, size)
  const source = listing.root
  const cacheDir = options.cacheDir === undefined ? defaultCacheDir() : options.cacheDir
  const key = crypto
    .createHash('sha256')
    .update(JSON.stringify([listing.root, listing.layout, size, options.skipCorrupt ?? false]))
    .digest('hex')
    .slice(0, 20)
  const cacheFile = cacheDir ? path.join(cacheDir, `images-${key}.bin`) : undefined
  if (cacheFile) {
    const cached = await readCacheHeader(cacheFile)
    if (cached && cached.header.version === CACHE_VERSION && cached.header.fingerprint === print) {
      const h = cached.header
      return fromFile(
        cacheFile,
        cached.dataOffset,
        h.shape,
        h.labels,
        {
          classes: h.classes,
          files: h.files,
          root: h.root,
          source,
          skipped: h.skipped,
          cache: { file: cacheFile, built: false },
        },
        { device: options.device },
      )
    }
  }
  const decoded = await decodeAll(listing, size, options)
  const shape: [number, number, number, number] = [decoded.files.length, size[0], size[1], 3]
  const meta = { classes: listing.classes, files: decoded.files, root: listing.root, source, skipped: decoded.skipped }
  if (cacheFile) {
    const header: CacheHeader = {
      version: CACHE_VERSION,
      fingerprint: print,
      root: listing.root,
      layout: listing.layout,
      shape,
      files: decoded.files,
      labels: decoded.labels,
      classes: listing.classes,
      skipped: decoded.skipped,
    }
    await removeStaleTemporaryFiles(path.dirname(cacheFile))
    await writeCache(cacheFile, header, decoded.pixels).catch((e: Error) => {
      throw new Error(`${e.message} (the decoded-image cache; free space there, or pass cacheDir: false / --no-cache)`)
    })
  }
  const dataset = await fromImages({ data: decoded.pixels, shape, labels: decoded.labels, classes: listing.classes }, { device: options.device, source })
  Object.assign(dataset.meta, meta, cacheFile ? { cache: { file: cacheFile, built: true } } : {})
  return dataset
}

/** Decodes a list of image files (any sizes) to one uint8 `[N, h, w, 3]` batch. */
export async function decodeFiles(
  files: string[],
  options: { imageSize?: number | [number, number]; concurrency?: number } = {},
): Promise<{ data: Uint8Array; shape: [number, number, number, number] }> {
  const [h, w] = storageSize(options.imageSize)
  const data = new Uint8Array(files.length * h * w * 3)
  await mapLimit(files, options.concurrency ?? 16, async (file, i) => {
    try {
      data.set(await decodeFile(file, h, w), i * h * w * 3)
    } catch (e) {
      throw new Error(`cannot decode ${file}: ${(e as Error).message.split('\n')[0]}`)
    }
  })
  return { data, shape: [files.length, h, w, 3] }
}
