// Data sources as train() and the CLI accept them: a path (an image folder, a folder with
// train/ and test/ splits, or the CIFAR-10 binary release), images in memory, or a dataset.
import fs = require('fs')
import path = require('path')
import { findCifar10Binary, loadCifar10Binary } from './cifar'
import { Dataset, fromImages, InMemoryImages } from './dataset'
import { FolderOptions, loadImageFolder } from './folder'

export type DataSource = string | InMemoryImages | Dataset

export interface SplitPaths {
  kind: 'folder' | 'cifar10-binary'
  train: string
  test?: string
}

/**
 * How a path is read: the CIFAR-10 binary release (`data_batch_*.bin`, `test_batch.bin`), a
 * folder with a `train/` split (and `test/` or `val/`), or one image folder (no test split).
 */
export function resolveSplits(dir: string): SplitPaths {
  const abs = path.resolve(dir)
  const cifar = findCifar10Binary(abs)
  if (cifar) {
    return { kind: 'cifar10-binary', train: cifar, test: fs.existsSync(path.join(cifar, 'test_batch.bin')) ? cifar : undefined }
  }
  const train = path.join(abs, 'train')
  if (fs.existsSync(train) && fs.statSync(train).isDirectory()) {
    const test = ['test', 'val'].map((s) => path.join(abs, s)).find((p) => fs.existsSync(p) && fs.statSync(p).isDirectory())
    return { kind: 'folder', train, test }
  }
  return { kind: 'folder', train: abs }
}

/** Loads one split of a path (see `resolveSplits`), or wraps in-memory images. */
export async function loadDataSource(source: DataSource, split: 'train' | 'test', options: FolderOptions & { device?: string } = {}): Promise<Dataset> {
  if (source instanceof Dataset) return source
  if (typeof source !== 'string') return fromImages(source, { device: options.device })
  const splits = resolveSplits(source)
  const where = split === 'train' ? splits.train : splits.test
  if (!where) throw new Error(`${path.resolve(source)} has no ${split} split (expected ${split}/ or test_batch.bin)`)
  if (splits.kind === 'cifar10-binary') return loadCifar10Binary(where, split, { device: options.device })
  return loadImageFolder(where, options)
}

/** Describes a data source for logs and run configurations. */
export function describeSource(source: DataSource | undefined): string | undefined {
  if (source === undefined) return undefined
  if (typeof source === 'string') return path.resolve(source)
  if (source instanceof Dataset) return source.meta.source
  return `in-memory images [${[...source.shape].join(', ')}]`
}
