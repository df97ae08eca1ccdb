// The native trainer (whole steps on the device from static buffers, the path a CUDA graph
// captures) and the step options, on the CPU. The graph itself is exercised in trainer-cuda.test.ts.
import test from 'ava'
import { execFileSync } from 'child_process'
import fs = require('fs')
import path = require('path')
import { Augmenter, Byol, fromImages, runtimeInfo, tensor, train } from '../src'
import { indexTensor } from '../src/data/dataset'
import { modelHandle } from '../src/model/byol-handle'
import { native } from '../src/model/addon'
import { resolveStepOptions } from '../src/training/step-options'
import { classImages, TINY_MODEL } from './data.fixtures'
import { relativeError } from './helpers/compare'

const SIZE = 16

/** Four epochs on 64 class images: enough for the loss to fall with any step option. */
const learningRun = (step: Partial<Parameters<typeof train>[0]>) =>
  train({ data: classImages(64, SIZE), testData: false, imageSize: SIZE, model: TINY_MODEL, device: 'cpu', epochs: 4, batchSize: 16, ...step })

const BATCH = 8

function batches(count: number, n: number, seed: number): BigInt64Array[] {
  let x = seed
  return Array.from({ length: count }, () => {
    const b = new BigInt64Array(BATCH)
    for (let i = 0; i < BATCH; i++) {
      x = (x * 1103515245 + 12345) % 2147483648
      b[i] = BigInt(x % n)
    }
    return b
  })
}

function concat(bs: BigInt64Array[]): BigInt64Array {
  const out = new BigInt64Array(bs.length * BATCH)
  bs.forEach((b, i) => out.set(b, i * BATCH))
  return out
}

async function flatState(model: Byol): Promise<number[]> {
  const out: number[] = []
  for (const network of ['online', 'target'] as const) {
    for (const t of (await model.state(network)).values()) if (t.data instanceof Float32Array) out.push(...t.data)
  }
  return out
}

async function setup(seed = 5) {
  const images = classImages(48, SIZE)
  const dataset = await fromImages(images, { device: 'cpu' })
  const model = await Byol.create({ ...TINY_MODEL, seed })
  const augmenter = await Augmenter.create({ preset: 'byol-cifar', inputSize: SIZE, seed: 9 })
  return { dataset, model, augmenter }
}

test('20 trainer steps equal 20 steps made from views() and step() (same seeds, data and weights)', async (t) => {
  const steps = batches(20, 48, 3)
  const a = await setup()
  const trainer = await native.trainerCreate(modelHandle(a.model), a.dataset.handle, a.augmenter.handle, { batchSize: BATCH })
  const run = await native.trainerRun(trainer, indexTensor(concat(steps)), { lr: 0.06, momentum: 0.99 })
  t.is(run.steps, 20)
  t.is(run.graph, 'eager')
  t.regex(run.reason!, /turned off|need a CUDA device/)
  const trainerLosses = Array.from(await native.trainerLosses(run.losses))

  const b = await setup()
  const stepLosses: number[] = []
  for (const indices of steps) {
    const images = await b.dataset.gather(Array.from(indices, Number))
    const { view0, view1 } = await b.augmenter.views({ data: images.data, shape: images.shape })
    stepLosses.push(await b.model.step(view0, view1, { momentum: 0.99, lr: 0.06 }))
  }
  t.true(relativeError(trainerLosses, stepLosses) <= 1e-5, `losses: relative error ${relativeError(trainerLosses, stepLosses)}`)
  const [wa, wb] = [await flatState(a.model), await flatState(b.model)]
  t.true(relativeError(wa, wb) <= 1e-5, `weights: relative error ${relativeError(wa, wb)}`)
  t.deepEqual(await a.augmenter.state(), await b.augmenter.state(), 'both consumed the same random draws')
})

test('chunking does not change training: lossEvery 1 and 5 give the same losses; a smaller last batch runs too', async (t) => {
  const data = classImages(44, SIZE)
  const common = { data, testData: false as const, imageSize: SIZE, model: TINY_MODEL, device: 'cpu' as const, epochs: 2, batchSize: 8, dropLast: false }
  const one = await train({ ...common, lossEvery: 1 })
  const five = await train({ ...common, lossEvery: 5 })
  t.is(one.steps, 12, '5 full batches and one of 4 per epoch')
  t.deepEqual(five.stepLosses, one.stepLosses)
  t.deepEqual(
    five.history.map((h) => h.loss),
    one.history.map((h) => h.loss),
  )
})

test('bf16 autocast on the CPU: the first step close to float32, weights stay float32, and training learns', async (t) => {
  const fp32 = await setup()
  const bf16 = await setup()
  await bf16.model.setStepOptions({ precision: 'bf16' })
  const steps = concat(batches(1, 48, 4))
  const firstLoss = async (s: Awaited<ReturnType<typeof setup>>) => {
    const trainer = await native.trainerCreate(modelHandle(s.model), s.dataset.handle, s.augmenter.handle, { batchSize: BATCH })
    return (await native.trainerLosses((await native.trainerRun(trainer, indexTensor(steps), { lr: 0.06, momentum: 0.99 })).losses))[0]
  }
  const [l32, l16] = [await firstLoss(fp32), await firstLoss(bf16)]
  t.true(Math.abs(l16 - l32) < 0.03 && l16 !== l32, `first loss ${l16} in bf16, ${l32} in fp32`)
  for (const v of (await bf16.model.state()).values()) t.true(v.data instanceof Float32Array || v.data instanceof BigInt64Array)
  const r = await learningRun({ precision: 'bf16' })
  t.true(r.history[3].loss < r.history[0].loss - 0.05, `bf16 losses ${r.history.map((h) => h.loss.toFixed(3))}`)
})

test('channels-last re-lays the weights, not their values: same embeddings and the same steps', async (t) => {
  const a = await setup()
  const b = await setup()
  await b.model.setStepOptions({ channelsLast: true })
  const images = tensor(
    Float32Array.from({ length: 4 * 3 * SIZE * SIZE }, (_, i) => Math.sin(i)),
    [4, 3, SIZE, SIZE],
  )
  const [ea, eb] = [await a.model.embed(images), await b.model.embed(images)]
  t.true(relativeError(Array.from(eb.data), Array.from(ea.data)) <= 1e-5)
  const la = await a.model.step(images, images, { momentum: 0.99 })
  const lb = await b.model.step(images, images, { momentum: 0.99 })
  t.true(Math.abs(la - lb) <= 1e-5 * Math.abs(la))
  const [sa, sb] = [await a.model.state(), await b.model.state()]
  t.deepEqual([...sb.keys()], [...sa.keys()])
  t.deepEqual(sb.get('backbone.conv1.weight')!.shape, sa.get('backbone.conv1.weight')!.shape)
  // Channels-last convolutions sum in another order, and BatchNorm over 4 images amplifies that
  // in the gradients (~1e-4 of the weights after one step); a layout bug would be O(1).
  t.true(relativeError(await flatState(b.model), await flatState(a.model)) <= 1e-3)
  const before = Array.from((await b.model.embed(images)).data)
  await b.model.setStepOptions({ channelsLast: false })
  t.true(relativeError(Array.from((await b.model.embed(images)).data), before) <= 1e-5, 'switching back keeps the values')
})

test('jointViews runs both views as one batch: a different loss from the same weights, and it learns', async (t) => {
  const apart = await setup()
  const joint = await setup()
  await joint.model.setStepOptions({ jointViews: true })
  const images = tensor(
    Float32Array.from({ length: 8 * 3 * SIZE * SIZE }, (_, i) => Math.sin(i * 0.37)),
    [8, 3, SIZE, SIZE],
  )
  const other = tensor(
    Float32Array.from({ length: 8 * 3 * SIZE * SIZE }, (_, i) => Math.cos(i * 0.11)),
    [8, 3, SIZE, SIZE],
  )
  const [la, lj] = [await apart.model.step(images, other, { momentum: 0.99 }), await joint.model.step(images, other, { momentum: 0.99 })]
  t.true(Number.isFinite(lj) && Math.abs(la - lj) > 1e-6, `BatchNorm over 16 images instead of 8 changes the loss (${la} vs ${lj})`)
  const r = await learningRun({ jointViews: true })
  t.true(r.history[3].loss < r.history[0].loss - 0.05, `joint-view losses ${r.history.map((h) => h.loss.toFixed(3))}`)
})

test('step options: auto resolves per device; bad values fail naming the option', async (t) => {
  t.deepEqual(resolveStepOptions({}, 'cpu'), { precision: 'fp32', cudaGraph: false, channelsLast: true, targetStream: false, jointViews: false, lossEvery: 1 })
  t.deepEqual(resolveStepOptions({}, 'cuda:0'), {
    precision: 'bf16',
    cudaGraph: true,
    channelsLast: true,
    targetStream: true,
    jointViews: false,
    lossEvery: 50,
  })
  t.deepEqual(resolveStepOptions({ precision: 'fp32', cudaGraph: false, lossEvery: 7 }, 'cuda:0').precision, 'fp32')
  t.throws(() => resolveStepOptions({ precision: 'fp16' as never }, 'cpu'), { instanceOf: RangeError, message: /precision must be 'fp32', 'bf16' or 'auto'/ })
  t.throws(() => resolveStepOptions({ targetStream: true }, 'cpu'), { instanceOf: RangeError, message: /targetStream needs a CUDA device/ })
  t.throws(() => resolveStepOptions({ lossEvery: 0 }, 'cpu'), { instanceOf: RangeError, message: /lossEvery must be a positive integer/ })
  t.throws(() => resolveStepOptions({ cudaGraph: 'yes' as never }, 'cpu'), { instanceOf: TypeError, message: /cudaGraph must be true, false or 'auto'/ })
  const { model } = await setup()
  t.throws(() => model.setStepOptions({ targetStream: true }), { instanceOf: RangeError, message: /targetStream needs a CUDA device/ })
  t.throws(() => model.setStepOptions({ precision: 'int8' as never }), { instanceOf: RangeError, message: /precision/ })
})

test('asking for a CUDA graph where there is none runs eagerly and says why in the log', async (t) => {
  const messages: string[] = []
  const r = await train({
    data: classImages(16, SIZE),
    testData: false,
    imageSize: SIZE,
    model: TINY_MODEL,
    device: 'cpu',
    epochs: 1,
    batchSize: 8,
    cudaGraph: true,
    log: (m) => messages.push(m),
  })
  t.is(r.steps, 2)
  t.deepEqual(messages, ['steps run eagerly: CUDA graphs need a CUDA device; the model is on cpu'])
  t.is(runtimeInfo().cudaGraphs, false, 'the CPU build has no CUDA graph support')
})

test('trainer calls validate their inputs', async (t) => {
  const { dataset, model, augmenter } = await setup()
  t.throws(() => native.trainerCreate(modelHandle(model), dataset.handle, augmenter.handle, { batchSize: 1 }), {
    instanceOf: RangeError,
    message: /batchSize must be in \[2/,
  })
  t.throws(() => native.trainerCreate(modelHandle(model), dataset.handle, augmenter.handle, {} as never), {
    instanceOf: TypeError,
    message: /batchSize is required/,
  })
  const trainer = await native.trainerCreate(modelHandle(model), dataset.handle, augmenter.handle, { batchSize: 4 })
  await t.throwsAsync(native.trainerRun(trainer, indexTensor([0, 1, 2, 3, 4, 5]), { lr: 0.1, momentum: 0.9 }), { message: /whole batches/ })
  await t.throwsAsync(native.trainerRun(trainer, indexTensor([0, 1, 2, 48]), { lr: 0.1, momentum: 0.9 }), {
    message: /index 48 is outside the dataset's 48 images/,
  })
  t.throws(() => native.trainerRun(trainer, indexTensor([0, 1, 2, 3]), { lr: 0.1 } as never), { instanceOf: TypeError, message: /momentum is required/ })
  const run = await native.trainerRun(trainer, indexTensor([0, 1, 2, 3]), { lr: 0.1, momentum: 0.9 })
  t.is((await native.trainerLosses(run.losses)).length, 1)
  t.throws(() => native.trainerLosses(run.losses), { message: 'the losses of these 1 steps were already read' })
  t.throws(() => native.trainerRun(model as never, indexTensor([0, 1]), { lr: 0.1, momentum: 0.9 }), {
    instanceOf: TypeError,
    message: /trainer must be a trainer handle returned by trainerCreate/,
  })
  await native.trainerDispose(trainer)
  t.throws(() => native.trainerRun(trainer, indexTensor([0, 1, 2, 3]), { lr: 0.1, momentum: 0.9 }), {
    instanceOf: TypeError,
    message: 'trainer must be a trainer handle returned by trainerCreate; this one was disposed',
  })
})

const cudaHeaders = '/usr/local/cuda/include/cuda_runtime_api.h'
const shimCheck = fs.existsSync(cudaHeaders) && fs.existsSync('/usr/include/ATen/cuda/CUDAGraph.h') ? test : test.skip
shimCheck(
  fs.existsSync(cudaHeaders)
    ? "the shim's CUDA graph and stream code compiles against libtorch's CUDA headers"
    : "the shim's CUDA code compiles [skipped: no CUDA headers at /usr/local/cuda/include]",
  (t) => {
    const script = path.resolve(__dirname, '..', '..', 'scripts', 'check-cuda-shim.sh')
    const out = execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    t.regex(out, /byol_cuda\.cpp: compiles with BYOL_WITH_CUDA/)
  },
)
