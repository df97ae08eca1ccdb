// The EMA of the target network against PyTorch (Lightly's update_momentum) on a narrow model whose
// online and target weights differ: parameters only by default (BatchNorm buffers untouched), and
// the float BatchNorm buffers too with `emaBuffers: true` (num_batches_tracked never averaged; the
// online network's are set to 7 so averaging them would show).
import test from 'ava'
import { Byol } from '../src'
import { assertState } from './helpers/compare'
import { fixtureConfig, loadFixture, withPrefix } from './helpers/safetensors'
import { loadFormula } from './helpers/weights'

const fx = loadFixture('momentum')
const config = fixtureConfig<{
  stem: 'imagenet' | 'cifar'
  width: number
  projectionHiddenDim: number
  projectionOutputDim: number
  predictionHiddenDim: number
  momentum: number
  onlineSalt: number
  targetSalt: number
  onlineNumBatchesTracked: number
}>(fx)

const isBuffer = (name: string) => /\.(running_mean|running_var|num_batches_tracked)$/.test(name)

async function setUp(emaBuffers: boolean) {
  const model = await Byol.create({
    stem: config.stem,
    width: config.width,
    projectionHiddenDim: config.projectionHiddenDim,
    projectionOutputDim: config.projectionOutputDim,
    predictionHiddenDim: config.predictionHiddenDim,
    emaBuffers,
  })
  await loadFormula(model, 'online', config.onlineSalt, { numBatchesTracked: BigInt(config.onlineNumBatchesTracked) })
  const before = await loadFormula(model, 'target', config.targetSalt)
  await model.updateTarget(config.momentum)
  return { model, before, after: await model.state('target') }
}

test('updateTarget averages the target parameters and leaves its buffers alone (default)', async (t) => {
  const { before, after } = await setUp(false)
  assertState(t, 'target after updateTarget', after, withPrefix(fx, 'target.'))
  const buffersBefore = new Map([...before].filter(([name]) => isBuffer(name)))
  const buffersAfter = new Map([...after].filter(([name]) => isBuffer(name)))
  t.true(buffersBefore.size > 0)
  assertState(t, 'target buffers unchanged', buffersAfter, buffersBefore, 0)
})

test('updateTarget with emaBuffers also averages running_mean and running_var', async (t) => {
  const { after } = await setUp(true)
  const expected = withPrefix(fx, 'target.')
  for (const [name, tensor] of withPrefix(fx, 'target_ema_buffers.')) expected.set(name, tensor)
  t.true(expected.size === after.size)
  assertState(t, 'target after updateTarget with emaBuffers', after, expected)
})
