// train(), datasets and kNN on a CUDA device. Where libtorch sees no CUDA device these tests are
// skipped, and their titles say so.
import test from 'ava'
import { Byol, embed, fromImages, knnEvaluate, knnPredict, runtimeInfo, train } from '../src'
import { classImages, TINY_MODEL } from './data.fixtures'

const info = runtimeInfo()
const cudaTest = info.cudaAvailable ? test : test.skip
const title = (name: string) => (info.cudaAvailable ? name : `${name} [skipped: libtorch ${info.libtorch} sees no CUDA device]`)

cudaTest(title('train() on CUDA keeps the images on the GPU, gathers there, and measures kNN accuracy'), async (t) => {
  const r = await train({ data: classImages(128, 32), testData: classImages(32, 32, 4, 2), epochs: 2, batchSize: 32, model: TINY_MODEL, device: 'auto' })
  t.is(r.device, 'cuda:0')
  t.is(r.model.device, 'cuda:0')
  t.is(r.train.device, 'cuda:0', 'dataOnDevice auto keeps small data on the GPU')
  t.is(r.test!.device, 'cuda:0')
  t.true(r.stepLosses.every(Number.isFinite))
  t.is(r.stepLosses.length, 8)
  t.true(r.knnTop1! >= 0 && r.knnTop1! <= 1)
  const onCpu = await train({ data: classImages(64, 32), testData: false, epochs: 1, batchSize: 32, model: TINY_MODEL, device: 'cuda', dataOnDevice: false })
  t.is(onCpu.train.device, 'cpu', 'dataOnDevice: false gathers on the CPU and copies batches')
  t.is(onCpu.steps, 2)
})

cudaTest(title('kNN on CUDA predicts what the CPU vote predicts from the same features'), async (t) => {
  const model = await Byol.create({ ...TINY_MODEL, device: 'cuda', seed: 2 })
  const trainImages = classImages(96, 16, 4, 1)
  const testImages = classImages(40, 16, 4, 2)
  const trainDs = await fromImages(trainImages, { device: 'cuda' })
  const testDs = await fromImages(testImages, { device: 'cuda' })
  const gpu = await knnEvaluate(model, trainDs, testDs, { k: 20 })
  const bank = await embed(model, trainImages)
  const queries = await embed(model, testImages)
  const cpu = await knnPredict(bank, trainImages.labels, queries, { k: 20, numClasses: 4 })
  t.deepEqual(Array.from(gpu.predictions), Array.from(cpu.predictions))
})
