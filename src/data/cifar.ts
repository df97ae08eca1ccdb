// The CIFAR-10 binary release (`cifar-10-batches-bin/`): data_batch_1..5.bin (train) and
// test_batch.bin (test), each record one label byte and 3,072 pixel bytes (R, G, B planes of
// 32x32, row-major).
import fs = require('fs')
import path = require('path')
import { Dataset, fromImages } from './dataset'

export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']
const RECORD = 1 + 3 * 32 * 32

export type CifarSplit = 'train' | 'test'

/** The folder holding the batch files: `dir` itself or `dir/cifar-10-batches-bin`, or undefined. */
export function findCifar10Binary(dir: string): string | undefined {
  for (const candidate of [dir, path.join(dir, 'cifar-10-batches-bin')]) {
    if (fs.existsSync(path.join(candidate, 'data_batch_1.bin')) || fs.existsSync(path.join(candidate, 'test_batch.bin'))) {
      return path.resolve(candidate)
    }
  }
  return undefined
}

export function cifar10Files(dir: string, split: CifarSplit): string[] {
  return split === 'train' ? [1, 2, 3, 4, 5].map((i) => path.join(dir, `data_batch_${i}.bin`)) : [path.join(dir, 'test_batch.bin')]
}

function classNames(dir: string): string[] {
  const meta = path.join(dir, 'batches.meta.txt')
  if (fs.existsSync(meta)) {
    const names = fs
      .readFileSync(meta, 'utf8')
      .split('\n')
      .map((s) => s.trim())
      .filter(Boolean)
    if (names.length === 10) return names
  }
  return CIFAR10_CLASSES
}

/** Decodes batch files to NHWC images and labels (yielding to the event loop between files). */
export async function readCifar10Binary(dir: string, split: CifarSplit): Promise<{ data: Uint8Array; labels: Uint8Array; count: number }> {
  const files = cifar10Files(dir, split)
  const buffers: Buffer[] = []
  for (const file of files) {
    let buf: Buffer
    try {
      buf = await fs.promises.readFile(file)
    } catch {
      throw new Error(`CIFAR-10 ${split} split: ${file} is missing (expected ${files.map((f) => path.basename(f)).join(', ')})`)
    }
    if (buf.length === 0 || buf.length % RECORD !== 0) {
      throw new Error(`${file}: ${buf.length} bytes is not a whole number of ${RECORD}-byte CIFAR-10 records (truncated?)`)
    }
    buffers.push(buf)
  }
  const count = buffers.reduce((n, b) => n + b.length / RECORD, 0)
  const data = new Uint8Array(count * 3072)
  const labels = new Uint8Array(count)
  let i = 0
  for (const [f, buf] of buffers.entries()) {
    for (let r = 0; r < buf.length / RECORD; r++, i++) {
      const base = r * RECORD
      const label = buf[base]
      if (label > 9) throw new Error(`${files[f]}: record ${r} has label ${label}, CIFAR-10 labels are 0..9`)
      labels[i] = label
      const out = i * 3072
      for (let p = 0; p < 1024; p++) {
        data[out + 3 * p] = buf[base + 1 + p]
        data[out + 3 * p + 1] = buf[base + 1 + 1024 + p]
        data[out + 3 * p + 2] = buf[base + 1 + 2048 + p]
      }
    }
    await new Promise((resolve) => setImmediate(resolve))
  }
  return { data, labels, count }
}

/** One split of the CIFAR-10 binary release as a labelled dataset. */
export async function loadCifar10Binary(dir: string, split: CifarSplit, options: { device?: string } = {}): Promise<Dataset> {
  const root = findCifar10Binary(dir)
  if (!root) throw new Error(`${dir} holds no CIFAR-10 binary batches (data_batch_1.bin ... test_batch.bin)`)
  const { data, labels, count } = await readCifar10Binary(root, split)
  return fromImages(
    { data, shape: [count, 32, 32, 3], labels, classes: classNames(root) },
    { device: options.device, source: `${root} (CIFAR-10 binary, ${split})` },
  )
}
