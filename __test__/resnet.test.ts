// ResNet-18 at full width (torchvision's resnet18) against PyTorch (float64) for both stems, on 8
// 32x32 images: eval-mode output, train-mode output, and every BatchNorm buffer after the
// train-mode forward.
import test from 'ava'
import { Byol } from '../src'
import { assertClose, assertState } from './helpers/compare'
import { fixtureConfig, get, images as u8Images, loadFixture, withPrefix } from './helpers/safetensors'
import { loadFormula } from './helpers/weights'

for (const stem of ['imagenet', 'cifar'] as const) {
  test(`ResNet-18 ${stem} stem: eval and train forward and BatchNorm statistics match torchvision`, async (t) => {
    const fx = loadFixture(`resnet-${stem}`)
    const config = fixtureConfig<{ stem: 'imagenet' | 'cifar'; width: number; salt: number }>(fx)
    t.is(config.stem, stem)
    const model = await Byol.create({ stem, width: config.width })
    await loadFormula(model, 'online', config.salt)
    const images = u8Images(fx, 'images')

    // Same order as the generator: eval (twice, eval must not touch the statistics), then train.
    assertClose(t, 'eval output (forward)', await model.forward('online', 'backbone', images), get(fx, 'eval'))
    assertClose(t, 'eval output (embed)', await model.embed(images), get(fx, 'eval'))
    const train = await model.forward('online', 'backbone', images, { train: true })
    assertClose(t, 'train output', train, get(fx, 'train'))

    const state = await model.state('online')
    const buffers = new Map([...state].filter(([name, e]) => e.role === 'buffer' && name.startsWith('backbone.')))
    assertState(t, 'BatchNorm buffers after one train forward', buffers, withPrefix(fx, 'buffers.'))
  })
}

// Evaluation on the CPU runs on a copy of the network folded for oneDNN (crates/byol/src/resnet/
// folded.rs). Whatever changes the weights or the BatchNorm statistics must reach it: each
// embedding below equals that of a fresh model given the same state, which folds from scratch.
test('evaluation follows every change to the weights and statistics', async (t) => {
  const fx = loadFixture('resnet-imagenet')
  const config = fixtureConfig<{ width: number; salt: number }>(fx)
  const images = u8Images(fx, 'images')
  const model = await Byol.create({ width: config.width })
  const fresh = async (network: 'online' | 'target') => {
    const other = await Byol.create({ width: config.width })
    await other.loadState(await model.state(network), network)
    return other.forward(network, 'backbone', images)
  }
  const seen: Float32Array[] = []
  const step = async (what: string, network: 'online' | 'target' = 'online') => {
    const now = (await model.forward(network, 'backbone', images)).data as Float32Array
    t.deepEqual(now, (await fresh(network)).data, `after ${what}: equal to a fresh model with the same state`)
    t.false(
      seen.some((before) => before.every((v, i) => v === now[i])),
      `after ${what}: the embedding changed`,
    )
    seen.push(now)
  }

  await loadFormula(model, 'online', config.salt)
  await step('loading weights')
  await loadFormula(model, 'online', config.salt + 1)
  await step('loading other weights')
  await model.forward('online', 'backbone', images, { train: true })
  await step('a train-mode forward (new BatchNorm statistics)')
  await loadFormula(model, 'target', config.salt + 2)
  await step('loading target weights', 'target')
  await model.updateTarget(0.5)
  await step('a momentum update', 'target')
})
