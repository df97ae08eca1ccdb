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
