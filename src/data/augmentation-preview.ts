// A picture of what the augmentations do: for a few images of a folder, the original and several
// samples of each view, in one PNG grid (what `byol preview-augmentations` writes).
import fs = require('fs')
import path = require('path')
import { Augmenter, AugmentOptions, ResolvedView } from './augmenter'
import { IMAGE_EXTENSIONS, listImageFolder } from './folder'
import { asBytes } from '../files/atomic-write'
import { sharp } from './sharp'

export interface PreviewOptions extends AugmentOptions {
  /** An image folder (class sub-folders or flat). */
  data: string
  /** The PNG to write. */
  out: string
  /** Images to show, spread evenly over the folder's sorted listing (default 8). */
  images?: number
  /** Samples of each view per image (default 4). */
  samples?: number
  /** Pixels per grid cell (default: the larger view size, at least 96; small views are enlarged
   * with nearest-neighbour so their pixels stay visible). */
  cellSize?: number
}

export interface PreviewResult {
  out: string
  width: number
  height: number
  /** The images shown, one per row, relative to the folder. */
  files: string[]
}

const MARGIN = 8
const GAP = 4
const BLOCK_GAP = 16
const STRIP = 4
const BACKGROUND = 32
// Strips above the columns: original (gray), first view (blue), second view (orange).
const STRIP_COLOURS: Array<[number, number, number]> = [
  [160, 160, 160],
  [66, 133, 244],
  [244, 160, 0],
]
// Source images larger than this (longest side) are shrunk first; crops are relative to the image.
const MAX_SOURCE = 1024

interface Rgb {
  data: Uint8Array
  width: number
  height: number
}

async function decode(file: string): Promise<Rgb> {
  let { data, info } = await sharp()(file, { failOn: 'warning' }).toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true })
  if (Math.max(info.width, info.height) > MAX_SOURCE) {
    const f = MAX_SOURCE / Math.max(info.width, info.height)
    const [w, h] = [Math.max(1, Math.round(info.width * f)), Math.max(1, Math.round(info.height * f))]
    data = await sharp()(asBytes(data), { raw: info }).resize(w, h, { fit: 'fill' }).raw().toBuffer()
    info = { width: w, height: h, channels: 3 }
  }
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height }
}

/** A view `[3, S, S]` (normalised floats) back to RGB bytes, undoing the normalisation. */
function viewToRgb(data: Float32Array, offset: number, s: number, view: ResolvedView): Rgb {
  const out = new Uint8Array(s * s * 3)
  const mean = view.normalize ? view.normalize.mean : [0, 0, 0]
  const std = view.normalize ? view.normalize.std : [1, 1, 1]
  for (let c = 0; c < 3; c++) {
    const plane = offset + c * s * s
    for (let i = 0; i < s * s; i++) {
      const v = data[plane + i] * std[c] + mean[c]
      out[i * 3 + c] = Math.max(0, Math.min(255, Math.round(v * 255)))
    }
  }
  return { data: out, width: s, height: s }
}

/**
 * Writes a PNG grid: one row per image with the original, then `samples` draws of the first
 * view, then `samples` draws of the second view (thin strips above the columns: gray, blue,
 * orange). Accepts every augmentation option (`preset`, overrides, `view1`/`view2`, `seed`).
 */
export async function previewAugmentations(options: PreviewOptions): Promise<PreviewResult> {
  const { data, out, images = 8, samples = 4, cellSize, ...augment } = options
  for (const [name, v] of [
    ['images', images],
    ['samples', samples],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 256) throw new RangeError(`${name} must be an integer in [1, 256], got ${v}`)
  }
  if (cellSize !== undefined && (!Number.isInteger(cellSize) || cellSize < 8 || cellSize > 1024)) {
    throw new RangeError(`cellSize must be an integer in [8, 1024], got ${cellSize}`)
  }
  const augmenter = await Augmenter.create(augment)
  const views = [augmenter.config.view1, augmenter.config.view2]
  const listing = await listImageFolder(data, 'flat')
  if (listing.files.length === 0) throw new Error(`no images (${IMAGE_EXTENSIONS.join(', ')}) found in ${data}`)
  const count = Math.min(images, listing.files.length)
  const files = Array.from({ length: count }, (_, i) => listing.files[Math.floor((i * listing.files.length) / count)])
  const size = cellSize ?? Math.max(96, views[0].inputSize, views[1].inputSize)

  const columns = 1 + 2 * samples
  const width = 2 * MARGIN + columns * size + (columns - 3) * GAP + 2 * BLOCK_GAP
  const height = 2 * MARGIN + STRIP + GAP + count * size + (count - 1) * GAP
  const canvas = new Uint8Array(width * height * 3).fill(BACKGROUND)
  const columnX = (col: number): number => {
    const block = col === 0 ? 0 : col <= samples ? 1 : 2
    return MARGIN + col * size + (col - block) * GAP + block * BLOCK_GAP
  }
  const paste = (img: Uint8Array, x: number, y: number): void => {
    for (let row = 0; row < size; row++) canvas.set(img.subarray(row * size * 3, (row + 1) * size * 3), ((y + row) * width + x) * 3)
  }
  for (let col = 0; col < columns; col++) {
    const colour = STRIP_COLOURS[col === 0 ? 0 : col <= samples ? 1 : 2]
    for (let row = MARGIN; row < MARGIN + STRIP; row++) {
      for (let x = columnX(col); x < columnX(col) + size; x++) canvas.set(colour, (row * width + x) * 3)
    }
  }

  for (let r = 0; r < count; r++) {
    const img = await decode(path.join(listing.root, files[r]))
    const y = MARGIN + STRIP + GAP + r * (size + GAP)
    paste(await scaleTo(img, size), columnX(0), y)
    // `samples` copies of the image in one batch: every copy gets its own random parameters.
    const batch = new Uint8Array(samples * img.data.length)
    for (let k = 0; k < samples; k++) batch.set(img.data, k * img.data.length)
    const { view0, view1 } = await augmenter.views({ data: batch, shape: [samples, img.height, img.width, 3] })
    for (const [which, v] of [view0, view1].entries()) {
      const s = views[which].inputSize
      for (let k = 0; k < samples; k++) {
        const rgb = viewToRgb(v.data, k * 3 * s * s, s, views[which])
        paste(await scaleTo(rgb, size), columnX(1 + which * samples + k), y)
      }
    }
  }
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true })
  await sharp()(canvas, { raw: { width, height, channels: 3 } })
    .png()
    .toFile(out)
  return { out, width, height, files }
}

/** An RGB image as a `size x size` cell (cover: the centre square), enlarged with nearest
 * neighbour (pixels stay visible) and shrunk with sharp's default filter. */
async function scaleTo(img: Rgb, size: number): Promise<Uint8Array> {
  if (img.width === size && img.height === size) return img.data
  const enlarge = Math.min(img.width, img.height) < size
  const data = await sharp()(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(size, size, enlarge ? { fit: 'cover', kernel: 'nearest' } : { fit: 'cover' })
    .raw()
    .toBuffer()
  return new Uint8Array(data.buffer, data.byteOffset, data.length)
}
