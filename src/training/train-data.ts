// The images a run trains on and the labelled images its kNN evaluation uses, loaded from any
// data source, on the device the run gathers batches on.
import { Dataset } from '../data/dataset'
import { batchesPerEpoch } from '../data/epochs'
import { DataSource, loadDataSource } from '../data/index'
import type { TrainConfig } from './presets'
import type { TrainOptions } from './train-options'

/** `dataOnDevice: 'auto'` keeps training images on a GPU when they take at most this many bytes. */
const DEVICE_DATA_LIMIT = 2 ** 31

export interface TrainData {
  train: Dataset
  test?: Dataset
  /** What the training images were loaded from (a resumed run's checkpoint names it). */
  source: DataSource
}

/** Loads `options.data` (or, resuming, the checkpoint's `fallback`) and the test split or `testData`. */
export async function loadTrainData(options: TrainOptions, config: TrainConfig, device: string, fallback?: string): Promise<TrainData> {
  const source = options.data ?? fallback
  if (source === undefined) throw new TypeError('train(): options.data is required (an image folder, images in memory or a dataset)')
  const folder = (split: 'train' | 'test', dev: string) => ({
    imageSize: config.imageSize,
    cacheDir: options.cacheDir,
    skipCorrupt: options.skipCorrupt,
    device: dev,
    onProgress: options.onDataProgress && ((d: number, n: number) => options.onDataProgress!(split, d, n)),
  })
  const onDevice = options.dataOnDevice ?? 'auto'
  const dataDevice = device.startsWith('cuda') && onDevice !== false ? device : 'cpu'
  let train = await loadDataSource(source, 'train', folder('train', dataDevice))
  if (onDevice === 'auto' && train.device !== 'cpu' && train.length * train.height * train.width * 3 > DEVICE_DATA_LIMIT && !(source instanceof Dataset)) {
    train = await loadDataSource(source, 'train', folder('train', 'cpu'))
  }
  let test: Dataset | undefined
  if (options.testData !== false) {
    const testSource = options.testData ?? (typeof source === 'string' ? source : undefined)
    if (testSource !== undefined) {
      try {
        test = await loadDataSource(testSource, 'test', folder('test', train.device))
      } catch (e) {
        // Only an explicitly given test set must load; a path without a test split trains without kNN.
        if (options.testData !== undefined || !/has no test split/.test((e as Error).message)) throw e
      }
    }
  }
  if (test && !train.labelled) {
    throw new Error(`kNN evaluation needs labels on the training data: ${train.meta.source} is unlabelled (use an ImageFolder, or testData: false)`)
  }
  if (test && !test.labelled) throw new Error(`the test data ${test.meta.source} has no labels`)
  if (test && train.classes && test.classes && train.classes.join('\n') !== test.classes.join('\n')) {
    throw new Error(`train and test classes differ: [${train.classes.join(', ')}] vs [${test.classes.join(', ')}]`)
  }
  return { train, test, source }
}

/** Batches per epoch of `train`, refusing data a run cannot train on (or resume with). */
export function trainBatches(train: Dataset, config: TrainConfig, trainedImages?: number): number {
  if (trainedImages !== undefined && trainedImages !== train.length) {
    throw new Error(`the checkpoint was trained on ${trainedImages} images but ${train.meta.source} holds ${train.length}; resume with the same data`)
  }
  const batches = batchesPerEpoch(train.length, config.batchSize, config.dropLast)
  if (batches === 0) {
    throw new RangeError(`${train.length} training images make no batch of ${config.batchSize} (dropLast: ${config.dropLast}); lower batchSize`)
  }
  if (!config.dropLast && train.length % config.batchSize === 1) {
    throw new RangeError(`the last batch would hold 1 image, which training-mode BatchNorm cannot use; use dropLast or another batchSize`)
  }
  return batches
}
