// Uploaded JPEGs at the model's size decode natively (libjpeg-turbo on libuv's pool,
// crates/torch-sys/libtch/byol_jpeg.cpp) to exactly the pixels sharp gives; everything else is
// left to sharp, and damaged data is an error.
import test from 'ava'
import { spawnSync } from 'child_process'
import fs = require('fs')
import path = require('path')
import { InvalidImageError } from '../src'
import { native } from '../src/model/addon'
import { decodeImage } from '../src/data/decode-image'
import { decodeFiles } from '../src/data/folder'
import { decodeInput } from '../src/serving/decode'
import { DecodePool } from '../src/serving/decode-pool'
import { classImages, tmpDir } from './data.fixtures'

// eslint-disable-next-line @typescript-eslint/no-var-requires
const sharp = require('sharp') as (input: Uint8Array, options?: object) => any

const available = native.jpegAvailable()
const CIFAR_ARCHIVE = path.resolve(__dirname, '..', '..', '..', 'shared', 'data', 'cifar10-jpg.tar.gz')

/** Images of `w` x `h` with some structure (classImages' blobs), 3 or 1 channels. */
function picture(w: number, h: number, channels: 1 | 3, seed: number): Uint8Array {
  const side = Math.max(w, h)
  const rgb = classImages(1, side, 2, seed).data
  const out = new Uint8Array(w * h * channels)
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < channels; c++) out[(y * w + x) * channels + c] = rgb[(y * side + x) * 3 + c]
  return out
}

function encode(w: number, h: number, channels: 1 | 3, jpeg: object, seed = 1): Promise<Buffer> {
  return sharp(picture(w, h, channels, seed), { raw: { width: w, height: h, channels } })
    .jpeg(jpeg)
    .toBuffer()
}

/** Some of CIFAR-10's own files (another encoder than sharp's), where the archive is at hand. */
function cifarFiles(): Buffer[] {
  if (!fs.existsSync(CIFAR_ARCHIVE)) return []
  const dir = tmpDir('jpeg-cifar')
  const tar = spawnSync('tar', ['-xzf', CIFAR_ARCHIVE, '-C', dir, '--wildcards', 'cifar10/test/*/000?.jpg'])
  if (tar.status !== 0) throw new Error(String(tar.stderr))
  const root = path.join(dir, 'cifar10', 'test')
  return fs.readdirSync(root).flatMap((c) => fs.readdirSync(path.join(root, c)).map((f) => fs.readFileSync(path.join(root, c, f))))
}

test('the shim has libjpeg wherever its headers are installed', (t) => {
  if (!fs.existsSync('/usr/include/jpeglib.h')) return t.pass('no jpeglib.h on this machine: sharp decodes every image')
  t.true(available, 'libjpeg-dev is installed but the shim was built without it: rebuild it (node scripts/install.js --force)')
  t.true(native.runtimeInfo().jpeg)
})

;(available ? test : test.skip)('model-sized JPEGs decode natively to exactly the pixels sharp gives', async (t) => {
  const cases: Array<[string, Buffer, number, number]> = [
    ['4:2:0 chroma (sharp default)', await encode(32, 32, 3, {}), 32, 32],
    ['4:4:4 chroma', await encode(32, 32, 3, { chromaSubsampling: '4:4:4' }), 32, 32],
    ['progressive', await encode(32, 32, 3, { progressive: true }), 32, 32],
    ['quality 100', await encode(32, 32, 3, { quality: 100 }, 2), 32, 32],
    ['grey', await encode(32, 32, 1, {}), 32, 32],
    ['not square, odd sides', await encode(37, 23, 3, {}, 3), 23, 37],
    ...cifarFiles().map((b, i) => [`CIFAR-10 file ${i}`, b, 32, 32] as [string, Buffer, number, number]),
  ]
  for (const [name, bytes, h, w] of cases) {
    const pixels = await native.decodeJpeg(bytes, h, w)
    const reference = await sharp(bytes, { failOn: 'warning' }).toColourspace('srgb').removeAlpha().raw().toBuffer()
    t.truthy(pixels, `${name}: decoded natively`)
    t.true(Buffer.from(pixels!).equals(reference), `${name}: the same pixels as sharp`)
  }
  t.log(`${cases.length} JPEGs, each equal to sharp's pixels`)
})

;(available ? test : test.skip)('other sizes, other formats, CMYK and ICC profiles are left to sharp, and decode as before', async (t) => {
  const rgb = picture(32, 32, 3, 4)
  const raw = { raw: { width: 32, height: 32, channels: 3 } }
  const others: Array<[string, Buffer]> = [
    ['a JPEG of another size', await encode(40, 40, 3, {}, 5)],
    ['PNG', await sharp(rgb, raw).png().toBuffer()],
    ['WebP', await sharp(rgb, raw).webp().toBuffer()],
    ['CMYK JPEG', await sharp(rgb, raw).toColourspace('cmyk').jpeg().toBuffer()],
    ['JPEG with an ICC profile', await sharp(rgb, raw).withIccProfile('p3').jpeg().toBuffer()],
  ]
  const pool = new DecodePool(1)
  try {
    for (const [name, bytes] of others) {
      t.is(await native.decodeJpeg(bytes, 32, 32), null, `${name}: not decoded natively`)
      t.true(Buffer.from(await pool.decode(bytes, 32)).equals(Buffer.from(await decodeInput(bytes, 32))), `${name}: sharp's pixels`)
    }
  } finally {
    await pool.close()
  }
})

;(available ? test : test.skip)('damaged JPEGs are refused natively, also where libjpeg only warns; sharp then names the damage', async (t) => {
  const good = await encode(32, 32, 3, {}, 6)
  const pool = new DecodePool(1)
  try {
    for (const [name, bytes, message] of [
      // Whole tables, part of the scan: libjpeg fills the rest with grey and only warns.
      ['the end of its scan cut off', good.subarray(0, good.length - 40), /Premature end of JPEG file/],
      ['cut in half', good.subarray(0, good.length >> 1), /./],
      ['a header only', good.subarray(0, 20), /./],
      ['markers only', good.subarray(0, 4), /./],
    ] as const) {
      await t.throwsAsync(native.decodeJpeg(bytes, 32, 32), { message }, name)
      await t.throwsAsync(pool.decode(bytes, 32), { instanceOf: InvalidImageError, message: new RegExp(`^cannot decode ${bytes.length}-byte image: `) }, name)
    }
  } finally {
    await pool.close()
  }
  // Arguments are checked before anything is queued.
  t.throws(() => native.decodeJpeg(good, 0, 32), { instanceOf: RangeError, message: /height must be an integer in \[1, 4096\]/ })
  t.throws(() => native.decodeJpeg('x' as unknown as Uint8Array, 32, 32), { instanceOf: TypeError })
})

;(available ? test : test.skip)('an image folder of JPEGs decodes to the same pixels as with sharp alone', async (t) => {
  const dir = tmpDir('jpeg-folder')
  const files: string[] = []
  for (const [i, [w, h, options]] of (
    [
      [32, 32, {}],
      [32, 32, { progressive: true }],
      [40, 30, {}],
    ] as const
  ).entries()) {
    files.push(path.join(dir, `${i}.jpg`))
    fs.writeFileSync(files[i], await encode(w, h, 3, options, 10 + i))
  }
  const { data } = await decodeFiles(files, { imageSize: 32 })
  const reference = Buffer.concat(await Promise.all(files.map((f) => decodeImage(f, 32, 32))))
  t.true(Buffer.from(data).equals(reference))
  t.truthy(await native.decodeJpegFile(files[0], 32, 32), 'decoded natively')
  t.is(await native.decodeJpegFile(files[2], 32, 32), null, 'another size is left to sharp')
  // A file that cannot be read is left to sharp too, which names the reason.
  t.is(await native.decodeJpegFile(path.join(dir, 'missing.jpg'), 32, 32), null)
})
