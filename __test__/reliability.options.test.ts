// The bad-input matrix, training options and in-memory data (RELIABILITY.md): each bad value is
// refused before anything is written, with an error naming the option and what is wrong.
import test from 'ava'
import fs = require('fs')
import path = require('path')
import { runtimeInfo, train, TrainOptions } from '../src'
import { classImages, TINY_MODEL, tmpDir } from './data.fixtures'

const data = classImages(8, 16)
const BASE: TrainOptions = { data, testData: false, model: TINY_MODEL, batchSize: 4, epochs: 1, device: 'cpu', log: () => {} }

/** `options` are refused with `error`, and the run directory they name is never created. */
function refuses(title: string, options: TrainOptions, error: { instanceOf?: new (...a: never[]) => Error; message: RegExp }) {
  test(title, async (t) => {
    const runDir = path.join(tmpDir('opt'), 'run')
    await t.throwsAsync(train({ ...BASE, runDir, ...options }), { instanceOf: error.instanceOf ?? Error, message: error.message })
    t.false(fs.existsSync(runDir), 'nothing written')
  })
}

refuses('a NaN learning rate', { lr: NaN }, { instanceOf: RangeError, message: /^lr must be a finite number >= 0, got NaN$/ })
refuses('an infinite learning rate', { lr: Infinity }, { instanceOf: RangeError, message: /^lr must be a finite number >= 0, got Infinity$/ })
refuses('a negative learning rate', { lr: -0.1 }, { instanceOf: RangeError, message: /^lr must be a finite number >= 0, got -0.1$/ })
refuses(
  'an infinite weight decay',
  { optimizer: { weightDecay: Infinity } },
  { instanceOf: RangeError, message: /^optimizer\.weightDecay must be a finite number >= 0/ },
)
refuses(
  'a batch larger than the data with dropLast',
  { batchSize: 16, dropLast: true },
  {
    instanceOf: RangeError,
    message: /^8 training images make no batch of 16 \(dropLast: true\); lower batchSize$/,
  },
)
refuses('epochs: 0', { epochs: 0 }, { instanceOf: RangeError, message: /^epochs must be a positive integer, got 0$/ })
refuses('imageSize: 0', { imageSize: 0 }, { instanceOf: RangeError, message: /^imageSize must be a positive integer, got 0$/ })
refuses('a huge imageSize', { imageSize: 100000 }, { instanceOf: RangeError, message: /^imageSize must be at most 8192, got 100000$/ })
refuses(
  'an unknown preset',
  { preset: 'imagenet-1k' as never },
  { instanceOf: RangeError, message: /^unknown preset 'imagenet-1k' \(expected lightly-example or cifar10-benchmark\)$/ },
)
refuses(
  'out-of-range labels in memory',
  { data: { ...data, labels: data.labels.map((l) => l + 4) } },
  {
    instanceOf: RangeError,
    message: /^in-memory images: label 0 is 4 but there are only 4 classes$/,
  },
)
refuses(
  'a shape that does not match the bytes in memory',
  { data: { ...data, shape: [8, 16, 15, 3] } },
  {
    instanceOf: RangeError,
    message: /^in-memory images: shape \[8, 16, 15, 3\] needs 5760 bytes but data has 6144$/,
  },
)

test('device: cuda without a GPU names the device and the reason', async (t) => {
  if (runtimeInfo().cudaAvailable) return t.pass('this machine has CUDA: nothing to refuse')
  const runDir = path.join(tmpDir('opt'), 'run')
  await t.throwsAsync(train({ ...BASE, device: 'cuda', runDir }), { message: /'cuda' requested, but CUDA is not available/ })
  t.false(fs.existsSync(path.join(runDir, 'checkpoint.safetensors')))
})

test('an odd imageSize trains (every size from 1 to 8192 is a valid input)', async (t) => {
  const result = await train({ ...BASE, imageSize: 15 })
  t.true(Number.isFinite(result.loss!))
  t.is(result.config.imageSize, 15)
})

test('a single class trains, and kNN over one class is exact', async (t) => {
  const one = classImages(8, 16, 1)
  const result = await train({ ...BASE, data: one, testData: classImages(4, 16, 1, 2) })
  t.true(Number.isFinite(result.loss!))
  t.is(result.knnTop1, 1)
})
