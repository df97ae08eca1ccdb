// Bad input from JavaScript must come back as a JS error that names the argument and what was
// expected; nothing may abort or crash the Node process.
import test from 'ava'
import { execFileSync } from 'child_process'
import path from 'path'
import { Byol, negativeCosineLoss, runtimeInfo, State, tensor } from '../src'
import { native } from '../src/model/addon'

const tiny = { stem: 'cifar', width: 4, projectionHiddenDim: 8, projectionOutputDim: 4, predictionHiddenDim: 8 } as const

function images(n: number, size = 8) {
  return tensor(new Float32Array(n * 3 * size * size).fill(0.5), [n, 3, size, size])
}

test('asking for CUDA where there is none names the device and the reason', async (t) => {
  const device = runtimeInfo().cudaAvailable ? 'cuda:99' : 'cuda'
  const error = await t.throwsAsync(Byol.create({ ...tiny, device }))
  t.regex(error!.message, new RegExp(`options.device '${device}' requested, but .*CUDA`))
})

test('unknown devices, stems and out-of-range sizes are RangeErrors naming the field', async (t) => {
  const cases: Array<[object, RegExp]> = [
    [{ device: 'tpu' }, /options.device: unknown device 'tpu'/],
    [{ stem: 'vgg' }, /options.stem must be one of 'imagenet', 'cifar', got 'vgg'/],
    [{ width: 0 }, /options.width must be in \[1, 4096\], got 0/],
    [{ width: 2.5 }, /options.width must be an integer, got 2.5/],
    [{ optimizer: { lr: -1 } }, /options.optimizer.lr must be in \[0, .*\], got -1/],
    [{ optimizer: { name: 'adam' } }, /options.optimizer.name must be one of 'sgd', 'lars', got 'adam'/],
    [{ optimizer: { nesterov: true } }, /nesterov needs momentum > 0 and dampening 0/],
  ]
  for (const [options, message] of cases) {
    const error = await t.throwsAsync(Byol.create({ ...tiny, ...options } as never), { instanceOf: RangeError })
    t.regex(error!.message, message)
  }
})

test('wrongly typed options are TypeErrors naming the field', async (t) => {
  const error = await t.throwsAsync(Byol.create({ ...tiny, width: '8' } as never), { instanceOf: TypeError })
  t.is(error!.message, 'options.width must be a number')
  const emaError = await t.throwsAsync(Byol.create({ ...tiny, emaBuffers: 1 } as never), { instanceOf: TypeError })
  t.is(emaError!.message, 'options.emaBuffers must be a boolean')
})

test('a training step checks its views: shape, dtype, agreement, momentum', async (t) => {
  const model = await Byol.create(tiny)
  const good = images(2)
  const badShape = { data: new Float32Array(2 * 3 * 8 * 8), shape: [2, 3, 8] }
  t.throws(() => model.step(badShape, good, { momentum: 0.99 }), {
    instanceOf: RangeError,
    message: 'view0: shape [2, 3, 8] needs 48 elements but data has 384',
  })
  const oneChannel = tensor(new Float32Array(2 * 8 * 8), [2, 1, 8, 8])
  t.throws(() => model.step(good, oneChannel, { momentum: 0.99 }), {
    instanceOf: RangeError,
    message: 'view1: expected shape [N, 3, H, W], got [2, 1, 8, 8]',
  })
  const bytes = { data: new Uint8Array(2 * 3 * 8 * 8), shape: [2, 3, 8, 8] }
  t.throws(() => model.step(bytes as never, good, { momentum: 0.99 }), {
    instanceOf: TypeError,
    message: 'view0.data must hold float32 values, got uint8',
  })
  t.throws(() => model.step(good, images(3), { momentum: 0.99 }), {
    instanceOf: RangeError,
    message: 'view0 and view1 must have the same shape, got [2, 3, 8, 8] and [3, 3, 8, 8]',
  })
  t.throws(() => model.step(good, good, {} as never), { instanceOf: TypeError, message: 'options.momentum is required (a number)' })
  t.throws(() => model.step(good, good, { momentum: 1.5 }), { instanceOf: RangeError, message: 'options.momentum must be in [0, 1], got 1.5' })
  await t.throwsAsync(model.step(images(1), images(1), { momentum: 0.9 }), {
    message: 'view0: training-mode BatchNorm needs at least 2 images per batch, got 1',
  })
  // The model is still usable after all of that.
  t.true(Number.isFinite(await model.step(good, good, { momentum: 0.99 })))
})

test('loading a parameter store that does not match the model fails before writing anything', async (t) => {
  const model = await Byol.create(tiny)
  const state = await model.state()
  const before = state.get('backbone.conv1.weight')!.data.slice()

  const partial = new Map([...state].slice(0, 3))
  const missing = await t.throwsAsync(model.loadState(partial))
  t.regex(missing!.message, /^parameters do not match the model: missing \[backbone.bn1.running_mean, .*\], unexpected \[\]$/)

  const renamed = new Map(state)
  renamed.set('backbone.fc.weight', state.get('backbone.conv1.weight')!)
  const unexpected = await t.throwsAsync(model.loadState(renamed))
  t.regex(unexpected!.message, /unexpected \[backbone.fc.weight\]/)

  const reshaped: State = new Map(state)
  const zeros = new Float32Array(before.length)
  reshaped.set('backbone.conv1.weight', { data: zeros, shape: [before.length] })
  reshaped.set('backbone.bn1.weight', { data: new Float32Array(4).fill(7), shape: [4] })
  const shapeError = await t.throwsAsync(model.loadState(reshaped))
  t.is(shapeError!.message, `backbone.conv1.weight: expected shape [4, 3, 3, 3], got [${before.length}]`)
  // Nothing was written: bn1.weight (valid, earlier in the map) still holds its old value.
  const after = await model.state()
  t.deepEqual(after.get('backbone.bn1.weight')!.data, state.get('backbone.bn1.weight')!.data)
})

test('running a part with the wrong input names the expected shape', async (t) => {
  const model = await Byol.create(tiny)
  const features = tensor(new Float32Array(2 * 5), [2, 5])
  await t.throwsAsync(model.forward('online', 'projection', features), { message: 'input: expected shape [N, 32], got [2, 5]' })
  await t.throwsAsync(model.forward('target', 'prediction', tensor(new Float32Array(8), [2, 4])), {
    message: 'the target network has no prediction head',
  })
  await t.throwsAsync(model.forward('middle' as never, 'backbone', images(2)), {
    instanceOf: RangeError,
    message: "network must be 'online' or 'target', got 'middle'",
  })
})

test('the loss checks that its four inputs agree', async (t) => {
  const a = tensor(new Float32Array(8), [2, 4])
  const b = tensor(new Float32Array(6), [2, 3])
  await t.throwsAsync(negativeCosineLoss(a, a, b, a), { instanceOf: RangeError, message: "p1: expected shape [N, D] equal to p0's [2, 4], got [2, 3]" })
})

test('a Rust panic becomes a JS error, on the JavaScript thread and on the compute thread', async (t) => {
  t.throws(() => native.__testPanic('sync'), {
    instanceOf: Error,
    message: "internal error in byol's native code: test panic on the JavaScript thread",
  })
  await t.throwsAsync(native.__testPanic('async'), {
    instanceOf: Error,
    message: "internal error in byol's native code: test panic on the compute thread",
  })
  // The compute thread survived its panic: later work still runs there.
  const model = await Byol.create(tiny)
  t.true(Number.isFinite(await model.step(images(2), images(2), { momentum: 0.99 })))
})

test('garbage arguments never crash the process', (t) => {
  // Run in a child so that an abort or segfault shows up as a failed exit instead of killing ava.
  const script = `
    const native = require(${JSON.stringify(path.resolve(__dirname, '..', '..', 'index.js'))})
    const junk = [undefined, null, 0, NaN, -1, 1e300, 'x', {}, [], [1, 2], () => 1, Symbol('s'), 10n,
      { data: new Float32Array(2), shape: [1e12, 1e12] }, { data: new Float64Array(4), shape: [4] },
      { data: new Float32Array(4), shape: [-1, -4] }, { data: 'abc', shape: 'def' }]
    const calls = Object.keys(native).filter((k) => typeof native[k] === 'function')
    const pending = []
    let errors = 0
    // Objects, arrays and nothing are valid byolCreate options (all defaults): they would build
    // full-size models, which the typed tests above already cover.
    const isOptions = (v) => v == null || (typeof v === 'object' && !ArrayBuffer.isView(v.data))
    for (const name of calls) for (const a of junk) for (const b of junk) {
      if (name === 'byolCreate' && isOptions(a)) continue
      try { const r = native[name](a, b, a, b, a); if (r && r.then) pending.push(r.catch(() => errors++)) }
      catch (e) { if (!(e instanceof Error)) throw new Error('non-Error thrown: ' + String(e)); errors++ }
    }
    Promise.all(pending).then(() => console.log('alive', calls.length, errors))
  `
  const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 120_000 })
  const match = /^alive (\d+) (\d+)/.exec(out)
  t.truthy(match, out)
  t.true(Number(match![1]) >= 10, 'every native function was called')
  t.true(Number(match![2]) > 1000, 'the junk was rejected')
})
