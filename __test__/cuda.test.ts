// CUDA paths. Where libtorch sees no CUDA device these tests are skipped, and their titles say so.
import test from 'ava'
import { Byol, runtimeInfo, tensor, Tensor } from '../src'

const info = runtimeInfo()
const cuda = info.cudaAvailable
const cudaTest = cuda ? test : test.skip
const title = (name: string) => (cuda ? name : `${name} [skipped: libtorch ${info.libtorch} sees no CUDA device]`)

const small = { stem: 'cifar', width: 8, projectionHiddenDim: 64, projectionOutputDim: 32, predictionHiddenDim: 64, seed: 3 } as const

function views(n: number, seed: number): Tensor {
  const data = new Float32Array(n * 3 * 32 * 32)
  let x = seed
  for (let i = 0; i < data.length; i++) {
    x = (x * 1103515245 + 12345) % 2147483648
    data[i] = (x / 2147483648) * 4 - 2
  }
  return tensor(data, [n, 3, 32, 32])
}

// TF32 convolutions and cuDNN's algorithms differ from the CPU kernels in the last bits.
function assertClose(t: import('ava').ExecutionContext, actual: ArrayLike<number>, expected: ArrayLike<number>, name: string, tolerance = 2e-3) {
  let maxDiff = 0
  let maxRef = 1e-6
  for (let i = 0; i < expected.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]))
    maxRef = Math.max(maxRef, Math.abs(expected[i]))
  }
  t.true(maxDiff / maxRef <= tolerance, `${name}: relative error ${maxDiff / maxRef}`)
}

cudaTest(title("device 'auto' picks the first CUDA device"), async (t) => {
  const model = await Byol.create({ ...small, device: 'auto' })
  t.is(model.device, 'cuda:0')
})

cudaTest(title('a training step on CUDA matches the same step on the CPU'), async (t) => {
  const cpu = await Byol.create({ ...small, device: 'cpu' })
  const gpu = await Byol.create({ ...small, device: 'cuda' })
  const [v0, v1] = [views(16, 1), views(16, 2)]
  const expected = await cpu.step(v0, v1, { momentum: 0.99 })
  const actual = await gpu.step(v0, v1, { momentum: 0.99 })
  t.true(Math.abs(actual - expected) < 2e-3, `loss ${actual} on CUDA, ${expected} on CPU`)
  for (const network of ['online', 'target'] as const) {
    const cpuState = await cpu.state(network)
    const gpuState = await gpu.state(network)
    for (const [name, entry] of cpuState) {
      const other = gpuState.get(name)!
      if (entry.data instanceof BigInt64Array) t.deepEqual(other.data, entry.data, name)
      else assertClose(t, other.data as Float32Array, entry.data, `${network} ${name}`)
    }
  }
  // Later steps drift apart (cuDNN's TF32 convolutions, PyTorch's default, round differently and
  // a tiny model on 16 images amplifies that), but training follows the same course.
  for (let step = 1; step < 4; step++) {
    const e = await cpu.step(v0, v1, { momentum: 0.99 })
    const a = await gpu.step(v0, v1, { momentum: 0.99 })
    t.true(Math.abs(a - e) < 3e-2, `step ${step}: loss ${a} on CUDA, ${e} on CPU`)
  }
})

cudaTest(title('embeddings on CUDA match the CPU'), async (t) => {
  const cpu = await Byol.create({ ...small, device: 'cpu' })
  const gpu = await Byol.create({ ...small, device: 'cuda:0' })
  const images = views(4, 7)
  const expected = await cpu.embed(images)
  const actual = await gpu.embed(images)
  t.deepEqual(actual.shape, [4, 64])
  assertClose(t, actual.data, expected.data, 'embedding')
})

test('the CPU default model reports its device', async (t) => {
  const model = await Byol.create({ ...small })
  t.is(model.device, 'cpu')
})
