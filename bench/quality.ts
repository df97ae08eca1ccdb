// Learning-quality benchmark: trains byol on a CIFAR-10 subset and prints the kNN top-1 accuracy
// after every epoch as JSON lines, in the form of the PyTorch reference
// (../shared/bench/byol_torch_knn_ref.py) so that bench/quality.sh can compare the two.
//
//   node dist/bench/quality.js --data datasets/cifar10 --lists .bench/quality-lists.json \
//       [--epochs 3] [--batch 256] [--seed 0] [--recipe lightly-example|cifar10-benchmark]
//       [--precision auto|fp32|bf16] [--channels-last]
//
// --lists names the train and test files (paths relative to --data, with labels): the subset
// the reference uses (its seeded shuffle and limits), written by bench/quality.sh.
import fs = require('fs')
import path = require('path')
import { parseArgs } from 'util'
import { decodeFiles, fromImages, PresetName, runtimeInfo, train } from '../src'
import { resolveStepOptions } from '../src/training/step-options'

interface Lists {
  classes: string[]
  train: Array<[string, number]>
  test: Array<[string, number]>
  train_hash: string
  test_hash: string
}

async function load(root: string, items: Array<[string, number]>, classes: string[]) {
  const pixels = await decodeFiles(
    items.map(([f]) => path.join(root, f)),
    { imageSize: 32 },
  )
  return fromImages({ ...pixels, labels: items.map(([, l]) => l), classes })
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      lists: { type: 'string' },
      epochs: { type: 'string', default: '3' },
      batch: { type: 'string', default: '256' },
      seed: { type: 'string', default: '0' },
      recipe: { type: 'string', default: 'lightly-example' },
      precision: { type: 'string', default: 'auto' },
      'channels-last': { type: 'boolean', default: false },
    },
  })
  if (!values.data || !values.lists) throw new Error('usage: quality.js --data DIR --lists FILE [--epochs N] [--batch N] [--seed N] [--recipe NAME]')
  const lists = JSON.parse(fs.readFileSync(values.lists, 'utf8')) as Lists
  const trainData = await load(values.data, lists.train, lists.classes)
  const testData = await load(values.data, lists.test, lists.classes)
  const info = runtimeInfo()
  const channelsLast = values['channels-last'] ? true : 'auto'
  const step = resolveStepOptions({ precision: values.precision as 'auto', channelsLast }, info.cudaAvailable ? 'cuda' : 'cpu')
  console.log(
    JSON.stringify({
      train: trainData.length,
      test: testData.length,
      train_hash: lists.train_hash,
      test_hash: lists.test_hash,
      recipe: values.recipe,
      precision: step.precision,
      channels_last: step.channelsLast,
      libtorch: info.libtorch,
      threads: info.threads,
      blas: info.blas.name,
    }),
  )
  const t0 = Date.now()
  await train({
    preset: values.recipe as PresetName,
    data: trainData,
    testData,
    epochs: Number(values.epochs),
    batchSize: Number(values.batch),
    seed: Number(values.seed),
    evalEvery: 1,
    device: 'auto',
    precision: values.precision as 'auto',
    channelsLast,
    callbacks: {
      onEpochEnd: (epoch, logs) =>
        console.log(
          JSON.stringify({
            epoch,
            loss: Number(logs.loss.toFixed(5)),
            knn_top1: Number(logs.knnTop1!.toFixed(4)),
            seconds: Number(((Date.now() - t0) / 1000).toFixed(1)),
            images_per_s: Number(logs.imagesPerSecond.toFixed(1)),
          }),
        ),
    },
  })
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
