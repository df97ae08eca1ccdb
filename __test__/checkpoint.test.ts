// Checkpoints: a run stopped anywhere and resumed continues exactly as if it had not stopped
// (on the CPU, same seed: the same loss at every step, the same weights at the end).
import test from 'ava'
import fs = require('fs')
import path = require('path')
import { Byol, readCheckpoint, restoreModel, saveCheckpoint, train, TrainOptions } from '../src'
import { classImages, TINY_MODEL, tmpDir } from './data.fixtures'

const data = classImages(40, 16)
const common = (preset: 'lightly-example' | 'cifar10-benchmark'): TrainOptions => ({
  preset,
  data,
  testData: false,
  imageSize: 16,
  model: TINY_MODEL,
  device: 'cpu',
  epochs: 3,
  batchSize: 8,
  seed: 5,
})

async function states(model: Byol) {
  const out: Record<string, number[]> = {}
  for (const network of ['online', 'target'] as const) {
    for (const [name, t] of await model.state(network)) out[`${network}.${name}`] = Array.from(t.data as ArrayLike<number | bigint>, Number)
  }
  return out
}

for (const preset of ['lightly-example', 'cifar10-benchmark'] as const) {
  test(`${preset}: stopped mid-epoch and resumed, the loss curve and weights equal the uninterrupted run exactly`, async (t) => {
    const whole = await train({ ...common(preset), runDir: tmpDir('whole') })
    const dir = tmpDir('resumed')
    const controller = new AbortController()
    const first = await train({
      ...common(preset),
      runDir: dir,
      signal: controller.signal,
      callbacks: { onBatchEnd: (step) => (step === 7 ? controller.abort() : undefined) },
    })
    t.true(first.aborted)
    t.is(first.steps, 8, 'the step queued when step 7 was reported runs too')
    // The resumed run gets only the run directory: configuration and data come from the checkpoint.
    const rest = await train({ data, runDir: dir, resume: true, device: 'cpu', testData: false })
    t.deepEqual([...first.stepLosses, ...rest.stepLosses], whole.stepLosses)
    t.deepEqual(
      rest.history,
      whole.history.map((h, i) => ({ ...h, imagesPerSecond: rest.history[i].imagesPerSecond, seconds: rest.history[i].seconds })),
    )
    t.deepEqual(await states(rest.model), await states(whole.model))
    t.is(rest.steps, whole.steps)
    const metrics = fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n')
    t.is(metrics.length, 3, 'one metrics line per epoch, none repeated')
  })
}

test('stopped at an epoch boundary and resumed from its checkpoint', async (t) => {
  const whole = await train({ ...common('lightly-example'), runDir: tmpDir('whole') })
  const dir = tmpDir('boundary')
  const controller = new AbortController()
  await train({
    ...common('lightly-example'),
    runDir: dir,
    signal: controller.signal,
    callbacks: { onEpochEnd: (e) => (e === 0 ? controller.abort() : undefined) },
  })
  const ckpt = await readCheckpoint(dir)
  t.deepEqual(ckpt.state.position, { epoch: 1, batch: 0 })
  t.deepEqual(ckpt.state.epochLosses, [])
  await t.throwsAsync(train({ resume: dir, runDir: dir, data: classImages(48, 16), device: 'cpu', testData: false }), {
    message: /the checkpoint was trained on 40 images but in-memory images holds 48; resume with the same data/,
  })
  const rest = await train({ resume: dir, runDir: dir, data, device: 'cpu', testData: false })
  t.deepEqual(rest.stepLosses, whole.stepLosses.slice(5))
})

test('saveCheckpoint writes atomically and restores weights, buffers and optimizer state', async (t) => {
  const dir = tmpDir('ckpt')
  const r = await train({ ...common('cifar10-benchmark'), epochs: 1, runDir: dir })
  const file = path.join(dir, 'again.safetensors')
  const ckpt = await readCheckpoint(dir)
  await saveCheckpoint(file, r.model, ckpt.state)
  t.deepEqual(
    fs.readdirSync(dir).filter((f) => f.includes('.tmp')),
    [],
    'no temporary file is left',
  )
  const loaded = await readCheckpoint(file)
  t.is(loaded.momentumBuffers!.length, ckpt.momentumBuffers!.length)
  t.true(loaded.momentumBuffers!.length > 0, 'SGD momentum buffers are saved')
  const fresh = await Byol.create({ ...TINY_MODEL, stem: 'cifar', seed: 99, optimizer: { momentum: 0.9, weightDecay: 5e-4 } })
  await restoreModel(fresh, loaded)
  t.deepEqual(await states(fresh), await states(r.model))
  // num_batches_tracked counts the BatchNorm's training forwards (two views x 5 steps).
  t.is(Number(loaded.online.get('backbone.bn1.num_batches_tracked')!.data[0]), 10)
  await t.throwsAsync(saveCheckpoint(path.join(dir, 'missing-dir', 'x', '\0bad'), r.model, ckpt.state))
  t.deepEqual(
    fs.readdirSync(dir).filter((f) => f.includes('.tmp')),
    [],
  )
})

test('reading something that is not a checkpoint is a clear error', async (t) => {
  const dir = tmpDir('notckpt')
  await t.throwsAsync(readCheckpoint(dir), { message: /no checkpoint at .*checkpoint\.safetensors/ })
  fs.writeFileSync(path.join(dir, 'checkpoint.safetensors'), 'garbage!')
  await t.throwsAsync(readCheckpoint(dir), { message: /not a safetensors file/ })
})
