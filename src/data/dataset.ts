// A set of images held natively (uint8 [N, H, W, 3]) on the CPU or the training GPU, with
// optional labels and class names. Every data source (folders, CIFAR-10 binaries, memory) ends
// here; epochs then only send batch indices to native code.
import { native, Native } from '../model/addon'

/** Images in memory: uint8 RGB, row-major `[N, H, W, 3]` (NHWC), optionally labelled. */
export interface InMemoryImages {
  data: Uint8Array
  shape: [number, number, number, number] | number[]
  /** One class index per image, in `[0, classes.length)` (or `[0, max + 1)` without names). */
  labels?: ArrayLike<number>
  classes?: string[]
}

/** An image that could not be decoded and was skipped (`skipCorrupt`). */
export interface SkippedImage {
  file: string
  error: string
}

export interface DatasetMeta {
  /** Class names, index = label. */
  classes?: string[]
  /** Source file of every image (folders), relative to `root`. */
  files?: string[]
  root?: string
  /** Where the data came from, for logs and run configs. */
  source: string
  skipped?: SkippedImage[]
  /** The decoded-image cache file used, and whether it was built now. */
  cache?: { file: string; built: boolean }
}

export class Dataset {
  /** Number of images. */
  readonly length: number
  readonly height: number
  readonly width: number
  /** Where the images are kept: `cpu` or `cuda:N`. */
  readonly device: string

  constructor(
    readonly handle: Native.DatasetHandle,
    readonly labels: Int32Array | undefined,
    readonly meta: DatasetMeta,
  ) {
    const info = native.datasetInfo(handle)
    this.length = info.length
    this.height = info.height
    this.width = info.width
    this.device = info.device
  }

  get labelled(): boolean {
    return this.labels !== undefined
  }

  get classes(): string[] | undefined {
    return this.meta.classes
  }

  get numClasses(): number {
    return native.datasetInfo(this.handle).numClasses
  }

  /** The images at `indices` as uint8 `[B, H, W, 3]`. */
  async gather(indices: ArrayLike<number>): Promise<{ data: Uint8Array; shape: number[] }> {
    const t = await native.datasetGather(this.handle, indexTensor(indices))
    return { data: t.data as Uint8Array, shape: t.shape }
  }
}

export function indexTensor(indices: ArrayLike<number> | BigInt64Array): Native.NativeTensor {
  if (indices instanceof BigInt64Array) return { data: indices, shape: [indices.length] }
  const data = new BigInt64Array(indices.length)
  for (let i = 0; i < indices.length; i++) data[i] = BigInt(indices[i])
  return { data, shape: [data.length] }
}

/** Checks labels against the image count and the classes; returns them as Int32Array and the class count. */
export function checkLabels(labels: ArrayLike<number>, count: number, classes: string[] | undefined, what: string): { labels: Int32Array; numClasses: number } {
  if (labels.length !== count) {
    throw new RangeError(`${what}: ${count} images but ${labels.length} labels; give exactly one label per image`)
  }
  const out = new Int32Array(count)
  let max = -1
  for (let i = 0; i < count; i++) {
    const l = labels[i]
    if (!Number.isInteger(l) || l < 0) throw new RangeError(`${what}: label ${i} is ${l}; labels must be non-negative integers`)
    if (classes && l >= classes.length) {
      throw new RangeError(`${what}: label ${i} is ${l} but there are only ${classes.length} classes`)
    }
    out[i] = l
    if (l > max) max = l
  }
  return { labels: out, numClasses: classes ? classes.length : max + 1 }
}

function labelTensor(labels: Int32Array): Native.NativeTensor {
  const data = new BigInt64Array(labels.length)
  for (let i = 0; i < labels.length; i++) data[i] = BigInt(labels[i])
  return { data, shape: [labels.length] }
}

function checkShape(shape: number[], bytes: number, what: string): [number, number, number, number] {
  if (shape.length !== 4 || shape[3] !== 3 || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new RangeError(`${what}: shape must be [N, H, W, 3] (uint8 RGB, NHWC), got [${shape.join(', ')}]`)
  }
  const need = shape.reduce((a, b) => a * b, 1)
  if (need !== bytes) throw new RangeError(`${what}: shape [${shape.join(', ')}] needs ${need} bytes but data has ${bytes}`)
  if (shape[0] === 0) throw new RangeError(`${what}: no images`)
  return shape as [number, number, number, number]
}

/** A dataset from images in memory (for services that already hold decoded images). */
export async function fromImages(images: InMemoryImages, options: { device?: string; source?: string } = {}): Promise<Dataset> {
  const what = options.source ?? 'in-memory images'
  if (!(images.data instanceof Uint8Array)) throw new TypeError(`${what}: data must be a Uint8Array of RGB bytes`)
  const shape = checkShape([...images.shape], images.data.length, what)
  const checked = images.labels ? checkLabels(images.labels, shape[0], images.classes, what) : undefined
  const handle = await native.datasetCreate({ data: images.data, shape }, checked ? labelTensor(checked.labels) : null, {
    numClasses: checked?.numClasses ?? 0,
    device: options.device ?? 'cpu',
  })
  return new Dataset(handle, checked?.labels, { classes: images.classes, source: what })
}

/** A dataset whose images are read natively from `file` at `byteOffset` (a cache file). */
export async function fromFile(
  file: string,
  byteOffset: number,
  shape: [number, number, number, number],
  labels: ArrayLike<number> | undefined,
  meta: DatasetMeta,
  options: { device?: string } = {},
): Promise<Dataset> {
  const checked = labels ? checkLabels(labels, shape[0], meta.classes, meta.source) : undefined
  const handle = await native.datasetLoad(file, byteOffset, shape, checked ? labelTensor(checked.labels) : null, {
    numClasses: checked?.numClasses ?? 0,
    device: options.device ?? 'cpu',
  })
  return new Dataset(handle, checked?.labels, meta)
}
