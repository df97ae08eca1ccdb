// Each augmentation against torchvision's functional op (or PIL's, where Lightly calls PIL) on
// fixed per-image parameters: fixtures from scripts/fixtures/augment.py, byol through its
// `augmentOp` test entry point (the same native functions the view pipeline runs).
import test from 'ava'
import path = require('path')
import { runtimeInfo } from '../src'
import { native } from '../src/model/addon'
import { FIXTURES, readSafetensors } from './helpers/safetensors'

interface Case {
  name: string
  op: string
  input: string
  params: Record<string, number | number[]>
  tolerance: number
  note: string
}

interface F32 {
  data: Float32Array
  shape: number[]
}

const fx = readSafetensors(path.join(FIXTURES, 'augment', 'ops.safetensors'))
const cases = JSON.parse(fx.metadata.cases) as Case[]
const get = (name: string): F32 => {
  const t = fx.tensors.get(name)
  if (!t) throw new Error(`fixture has no tensor ${name}`)
  if (!(t.data instanceof Float32Array)) throw new Error(`fixture tensor ${name} is ${t.dtype}, expected F32`)
  return t as F32
}

test('the fixture holds every transform of the pipeline', (t) => {
  const ops = new Set(cases.map((c) => c.op))
  for (const op of [
    'resized_crop',
    'hflip',
    'vflip',
    'rotate90',
    'rotate',
    'brightness',
    'contrast',
    'saturation',
    'hue',
    'color_jitter',
    'grayscale',
    'gaussian_blur',
    'solarize',
    'normalize',
  ]) {
    t.true(ops.has(op), op)
  }
})

// On CUDA too where libtorch sees a device (the titles say when these are skipped).
const info = runtimeInfo()
const devices = ['cpu', 'cuda'] as const

for (const device of devices) {
  const run = device === 'cpu' || info.cudaAvailable ? test : test.skip
  const where = device === 'cpu' ? '' : info.cudaAvailable ? ' [cuda]' : ` [cuda, skipped: libtorch ${info.libtorch} sees no CUDA device]`
  for (const c of cases) {
    run(`${c.name}: ${c.note || c.op} (max abs error <= ${(c.tolerance * 255).toFixed(2)}/255)${where}`, async (t) => {
      const expected = get(`${c.name}.expected`)
      const out = await native.augmentOp(c.op, get(c.input), c.params, { device })
      t.deepEqual(out.shape, expected.shape)
      let worst = 0
      let at = -1
      for (let i = 0; i < expected.data.length; i++) {
        const d = Math.abs((out.data[i] as number) - expected.data[i])
        if (d > worst) [worst, at] = [d, i]
      }
      // CUDA's float kernels round differently in the last bits (1e-5 more for the exact cases)
      const tolerance = c.tolerance + (device === 'cuda' ? 1e-5 : 0)
      t.true(worst <= tolerance, `max abs error ${(worst * 255).toFixed(3)}/255 at flat index ${at} > ${(tolerance * 255).toFixed(3)}/255`)
    })
  }
}

test('augmentOp rejects an unknown op and missing parameters, naming them', async (t) => {
  const images = get('images32')
  t.throws(() => native.augmentOp('sharpen', images, {}), { instanceOf: RangeError, message: /name must be one of/ })
  t.throws(() => native.augmentOp('hue', images, {}), { instanceOf: TypeError, message: /params\.factor is required/ })
  t.throws(() => native.augmentOp('hue', images, { factor: [0.1] }), { instanceOf: RangeError, message: /params\.factor must hold 4 numbers/ })
})
