// The augmenter's API: presets and overrides, validation at construction (RangeError/TypeError
// naming the field), views (shapes, layouts, types), seeding and resuming the random stream, the
// pipeline's composition against its single transforms, and the preview PNG.
import test from 'ava'
import fs = require('fs')
import os = require('os')
import path = require('path')
import { Augmenter, previewAugmentations, resolveAugmentOptions, runtimeInfo } from '../src'
import { sharp } from '../src/data/sharp'
import { native } from '../src/model/addon'

/** Deterministic uint8 images `[n, h, w, 3]` with structure (gradients, blocks, noise). */
function images(n: number, h: number, w: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n * h * w * 3)
  let s = seed
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        s = (s * 1103515245 + 12345) >>> 0
        const o = ((i * h + y) * w + x) * 3
        out[o] = (x * 255) / (w - 1)
        out[o + 1] = (y * 255) / (h - 1)
        out[o + 2] = ((x + y + i * 17) % 16 < 8 ? 200 : 30) + ((s >>> 24) % 40)
      }
    }
  }
  return out
}

function toNchw(data: Uint8Array, n: number, h: number, w: number): Uint8Array {
  const out = new Uint8Array(data.length)
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) for (let p = 0; p < h * w; p++) out[(i * 3 + c) * h * w + p] = data[(i * h * w + p) * 3 + c]
  return out
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]))
  return m
}

test('presets reproduce Lightly: byol (224, blur 1.0 / 0.1) and byol-cifar (32, no blur); solarization 0 / 0.2', (t) => {
  const byol = resolveAugmentOptions({ preset: 'byol' })
  for (const v of [byol.view1, byol.view2]) {
    t.is(v.inputSize, 224)
    t.is(v.cjProb, 0.8)
    t.deepEqual([v.cjStrength, v.cjBright, v.cjContrast, v.cjSat, v.cjHue], [1, 0.4, 0.4, 0.2, 0.1])
    t.is(v.minScale, 0.08)
    t.is(v.randomGrayScale, 0.2)
    t.deepEqual(v.sigmas, [0.1, 2])
    t.deepEqual([v.vfProb, v.hfProb, v.rrProb, v.rrDegrees], [0, 0.5, 0, null])
    t.deepEqual(v.normalize, { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] })
  }
  t.deepEqual([byol.view1.gaussianBlur, byol.view2.gaussianBlur], [1, 0.1])
  t.deepEqual([byol.view1.solarizationProb, byol.view2.solarizationProb], [0, 0.2])
  const cifar = resolveAugmentOptions({ preset: 'byol-cifar' })
  t.deepEqual([cifar.view1.inputSize, cifar.view2.inputSize], [32, 32])
  t.deepEqual([cifar.view1.gaussianBlur, cifar.view2.gaussianBlur], [0, 0])
  t.deepEqual([cifar.view1.solarizationProb, cifar.view2.solarizationProb], [0, 0.2])
  t.is(resolveAugmentOptions().view1.inputSize, 224, 'byol is the default preset')
})

test('every field is overridable: top level for both views, view1/view2 for one', (t) => {
  const c = resolveAugmentOptions({
    preset: 'byol-cifar',
    cjStrength: 0.5,
    inputSize: 64,
    rrDegrees: 15,
    view1: { hfProb: 0, sigmas: [0.5, 1], gaussianBlur: 0.3, normalize: false },
    view2: { solarizationProb: 0.5, rrDegrees: [-5, 10], normalize: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] } },
    dtype: 'bfloat16',
  })
  t.deepEqual([c.view1.cjStrength, c.view2.cjStrength, c.view1.inputSize, c.view2.inputSize], [0.5, 0.5, 64, 64])
  t.deepEqual([c.view1.hfProb, c.view2.hfProb], [0, 0.5])
  t.deepEqual([c.view1.gaussianBlur, c.view1.sigmas, c.view2.gaussianBlur], [0.3, [0.5, 1], 0])
  t.deepEqual(
    [c.view1.rrDegrees, c.view2.rrDegrees],
    [
      [-15, 15],
      [-5, 10],
    ],
  )
  t.is(c.view1.normalize, false)
  t.deepEqual(c.view2.normalize, { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] })
  t.is(c.view2.solarizationProb, 0.5)
  t.is(c.dtype, 'bfloat16')
})

const bad: Array<[string, object, new (...args: never[]) => Error, RegExp]> = [
  ['a probability above 1', { view1: { hfProb: 1.5 } }, RangeError, /options\.view1\.hfProb must be a probability in \[0, 1\], got 1\.5/],
  ['a negative probability', { cjProb: -0.1 }, RangeError, /options\.cjProb/],
  ['min_scale 0', { view2: { minScale: 0 } }, RangeError, /options\.view2\.minScale must be in \(0, 1\]/],
  ['min_scale above 1', { minScale: 1.5 }, RangeError, /options\.minScale/],
  ['sigma min > max', { view2: { sigmas: [2, 0.1] } }, RangeError, /options\.view2\.sigmas/],
  ['a negative strength', { cjStrength: -1 }, RangeError, /options\.cjStrength/],
  ['a negative jitter factor', { view1: { cjSat: -0.2 } }, RangeError, /options\.view1\.cjSat/],
  ['a hue range above 0.5', { cjHue: 0.6 }, RangeError, /options\.view1\.cjHue/],
  ['a zero normalisation std', { normalize: { mean: [0, 0, 0], std: [1, 0, 1] } }, RangeError, /normalize\.std/],
  ['an input size of 0', { inputSize: 0 }, RangeError, /options\.inputSize/],
  ['rotation degrees min > max', { rrDegrees: [10, -10] }, RangeError, /rrDegrees/],
  ['an unknown preset', { preset: 'simclr' }, RangeError, /options\.preset must be one of 'byol', 'byol-cifar'/],
  ['a string for a number', { view1: { cjProb: '0.5' } }, TypeError, /options\.view1\.cjProb must be a number/],
  ['sigmas not a list', { sigmas: 1 }, TypeError, /options\.sigmas must be an array/],
  ['a misspelt field', { view2: { hfprob: 0.1 } }, TypeError, /options\.view2\.hfprob is not an augmentation field/],
  ['an unknown dtype', { dtype: 'float16' }, RangeError, /options\.dtype/],
]
for (const [what, options, type, message] of bad) {
  test(`construction fails on ${what} with a ${type.name} naming the field`, async (t) => {
    await t.throwsAsync(Augmenter.create(options as never), { instanceOf: type, message })
    t.throws(() => resolveAugmentOptions(options as never), { instanceOf: type, message })
  })
}

test('views reject images of the wrong dtype or rank', async (t) => {
  const aug = await Augmenter.create({ preset: 'byol-cifar' })
  const data = images(2, 8, 8)
  await t.throwsAsync(aug.views({ data: new Float32Array(data), shape: [2, 8, 8, 3] } as never), {
    instanceOf: TypeError,
    message: /images\.data must hold uint8 values, got float32/,
  })
  await t.throwsAsync(aug.views({ data, shape: [2 * 8, 8, 3] }), { instanceOf: RangeError, message: /expected shape \[N, H, W, 3\]/ })
  await t.throwsAsync(aug.views({ data, shape: [2, 8, 8, 3] }, { layout: 'nchw' }), { instanceOf: RangeError, message: /\[N, 3, H, W\]/ })
  await t.throwsAsync(aug.views({ data, shape: [2, 8, 8, 3] }, { layout: 'hwc' as never }), { instanceOf: RangeError, message: /options\.layout/ })
})

test('views: both normalised views of a batch, [N, 3, S, S], any input size', async (t) => {
  const aug = await Augmenter.create({ preset: 'byol-cifar', view2: { inputSize: 24 } })
  const { view0, view1 } = await aug.views({ data: images(5, 40, 28), shape: [5, 40, 28, 3] })
  t.deepEqual(view0.shape, [5, 3, 32, 32])
  t.deepEqual(view1.shape, [5, 3, 24, 24])
  t.true(view0.data instanceof Float32Array)
  // normalised with ImageNet statistics: values within [(0 - mean) / std, (1 - mean) / std]
  t.true(Array.from(view0.data).every((x) => x >= -0.485 / 0.229 - 1e-4 && x <= (1 - 0.406) / 0.225 + 1e-4))
  t.true(Array.from(view0.data).every(Number.isFinite) && Array.from(view1.data).every(Number.isFinite))
})

test('seeded: the same seed and batch give the same views; another seed other views; images differ within a batch', async (t) => {
  const batch = { data: images(6, 32, 32), shape: [6, 32, 32, 3] }
  const [a, b, c] = await Promise.all([1, 1, 2].map((seed) => Augmenter.create({ preset: 'byol-cifar', seed })))
  const [va, vb, vc] = await Promise.all([a, b, c].map((x) => x.views(batch)))
  t.deepEqual(va.view0.data, vb.view0.data)
  t.deepEqual(va.view1.data, vb.view1.data)
  t.true(maxDiff(va.view0.data, vc.view0.data) > 0.5)
  // a batch of six copies of one image: every copy is augmented differently
  const one = images(1, 32, 32)
  const copies = new Uint8Array(6 * one.length)
  for (let i = 0; i < 6; i++) copies.set(one, i * one.length)
  const { view0 } = await a.views({ data: copies, shape: [6, 32, 32, 3] })
  const per = 3 * 32 * 32
  for (let i = 1; i < 6; i++) t.true(maxDiff(view0.data.subarray(0, per), view0.data.subarray(i * per, (i + 1) * per)) > 0.1)
})

test('resumable: setState(state()) repeats the stream, also in a new augmenter', async (t) => {
  const batch = { data: images(4, 32, 32), shape: [4, 32, 32, 3] }
  const a = await Augmenter.create({ preset: 'byol-cifar', seed: 3 })
  await a.views(batch)
  const saved = await a.state()
  t.true(saved.data instanceof Uint8Array && saved.data.length > 0)
  const first = await a.views(batch)
  const second = await a.views(batch)
  t.notDeepEqual(first.view0.data, second.view0.data)
  await a.setState(saved)
  t.deepEqual((await a.views(batch)).view0.data, first.view0.data)
  const b = await Augmenter.create({ preset: 'byol-cifar', seed: 99 })
  await b.setState(saved)
  const again = await b.views(batch)
  t.deepEqual(again.view0.data, first.view0.data)
  t.deepEqual(again.view1.data, first.view1.data)
  await t.throwsAsync(b.setState({ data: new Uint8Array(7), shape: [7] }))
})

test('layouts: NCHW input gives the NHWC input views; bfloat16 output is close to float32', async (t) => {
  const [n, h, w] = [3, 20, 30]
  const data = images(n, h, w)
  const [a, b, c] = await Promise.all([
    Augmenter.create({ preset: 'byol-cifar', seed: 5 }),
    Augmenter.create({ preset: 'byol-cifar', seed: 5 }),
    Augmenter.create({ preset: 'byol-cifar', seed: 5, dtype: 'bfloat16' }),
  ])
  const nhwc = await a.views({ data, shape: [n, h, w, 3] })
  const nchw = await b.views({ data: toNchw(data, n, h, w), shape: [n, 3, h, w] }, { layout: 'nchw' })
  t.deepEqual(nhwc.view0.data, nchw.view0.data)
  t.deepEqual(nhwc.view1.data, nchw.view1.data)
  const bf16 = await c.views({ data, shape: [n, h, w, 3] })
  t.true(bf16.view0.data instanceof Float32Array)
  t.true(maxDiff(bf16.view0.data, nhwc.view0.data) < 0.02 * 2.7, `bf16 differs by ${maxDiff(bf16.view0.data, nhwc.view0.data)}`)
})

test('with every random transform off, a view is the normalised (resized) image', async (t) => {
  const off = { cjProb: 0, randomGrayScale: 0, gaussianBlur: 0, solarizationProb: 0, hfProb: 0, minScale: 1, inputSize: 16 }
  const aug = await Augmenter.create({ preset: 'byol', ...off })
  const data = images(2, 16, 16)
  const { view0, view1 } = await aug.views({ data, shape: [2, 16, 16, 3] })
  const mean = [0.485, 0.456, 0.406]
  const std = [0.229, 0.224, 0.225]
  const nchw = toNchw(data, 2, 16, 16)
  const expected = Float32Array.from(nchw, (v, i) => (v / 255 - mean[Math.floor(i / 256) % 3]) / std[Math.floor(i / 256) % 3])
  t.true(maxDiff(view0.data, expected) < 1e-5)
  t.true(maxDiff(view1.data, expected) < 1e-5)
})

test('the pipeline is its transforms in Lightly order, on the parameters it draws', async (t) => {
  // Same seed: `params` draws exactly what `views` draws. Replay the drawn parameters through
  // the single transforms: crop, quarter turn, hflip, vflip, jitter, grayscale, solarize, normalize.
  const options = { preset: 'byol-cifar' as const, seed: 11, rrProb: 0.5, vfProb: 0.5, view2: { solarizationProb: 0.5 } }
  const [n, h, w] = [16, 36, 30]
  const data = images(n, h, w, 4)
  const p = await (await Augmenter.create(options)).params(n, h, w)
  const views = await (await Augmenter.create(options)).views({ data, shape: [n, h, w, 3] })
  const x = { data: Float32Array.from(toNchw(data, n, h, w), (v) => v / 255), shape: [n, 3, h, w] }
  for (const [which, v, out] of [
    ['view1', p.view1, views.view0],
    ['view2', p.view2, views.view1],
  ] as const) {
    const arr = (a: Float32Array) => Array.from(a)
    let y = await native.augmentOp('resized_crop', x, { top: arr(v.top), left: arr(v.left), height: arr(v.height), width: arr(v.width), size: 32 })
    y = await native.augmentOp('rotate90', y, { flag: arr(v.rotate) })
    y = await native.augmentOp('hflip', y, { flag: arr(v.hflip) })
    y = await native.augmentOp('vflip', y, { flag: arr(v.vflip) })
    // images without jitter: identity factors in any order
    const factors: number[] = []
    for (let i = 0; i < n; i++) {
      factors.push(...(v.jitter[i] ? [v.brightness[i], v.contrast[i], v.saturation[i], v.hue[i]] : [1, 1, 1, 0]))
    }
    y = await native.augmentOp('color_jitter', y, { factors, order: arr(v.order) })
    y = await native.augmentOp('grayscale', y, { flag: arr(v.grayscale) })
    y = await native.augmentOp('solarize', y, { flag: arr(v.solarize) })
    y = await native.augmentOp('normalize', y, { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] })
    t.deepEqual(y.shape, out.shape)
    t.true(maxDiff(y.data as Float32Array, out.data) < 1e-4, `${which}: ${maxDiff(y.data as Float32Array, out.data)}`)
    t.true(arr(v.rotate).some((r) => r === 1) && arr(v.vflip).some((f) => f === 1), 'the draw exercises rotations and flips')
  }
})

test('CPU grouping by jitter stages and blur gives the views of the masked pipeline (the one CUDA runs)', async (t) => {
  const batch = { data: images(40, 24, 28, 6), shape: [40, 24, 28, 3] }
  for (const options of [
    { preset: 'byol-cifar' as const, seed: 21, rrProb: 0.3, cjStrength: 1.5 },
    { preset: 'byol' as const, seed: 22, inputSize: 20, view1: { gaussianBlur: 0.5 } },
  ]) {
    const grouped = await (await Augmenter.create(options)).views(batch)
    const masked = await (await Augmenter.create({ ...options, cpuGrouping: false })).views(batch)
    t.true(maxDiff(grouped.view0.data, masked.view0.data) < 1e-5, options.preset)
    t.true(maxDiff(grouped.view1.data, masked.view1.data) < 1e-5, options.preset)
  }
})

test('any-angle rotations run where rrDegrees is set', async (t) => {
  const aug = await Augmenter.create({
    preset: 'byol-cifar',
    rrProb: 1,
    rrDegrees: 30,
    minScale: 1,
    cjProb: 0,
    randomGrayScale: 0,
    hfProb: 0,
    solarizationProb: 0,
    normalize: false,
  })
  const data = images(4, 32, 32)
  const { view0 } = await aug.views({ data, shape: [4, 32, 32, 3] })
  // rotated images have black corners where the source is bright
  const corners = [0, 31, 32 * 31, 32 * 32 - 1]
  let black = 0
  for (let i = 0; i < 4; i++) for (const c of corners) if (view0.data[i * 3072 + c] === 0 && view0.data[i * 3072 + 1024 + c] === 0) black++
  t.true(black > 0)
})

test('previewAugmentations writes a PNG grid: a row per image, the original and samples of both views', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'byol-preview-'))
  const folder = path.join(dir, 'images')
  fs.mkdirSync(path.join(folder, 'a'), { recursive: true })
  fs.mkdirSync(path.join(folder, 'b'), { recursive: true })
  for (const [i, name] of ['a/1.png', 'a/2.png', 'b/3.png'].entries()) {
    const [h, w] = [24 + 8 * i, 32]
    await sharp()(images(1, h, w, i + 1), { raw: { width: w, height: h, channels: 3 } })
      .png()
      .toFile(path.join(folder, name))
  }
  const out = path.join(dir, 'views.png')
  const r = await previewAugmentations({ data: folder, out, preset: 'byol-cifar', images: 3, samples: 2, seed: 1 })
  t.deepEqual(r.files, ['a/1.png', 'a/2.png', 'b/3.png'])
  const { info } = await sharp()(out).raw().toBuffer({ resolveWithObject: true })
  t.deepEqual([info.width, info.height], [r.width, r.height])
  t.true(r.height > 3 * 96 && r.width > 5 * 96)
  await t.throwsAsync(previewAugmentations({ data: folder, out, samples: 0 }), { instanceOf: RangeError, message: /samples/ })
  fs.rmSync(dir, { recursive: true, force: true })
})

const info = runtimeInfo()
const cudaTest = info.cudaAvailable ? test : test.skip
const onCuda = (name: string) => (info.cudaAvailable ? name : `${name} [skipped: libtorch ${info.libtorch} sees no CUDA device]`)

cudaTest(onCuda('CUDA: views never wait for the device, are seeded and resumable, and match the CPU in distribution'), async (t) => {
  const [n, h, w] = [256, 32, 32]
  const batch = { data: images(n, h, w, 9), shape: [n, h, w, 3] }
  for (const preset of ['byol-cifar', 'byol'] as const) {
    // cudaSyncCheck: libtorch fails any operation that would make the host wait for the GPU
    const [a, b] = await Promise.all([1, 1].map(() => Augmenter.create({ preset, seed: 4, device: 'cuda', cudaSyncCheck: true })))
    const saved = await a.state()
    const first = await a.views(batch)
    t.deepEqual(first.view0.shape, [n, 3, preset === 'byol' ? 224 : 32, preset === 'byol' ? 224 : 32])
    t.true(Array.from(first.view1.data).every(Number.isFinite))
    // compared in a loop: ava's deepEqual cannot enumerate the 38M elements of the 224-pixel views
    const same = (x: Float32Array, y: Float32Array) => x.length === y.length && x.every((v, i) => Object.is(v, y[i]))
    t.true(same((await b.views(batch)).view0.data, first.view0.data), `${preset}: same seed, same views`)
    await a.setState(saved)
    t.true(same((await a.views(batch)).view1.data, first.view1.data), `${preset}: resumed stream`)
    // the CPU's views of the same images: same distribution of values (other random draws)
    const cpu = await (await Augmenter.create({ preset, seed: 4 })).views(batch)
    for (const key of ['view0', 'view1'] as const) {
      const stats = (a: Float32Array) => {
        const m = a.reduce((s, x) => s + x, 0) / a.length
        return [m, Math.sqrt(a.reduce((s, x) => s + (x - m) ** 2, 0) / a.length)]
      }
      const [gm, gs] = stats(first[key].data)
      const [cm, cs] = stats(cpu[key].data)
      t.true(Math.abs(gm - cm) < 0.1 && Math.abs(gs - cs) < 0.1, `${preset} ${key}: cuda mean/std ${gm}/${gs}, cpu ${cm}/${cs}`)
    }
  }
})
