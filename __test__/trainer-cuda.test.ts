// The CUDA-graph training step against the eager step, on the same data, seeds and weights.
// Where libtorch sees no CUDA device (or the shim has no CUDA graphs) these tests are skipped,
// and their titles say so.
import test from 'ava'
import { Augmenter, Byol, fromImages, runtimeInfo } from '../src'
import { indexTensor } from '../src/data/dataset'
import { modelHandle } from '../src/model/byol-handle'
import { native, Native } from '../src/model/addon'
import { classImages } from './data.fixtures'
import { relativeError } from './helpers/compare'

const info = runtimeInfo()
const ready = info.cudaAvailable && info.cudaGraphs
const cudaTest = ready ? test : test.skip
// ava runs serial tests before the concurrent ones, so a global setting they change stays theirs.
const cudaSerial = ready ? test.serial : test.serial.skip
const why = !info.cudaAvailable ? `libtorch ${info.libtorch} sees no CUDA device` : 'the shim was built without CUDA graphs'
const title = (name: string) => (ready ? name : `${name} [skipped: ${why}]`)

const MODEL = { stem: 'cifar', width: 16, projectionHiddenDim: 128, projectionOutputDim: 64, predictionHiddenDim: 128, seed: 7 } as const
const BATCH = 32

function indices(steps: number, n: number, seed: number): BigInt64Array {
  const out = new BigInt64Array(steps * BATCH)
  let x = seed
  for (let i = 0; i < out.length; i++) {
    x = (x * 1103515245 + 12345) % 2147483648
    out[i] = BigInt(x % n)
  }
  return out
}

async function trainer(step: Native.NativeStepOptions, cudaGraph: boolean) {
  const dataset = await fromImages(classImages(256, 32), { device: 'cuda' })
  const model = await Byol.create({ ...MODEL, device: 'cuda' })
  await model.setStepOptions(step)
  const augmenter = await Augmenter.create({ preset: 'byol-cifar', device: 'cuda', seed: 11 })
  const handle = await native.trainerCreate(modelHandle(model), dataset.handle, augmenter.handle, { batchSize: BATCH, cudaGraph })
  const run = async (steps: number, seed: number, lr = 0.06, momentum = 0.99) => {
    const r = await native.trainerRun(handle, indexTensor(indices(steps, 256, seed)), { lr, momentum })
    return { ...r, values: Array.from(await native.trainerLosses(r.losses)) }
  }
  return { model, run }
}

async function weights(model: Byol): Promise<number[]> {
  const out: number[] = []
  for (const network of ['online', 'target'] as const) {
    for (const t of (await model.state(network)).values()) if (t.data instanceof Float32Array) out.push(...t.data)
  }
  return out
}

cudaSerial(title('float32: 20 graph-replayed steps equal 20 eager steps (relative error <= 1e-5), target on its own stream'), async (t) => {
  // Deterministic cuDNN algorithms, so that the comparison measures the graph, not atomics.
  native.runtimeSetCudnnDeterministic(true)
  t.teardown(() => native.runtimeSetCudnnDeterministic(false))
  const graphed = await trainer({ precision: 'fp32', targetStream: true }, true)
  const eager = await trainer({ precision: 'fp32' }, false)
  const g = await graphed.run(20, 1)
  const e = await eager.run(20, 1)
  t.is(g.graph, 'graph', g.reason)
  t.is(e.graph, 'eager')
  t.true(relativeError(g.values, e.values) <= 1e-5, `losses: relative error ${relativeError(g.values, e.values)}`)
  const [wg, we] = [await weights(graphed.model), await weights(eager.model)]
  t.true(relativeError(wg, we) <= 1e-5, `weights: relative error ${relativeError(wg, we)}`)
})

cudaTest(title('bf16 channels-last: graph and eager loss curves stay within 1e-2 over 200 steps'), async (t) => {
  const step = { precision: 'bf16', channelsLast: true } as const
  const graphed = await trainer({ ...step, targetStream: true }, true)
  const eager = await trainer(step, false)
  const g = await graphed.run(200, 2)
  const e = await eager.run(200, 2)
  t.is(g.graph, 'graph', g.reason)
  const worst = Math.max(...g.values.map((l, i) => Math.abs(l - e.values[i])))
  t.true(worst <= 1e-2, `largest loss difference ${worst}`)
  t.true(g.values.every(Number.isFinite))
})

cudaTest(title('a captured graph reads the learning rate and momentum on every replay'), async (t) => {
  const { model, run } = await trainer({ precision: 'fp32' }, true)
  const warm = await run(3, 3)
  t.is(warm.graph, 'warmup', 'three eager warm-up steps come first')
  t.is((await run(2, 4)).graph, 'graph')
  const before = await weights(model)
  // lr 0 and momentum 1: a replay may change only BatchNorm statistics, never a weight
  await run(3, 5, 0, 1)
  const after = await weights(model)
  const parameters = (await model.state('online')).size
  t.true(parameters > 0)
  const changed = after.filter((w, i) => w !== before[i]).length
  const stats = [...(await model.state('online')).entries(), ...(await model.state('target')).entries()]
    .filter(([name, v]) => v.role === 'buffer' && v.data instanceof Float32Array)
    .reduce((n, [, v]) => n + v.data.length, 0)
  t.true(changed <= stats, `${changed} values changed; only ${stats} BatchNorm statistics may`)
  const moved = await run(3, 6, 0.5, 0.5)
  t.true(moved.values.every(Number.isFinite))
  t.true((await weights(model)).some((w, i) => w !== after[i]))
})

cudaTest(title('peak GPU memory is reported and can be reset'), async (t) => {
  const { run } = await trainer({ precision: 'bf16', channelsLast: true }, true)
  await run(5, 7)
  const peak = await native.cudaPeakMemory('cuda:0', { reset: true })
  t.true(peak.allocated > 0 && peak.reserved >= peak.allocated)
  t.throws(() => native.cudaPeakMemory('cpu'), { instanceOf: RangeError, message: /CUDA device/ })
})
