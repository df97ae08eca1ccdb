// train(): presets, callbacks, schedules, abort, evaluation, bad data and a diverging run.
import test from 'ava'
import fs = require('fs')
import path = require('path')
import { cosineSchedule, learningRate, presetConfig, readCheckpoint, resolveConfig, runtimeInfo, train } from '../src'
import { classImages, TINY_MODEL, tmpDir } from './data.fixtures'

const small = (n = 32, size = 16) => classImages(n, size)
const base = { testData: false as const, imageSize: 16, model: TINY_MODEL, device: 'cpu' as const }

test("the lightly-example preset is Lightly's BYOL example", (t) => {
  const c = resolveConfig()
  t.is(c.preset, 'lightly-example')
  t.deepEqual(c.model, { stem: 'imagenet', width: 64, projectionHiddenDim: 1024, projectionOutputDim: 256, predictionHiddenDim: 1024, emaBuffers: false })
  t.deepEqual([c.optimizer.name, c.optimizer.lr, c.optimizer.momentum, c.optimizer.weightDecay], ['sgd', 0.06, 0, 0])
  t.deepEqual([c.batchSize, c.epochs, c.shuffle, c.dropLast, c.lrSchedule], [256, 10, true, true, 'constant'])
  t.deepEqual(c.momentum, { start: 0.996, end: 1, schedule: 'cosine' })
  t.is(c.augment.preset, 'byol-cifar')
  t.deepEqual(c.knn, { k: 200, temperature: 0.1, batchSize: 512 })
})

test('the cifar10-benchmark preset: cifar stem, SGD 0.9 / 5e-4, lr 0.06 x batch / 128 annealed, momentum 0.99', (t) => {
  const c = resolveConfig({ preset: 'cifar10-benchmark', batchSize: 512 })
  t.is(c.model.stem, 'cifar')
  t.deepEqual([c.optimizer.lr, c.optimizer.momentum, c.optimizer.weightDecay], [0.24, 0.9, 5e-4])
  t.deepEqual(c.momentum, { start: 0.99, end: 0.99, schedule: 'constant' })
  t.is(c.epochs, 200)
  t.is(learningRate(c, 0), 0.24)
  t.true(Math.abs(learningRate(c, 100) - 0.12) < 1e-12)
  t.is(learningRate(resolveConfig({ preset: 'cifar10-benchmark', lr: 0.1, epochs: 4 }), 2), 0.05)
  t.is(presetConfig('cifar10-benchmark').optimizer.lr, 0.12)
  t.throws(() => resolveConfig({ batchSize: 0 }), { message: /batchSize must be a positive integer/ })
  t.throws(() => resolveConfig({ momentum: { start: 1.5 } }), { message: /momentum.start and momentum.end must be in \[0, 1\]/ })
  t.throws(() => resolveConfig({ preset: 'simclr' as never }), { message: /unknown preset 'simclr'/ })
})

test('callbacks run in order with loss, lr, momentum and images/s; momentum follows the per-epoch cosine', async (t) => {
  const events: string[] = []
  const batchLogs: Array<{ step: number; epoch: number; batch: number; momentum: number; loss: number; imagesPerSecond: number }> = []
  const r = await train({
    ...base,
    data: small(),
    epochs: 3,
    batchSize: 8,
    callbacks: {
      onTrainBegin: (l) => void events.push(`begin ${l.batchesPerEpoch}`),
      onEpochBegin: async (e) => {
        await new Promise((res) => setTimeout(res, 5)) // async callbacks are awaited
        events.push(`epoch ${e}`)
      },
      onBatchEnd: (step, l) => void batchLogs.push({ step, ...l }),
      onEpochEnd: (e, l) => void events.push(`end ${e} ${l.steps}`),
      onTrainEnd: (res) => void events.push(`done ${res.steps}`),
    },
  })
  t.deepEqual(events, ['begin 4', 'epoch 0', 'end 0 4', 'epoch 1', 'end 1 4', 'epoch 2', 'end 2 4', 'done 12'])
  t.deepEqual(
    batchLogs.map((b) => b.step),
    Array.from({ length: 12 }, (_, i) => i + 1),
  )
  t.deepEqual(batchLogs.map((b) => `${b.epoch}.${b.batch}`).slice(3, 6), ['0.3', '1.0', '1.1'])
  for (const b of batchLogs) {
    t.is(b.momentum, cosineSchedule(b.epoch, 3, 0.996, 1))
    t.true(Number.isFinite(b.loss) && b.imagesPerSecond > 0)
  }
  t.deepEqual(
    r.history.map((h) => h.momentum),
    [0.996, 0.998, 1],
  )
  t.deepEqual(
    r.history.map((h) => h.lr),
    [0.06, 0.06, 0.06],
  )
  const mean = batchLogs.slice(4, 8).reduce((a, b) => a + b.loss, 0) / 4
  t.true(Math.abs(r.history[1].loss - mean) < 1e-12, 'epoch loss is the mean of its steps')
  t.is(r.steps, 12)
  t.false(r.aborted)
})

test('device auto trains on the CPU when libtorch sees no CUDA device', async (t) => {
  if (runtimeInfo().cudaAvailable) return t.pass('CUDA present: covered by the device tests')
  const r = await train({ ...base, device: 'auto', data: small(16), epochs: 1, batchSize: 8 })
  t.is(r.device, 'cpu')
  t.is(r.model.device, 'cpu')
  t.is(r.train.device, 'cpu')
})

/** A 3-epoch run of 4 batches per epoch that aborts when step `at` is reported. */
async function abortedRun(prefix: string, at: number) {
  const dir = tmpDir(prefix)
  const controller = new AbortController()
  const begun: number[] = []
  const r = await train({
    ...base,
    data: small(),
    epochs: 3,
    batchSize: 8,
    runDir: dir,
    signal: controller.signal,
    callbacks: { onEpochBegin: (e) => void begun.push(e), onBatchEnd: (step) => (step === at ? controller.abort() : undefined) },
  })
  return { r, dir, begun }
}

test('an aborted signal stops after the steps already queued and leaves a checkpoint', async (t) => {
  const { r, dir } = await abortedRun('abort', 6)
  t.true(r.aborted)
  // Step 7 was queued (one chunk of lossEvery = 1 ahead) when step 6 was reported.
  t.is(r.steps, 7)
  t.is(r.stepLosses.length, 7)
  t.is(r.history.length, 1)
  const ckpt = await readCheckpoint(dir)
  t.deepEqual(ckpt.state.position, { epoch: 1, batch: 3 })
  t.is(ckpt.state.steps, 7)
  t.is(ckpt.state.epochLosses.length, 3)
  t.false(fs.existsSync(path.join(dir, 'backbone.safetensors')), 'no export for an unfinished run')
  const before = new AbortController()
  before.abort()
  const none = await train({ ...base, data: small(), epochs: 1, batchSize: 8, signal: before.signal })
  t.is(none.steps, 0)
  t.true(none.aborted)
})

test('an abort on the last step of an epoch ends that epoch normally, and the next one stops before its first step', async (t) => {
  // lossEvery 1: when step 3 is reported, step 4 (the last of epoch 0) is already queued.
  const { r, dir, begun } = await abortedRun('abort-boundary', 3)
  t.true(r.aborted)
  t.is(r.steps, 4)
  t.deepEqual(
    r.history.map((h) => [h.epoch, h.steps]),
    [[0, 4]],
  )
  t.deepEqual(begun, [0, 1])
  const ckpt = await readCheckpoint(dir)
  t.deepEqual(ckpt.state.position, { epoch: 1, batch: 0 })
  t.deepEqual(ckpt.state.epochLosses, [], 'no losses of the finished epoch are carried into the next')
  t.is(ckpt.state.history.length, 1)
})

test('kNN accuracy is measured every evalEvery epochs and after the last, on the test split', async (t) => {
  const r = await train({
    ...base,
    data: classImages(48, 16, 4, 1),
    testData: classImages(16, 16, 4, 2),
    epochs: 3,
    batchSize: 16,
    evalEvery: 2,
    knn: { k: 5 },
  })
  t.deepEqual(
    r.history.map((h) => h.knnTop1 !== undefined),
    [false, true, true],
  )
  t.is(r.knnTop1, r.history[2].knnTop1)
  t.true(r.knnTop1! >= 0 && r.knnTop1! <= 1)
  t.is(r.test!.length, 16)
})

test('a short run lowers the loss', async (t) => {
  const r = await train({ ...base, data: classImages(64, 16), epochs: 4, batchSize: 16 })
  t.true(r.history[3].loss < r.history[0].loss - 0.05, `losses ${r.history.map((h) => h.loss.toFixed(3))}`)
})

test('a diverging run stops with an error naming the step; the last good checkpoint stays', async (t) => {
  const dir = tmpDir('nan')
  // One step per epoch: epoch 0 ends (checkpoint), then lr 1e30 blows the weights up.
  const error = await t.throwsAsync(train({ ...base, data: small(16), epochs: 4, batchSize: 16, lr: 1e30, runDir: dir }))
  t.regex(error!.message, /^loss is (NaN|-?Infinity) at step 2 \(epoch 1, batch 0\)/)
  t.regex(error!.message, /last good checkpoint is .*checkpoint\.safetensors/)
  const ckpt = await readCheckpoint(dir)
  t.deepEqual(ckpt.state.position, { epoch: 1, batch: 0 })
  t.true(Number.isFinite(ckpt.state.history[0].loss))
  t.true([...ckpt.online.values()].every((v) => v.data instanceof BigInt64Array || (v.data as Float32Array).every(Number.isFinite)))
})

test('bad data and options are clear errors before any training', async (t) => {
  await t.throwsAsync(train({ ...base, data: small(8), batchSize: 16 }), { message: /8 training images make no batch of 16/ })
  await t.throwsAsync(train({ ...base } as never), { message: /options.data is required/ })
  const imgs = small(8)
  await t.throwsAsync(train({ ...base, data: { data: imgs.data, shape: imgs.shape }, testData: imgs, batchSize: 4 }), {
    message: /needs labels on the training data/,
  })
  await t.throwsAsync(train({ ...base, data: { ...imgs, labels: [1, 2] }, batchSize: 4 }), { message: /8 images but 2 labels/ })
  await t.throwsAsync(train({ ...base, data: path.join(tmpDir('none'), 'missing'), batchSize: 4 }), { message: /does not exist/ })
  await t.throwsAsync(train({ ...base, data: small(9), batchSize: 4, dropLast: false }), { message: /last batch would hold 1 image/ })
})
