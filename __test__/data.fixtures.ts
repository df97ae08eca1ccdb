// Shared by the training, data, kNN, checkpoint, export, CLI and event-loop tests: tiny model
// settings, synthetic images and image folders written with sharp.
import fs = require('fs')
import os = require('os')
import path = require('path')

/** A ResNet-18 of width 8 with small heads: fast enough for whole training runs in tests. */
export const TINY_MODEL = { width: 8, projectionHiddenDim: 32, projectionOutputDim: 16, predictionHiddenDim: 32 }

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `byol-${prefix}-`))
}

/** A deterministic pseudo-random byte stream. */
export function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n)
  let x = seed >>> 0 || 1
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 255
  }
  return out
}

/**
 * `n` images of `size`x`size` whose class (i % classes) shows in their colour, so a little
 * training separates them: class c has a bright channel c % 3 and a stripe pattern.
 */
export function classImages(n: number, size: number, classes = 4, seed = 1) {
  const noise = bytes(n * size * size * 3, seed)
  const data = new Uint8Array(n * size * size * 3)
  const labels: number[] = []
  for (let i = 0; i < n; i++) {
    const c = i % classes
    labels.push(c)
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        for (let ch = 0; ch < 3; ch++) {
          const k = ((i * size + y) * size + x) * 3 + ch
          const base = ch === c % 3 ? 180 : 40
          const stripe = (c >= 3 ? x : y) % 4 < 2 ? 40 : 0
          data[k] = Math.min(255, base + stripe + (noise[k] % 32))
        }
      }
    }
  }
  return { data, shape: [n, size, size, 3], labels, classes: Array.from({ length: classes }, (_, c) => `class${c}`) }
}

type Sharp = (
  input?: Uint8Array,
  options?: object,
) => {
  png(): { toFile(f: string): Promise<unknown> }
  jpeg(): { toFile(f: string): Promise<unknown> }
  webp(): { toFile(f: string): Promise<unknown> }
}
// eslint-disable-next-line @typescript-eslint/no-var-requires
const sharp = require('sharp') as Sharp

/** Writes one RGB (or grey / RGBA) image. */
export async function writeImage(file: string, pixels: Uint8Array, width: number, height: number, channels = 3): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const img = sharp(pixels, { raw: { width, height, channels } })
  const ext = path.extname(file)
  await (ext === '.png' ? img.png() : ext === '.webp' ? img.webp() : img.jpeg()).toFile(file)
}

/** An ImageFolder (`root/<class>/<i>.png`) of `classImages`; returns the images written. */
export async function writeImageFolder(root: string, n: number, size: number, classes = 4, seed = 1) {
  const images = classImages(n, size, classes, seed)
  const per = size * size * 3
  for (let i = 0; i < n; i++) {
    const file = path.join(root, images.classes[images.labels[i]], `${String(i).padStart(4, '0')}.png`)
    await writeImage(file, images.data.subarray(i * per, (i + 1) * per), size, size)
  }
  return images
}

/** A folder with train/ and test/ ImageFolders of class images. */
export async function writeSplitFolder(root: string, train: number, test: number, size: number, classes = 4) {
  await writeImageFolder(path.join(root, 'train'), train, size, classes, 1)
  await writeImageFolder(path.join(root, 'test'), test, size, classes, 2)
  return root
}
