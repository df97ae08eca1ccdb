// runtimeInfo().liveTensors counts native tensor handles: a model adds its parameters and
// buffers, and calls that only compute (embed) leave the count as they found it.
import test from 'ava'
import { Byol, embed, runtimeInfo } from '../src'
import { classImages, TINY_MODEL } from './data.fixtures'

test('a model adds its tensors to liveTensors; embed() calls leave the count unchanged', async (t) => {
  const before = runtimeInfo().liveTensors
  const model = await Byol.create({ ...TINY_MODEL, device: 'cpu' })
  const withModel = runtimeInfo().liveTensors
  t.true(withModel - before >= 2 * 62, `online and target ResNet-18 parameters and buffers at least: ${withModel - before}`)
  const images = classImages(6, 16)
  for (let i = 0; i < 3; i++) await embed(model, images, { batchSize: 4 })
  t.is(runtimeInfo().liveTensors, withModel)
})
