// The bad-input matrix, images and folder layouts (RELIABILITY.md): each unusual or broken file
// either loads as the RGB image it holds, or fails naming the file and the reason without writing
// a cache; `skipCorrupt` skips and lists every broken one.
import test from 'ava'
import { spawnSync } from 'child_process'
import fs = require('fs')
import path = require('path')
import zlib = require('zlib')
import { loadImageFolder, train } from '../src'
import { TINY_MODEL, tmpDir, writeImage, writeImageFolder, writeSplitFolder } from './data.fixtures'

// eslint-disable-next-line @typescript-eslint/no-var-requires
const sharp = require('sharp') as (
  input: Uint8Array,
  options: object,
) => {
  toColourspace(space: string): ReturnType<typeof sharp>
  jpeg(): { toFile(f: string): Promise<unknown>; toBuffer(): Promise<Buffer> }
  png(): { toFile(f: string): Promise<unknown> }
  webp(options: object): { toFile(f: string): Promise<unknown> }
}

const SIZE = 8
const solid = (w: number, h: number, rgb: number[]) => Uint8Array.from({ length: w * h * 3 }, (_, i) => rgb[i % 3])

/** A folder holding one good 8x8 grey image, `good.png`, next to which a case adds its file. */
async function folderWithGood(name: string): Promise<string> {
  const dir = tmpDir(`img-${name}`)
  await writeImage(path.join(dir, 'good.png'), solid(SIZE, SIZE, [100, 100, 100]), SIZE, SIZE)
  return dir
}

/** The last image of a loaded folder: its first pixel. */
async function lastPixel(dir: string): Promise<{ files: string[]; pixel: number[] }> {
  const ds = await loadImageFolder(dir, { imageSize: SIZE, cacheDir: false })
  const all = await ds.gather([...Array(ds.length).keys()])
  const at = (ds.length - 1) * SIZE * SIZE * 3
  return { files: ds.meta.files!, pixel: Array.from(all.data.subarray(at, at + 3)) }
}

/** Loading fails naming `file` and matching `reason`, with nothing written to the cache. */
async function refused(t: import('ava').ExecutionContext, dir: string, file: string, reason: RegExp) {
  const cache = tmpDir('img-cache')
  const error = await t.throwsAsync(loadImageFolder(dir, { imageSize: SIZE, cacheDir: cache }))
  t.true(error!.message.includes(file), error!.message)
  t.regex(error!.message, reason)
  t.regex(error!.message, /skipCorrupt/, 'says how to skip such files')
  t.deepEqual(fs.readdirSync(cache), [], 'no cache file, not even a partial one')
}

/** A PNG whose header claims `width` x `height` pixels, with almost no pixel data behind it. */
function pngHeaderOnly(width: number, height: number): Uint8Array {
  const u32 = (v: number) => Uint8Array.from([v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255])
  const chunk = (type: string, data: Uint8Array) => {
    const body = cat(
      Uint8Array.from(type, (c) => c.charCodeAt(0)),
      data,
    )
    return cat(u32(data.length), body, u32(crc32(body)))
  }
  const ihdr = cat(u32(width), u32(height), Uint8Array.from([8, 2, 0, 0, 0])) // 8-bit RGB
  const signature = Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10])
  const idat = new Uint8Array(zlib.deflateSync(new Uint8Array(64)))
  return cat(signature, chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0)))
}

function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0)
  return out
}

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff
  for (const b of bytes) {
    c ^= b
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  }
  return (c ^ 0xffffffff) >>> 0
}

test('a zero-byte file is refused by name', async (t) => {
  const dir = await folderWithGood('zero')
  fs.writeFileSync(path.join(dir, 'empty.jpg'), '')
  await refused(t, dir, 'empty.jpg', /the file is empty/)
})

test('a truncated JPEG is refused by name', async (t) => {
  const dir = await folderWithGood('truncjpg')
  const jpeg = await sharp(solid(32, 32, [120, 60, 30]), { raw: { width: 32, height: 32, channels: 3 } })
    .jpeg()
    .toBuffer()
  fs.writeFileSync(path.join(dir, 'cut.jpg'), new Uint8Array(jpeg.subarray(0, jpeg.length >> 1)))
  await refused(t, dir, 'cut.jpg', /premature end of JPEG/)
})

test('a truncated PNG is refused by name', async (t) => {
  const dir = await folderWithGood('truncpng')
  const good = fs.readFileSync(path.join(dir, 'good.png'))
  fs.writeFileSync(path.join(dir, 'cut.png'), new Uint8Array(good.subarray(0, good.length - 20)))
  await refused(t, dir, 'cut.png', /libpng read error|the image data is damaged or truncated/)
})

test('text named .jpg is refused by name', async (t) => {
  const dir = await folderWithGood('text')
  fs.writeFileSync(path.join(dir, 'notes.jpg'), 'this is not an image\n')
  await refused(t, dir, 'notes.jpg', /unsupported image format/)
})

test('a CMYK JPEG is converted to RGB', async (t) => {
  const dir = await folderWithGood('cmyk')
  await sharp(solid(SIZE, SIZE, [255, 0, 0]), { raw: { width: SIZE, height: SIZE, channels: 3 } })
    .toColourspace('cmyk')
    .jpeg()
    .toFile(path.join(dir, 'zz-cmyk.jpg'))
  const { files, pixel } = await lastPixel(dir)
  t.deepEqual(files, ['good.png', 'zz-cmyk.jpg'])
  t.true(pixel[0] > 200 && pixel[1] < 40 && pixel[2] < 40, `red stays red: ${pixel}`)
})

test('a 16-bit PNG becomes 8-bit RGB', async (t) => {
  const dir = await folderWithGood('png16')
  await sharp(solid(SIZE, SIZE, [200, 100, 50]), { raw: { width: SIZE, height: SIZE, channels: 3 } })
    .toColourspace('rgb16')
    .png()
    .toFile(path.join(dir, 'zz-deep.png'))
  t.deepEqual((await lastPixel(dir)).pixel, [200, 100, 50])
})

test('grey with alpha becomes RGB, alpha dropped', async (t) => {
  const dir = await folderWithGood('greyalpha')
  const ga = Uint8Array.from({ length: SIZE * SIZE * 2 }, (_, i) => (i % 2 ? 40 : 90))
  await writeImage(path.join(dir, 'zz-ga.png'), ga, SIZE, SIZE, 2)
  t.deepEqual((await lastPixel(dir)).pixel, [90, 90, 90])
})

test('a 1x1 image is resized to the storage size', async (t) => {
  const dir = await folderWithGood('onepx')
  await writeImage(path.join(dir, 'zz-dot.png'), Uint8Array.from([10, 200, 30]), 1, 1)
  t.deepEqual((await lastPixel(dir)).pixel, [10, 200, 30])
})

test('dimensions above the pixel limit are refused by name, before any pixel is decoded', async (t) => {
  const dir = await folderWithGood('huge')
  fs.writeFileSync(path.join(dir, 'huge.png'), pngHeaderOnly(30000, 30000))
  await refused(t, dir, 'huge.png', /exceeds pixel limit/)
})

test('an animated WebP loads as its first frame', async (t) => {
  const dir = await folderWithGood('anim')
  const frames = Uint8Array.from([...solid(SIZE, SIZE, [250, 250, 250]), ...solid(SIZE, SIZE, [5, 5, 5])])
  await sharp(frames, { raw: { width: SIZE, height: 2 * SIZE, channels: 3 } })
    .webp({ loop: 0, pageHeight: SIZE, lossless: true })
    .toFile(path.join(dir, 'zz-anim.webp'))
  t.deepEqual((await lastPixel(dir)).pixel, [250, 250, 250])
})

test('extensions match case-insensitively', async (t) => {
  const dir = await folderWithGood('case')
  await writeImage(path.join(dir, 'shout.PNG'), solid(SIZE, SIZE, [60, 70, 80]), SIZE, SIZE)
  await writeImage(path.join(dir, 'zz.JpEg'), solid(SIZE, SIZE, [60, 70, 80]), SIZE, SIZE)
  t.deepEqual((await lastPixel(dir)).files, ['good.png', 'shout.PNG', 'zz.JpEg'])
})

test('a symlink loop is refused by name', async (t) => {
  const dir = await folderWithGood('loop')
  fs.symlinkSync(path.join(dir, 'b.jpg'), path.join(dir, 'a.jpg'))
  fs.symlinkSync(path.join(dir, 'a.jpg'), path.join(dir, 'b.jpg'))
  await refused(t, dir, 'a.jpg', /too many symbolic links/)
})

test('an unreadable file is refused by name (permissions)', async (t) => {
  const dir = await folderWithGood('perm')
  const file = path.join(dir, 'secret.png')
  fs.copyFileSync(path.join(dir, 'good.png'), file)
  fs.chmodSync(file, 0o000)
  fs.chmodSync(dir, 0o755)
  // Root reads any file, so as root the load runs in a child that drops to user `nobody` after
  // loading byol and libvips.
  const script = `
    const byol = require(${JSON.stringify(path.resolve(__dirname, '..', 'src'))})
    require('sharp')
    if (process.getuid() === 0) { process.setgid(65534); process.setuid(65534) }
    byol.loadImageFolder(${JSON.stringify(dir)}, { imageSize: 8, cacheDir: false })
      .then(() => console.log('loaded'), (e) => console.log('error: ' + e.message))`
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', cwd: path.resolve(__dirname, '..', '..') })
  t.regex(r.stdout, /^error: cannot decode .*secret\.png: EACCES: permission denied/, r.stdout + r.stderr)
})

test('a non-UTF-8 file name is refused with the name escaped, or skipped', async (t) => {
  const dir = await folderWithGood('utf8')
  const utf8 = (s: string) => new TextEncoder().encode(s)
  const raw = Buffer.from(cat(utf8(`${dir}/bad`), Uint8Array.from([0xff, 0xfe]), utf8('.png')))
  fs.copyFileSync(path.join(dir, 'good.png'), raw)
  await refused(t, dir, 'bad\\xff\\xfe.png', /not valid UTF-8/)
  const ds = await loadImageFolder(dir, { imageSize: SIZE, cacheDir: false, skipCorrupt: true })
  t.deepEqual(ds.meta.files, ['good.png'])
  t.deepEqual(
    ds.meta.skipped!.map((s) => s.file),
    ['bad\\xff\\xfe.png'],
  )
})

test('a folder named like an image is a folder: walked, never decoded', async (t) => {
  const dir = tmpDir('img-dirjpg')
  await writeImage(path.join(dir, 'album.jpg', 'inside.png'), solid(SIZE, SIZE, [1, 2, 3]), SIZE, SIZE)
  fs.mkdirSync(path.join(dir, 'empty.png'))
  const ds = await loadImageFolder(dir, { imageSize: SIZE, cacheDir: false, layout: 'flat' })
  t.deepEqual(ds.meta.files, ['album.jpg/inside.png'])
})

test('skipCorrupt skips every broken file above and lists it with its reason', async (t) => {
  const dir = await folderWithGood('all')
  fs.writeFileSync(path.join(dir, 'empty.jpg'), '')
  fs.writeFileSync(path.join(dir, 'notes.jpg'), 'text')
  fs.writeFileSync(path.join(dir, 'huge.png'), pngHeaderOnly(30000, 30000))
  fs.symlinkSync(path.join(dir, 'b.jpg'), path.join(dir, 'a.jpg'))
  fs.symlinkSync(path.join(dir, 'a.jpg'), path.join(dir, 'b.jpg'))
  const cache = tmpDir('img-cache')
  const ds = await loadImageFolder(dir, { imageSize: SIZE, cacheDir: cache, skipCorrupt: true })
  t.deepEqual(ds.meta.files, ['good.png'])
  const skipped = Object.fromEntries(ds.meta.skipped!.map((s) => [s.file, s.error]))
  t.deepEqual(Object.keys(skipped).sort(), ['a.jpg', 'b.jpg', 'empty.jpg', 'huge.png', 'notes.jpg'])
  t.regex(skipped['huge.png'], /pixel limit/)
  t.regex(skipped['a.jpg'], /symbolic links/)
  // The cache remembers what was skipped.
  const again = await loadImageFolder(dir, { imageSize: SIZE, cacheDir: cache, skipCorrupt: true })
  t.false(again.meta.cache!.built)
  t.deepEqual(again.meta.skipped, ds.meta.skipped)
})

// Layouts

test('an empty class folder is refused by name', async (t) => {
  const dir = tmpDir('layout-empty')
  await writeImageFolder(dir, 4, SIZE, 2)
  fs.mkdirSync(path.join(dir, 'class9'))
  await t.throwsAsync(loadImageFolder(dir, { cacheDir: false }), { message: /class folder .*class9 has no images/ })
})

test('a single class folder loads, labelled 0', async (t) => {
  const dir = tmpDir('layout-single')
  await writeImageFolder(dir, 3, SIZE, 1)
  const ds = await loadImageFolder(dir, { imageSize: SIZE, cacheDir: false })
  t.deepEqual(ds.classes, ['class0'])
  t.deepEqual(Array.from(ds.labels!), [0, 0, 0])
})

test('test classes missing from train are refused, naming both lists', async (t) => {
  const root = await writeSplitFolder(tmpDir('layout-split'), 8, 4, SIZE, 2)
  fs.renameSync(path.join(root, 'test', 'class1'), path.join(root, 'test', 'class7'))
  await t.throwsAsync(train({ data: root, model: TINY_MODEL, imageSize: SIZE, batchSize: 4, epochs: 1, device: 'cpu', cacheDir: false }), {
    message: 'train and test classes differ: [class0, class1] vs [class0, class7]',
  })
})
