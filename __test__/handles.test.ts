// Every native entry point that takes a handle checks its kind (a Node-API type tag) before it
// touches the memory behind it: another kind of handle or a plain object is a TypeError naming
// the kind it expected, never a read of the wrong memory; so is a trainer that was disposed.
import test from 'ava'
import { Augmenter, Byol, fromImages } from '../src'
import { indexTensor } from '../src/data/dataset'
import { modelHandle } from '../src/model/byol-handle'
import { native } from '../src/model/addon'
import { classImages, TINY_MODEL } from './data.fixtures'
import { freePort } from './helpers/ranks'

type Kind = 'model' | 'dataset' | 'augmenter' | 'trainer' | 'losses' | 'group'

const EXPECTED: Record<Kind, string> = {
  model: 'a model handle returned by byolCreate',
  dataset: 'a dataset handle returned by datasetCreate or datasetLoad',
  augmenter: 'an augmenter handle returned by augmenterCreate',
  trainer: 'a trainer handle returned by trainerCreate',
  losses: 'the losses handle of a trainerRun result',
  group: 'a process group handle returned by groupJoin',
}

// [function, the handle arguments in order (name, kind)]; arguments after the one tested are left
// out. trainerCreate's augmenter may be null (the trainer then takes views made elsewhere).
const OPTIONAL = new Set(['trainerCreate.augmenter'])
const ENTRY_POINTS: [string, [string, Kind][]][] = [
  ['byolStep', [['model', 'model']]],
  ['byolDevice', [['model', 'model']]],
  ['byolUpdateTarget', [['model', 'model']]],
  ['byolForward', [['model', 'model']]],
  ['byolState', [['model', 'model']]],
  ['byolLoadState', [['model', 'model']]],
  ['byolTrainingState', [['model', 'model']]],
  ['byolLoadTrainingState', [['model', 'model']]],
  ['byolSetStepOptions', [['model', 'model']]],
  ['byolEmbedImages', [['model', 'model']]],
  [
    'byolEmbedDataset',
    [
      ['model', 'model'],
      ['dataset', 'dataset'],
    ],
  ],
  [
    'byolKnnEvaluate',
    [
      ['model', 'model'],
      ['train', 'dataset'],
      ['test', 'dataset'],
    ],
  ],
  ['datasetInfo', [['dataset', 'dataset']]],
  ['datasetGather', [['dataset', 'dataset']]],
  ['augmenterViews', [['augmenter', 'augmenter']]],
  ['augmenterParams', [['augmenter', 'augmenter']]],
  ['augmenterState', [['augmenter', 'augmenter']]],
  ['augmenterSetState', [['augmenter', 'augmenter']]],
  [
    'trainerCreate',
    [
      ['model', 'model'],
      ['dataset', 'dataset'],
      ['augmenter', 'augmenter'],
    ],
  ],
  ['trainerRun', [['trainer', 'trainer']]],
  ['trainerDispose', [['trainer', 'trainer']]],
  ['trainerLosses', [['losses', 'losses']]],
  ['trainerCommTime', [['trainer', 'trainer']]],
  ['groupPublish', [['group', 'group']]],
  ['groupWaitFor', [['group', 'group']]],
  ['groupAny', [['group', 'group']]],
  ['groupReportFailure', [['group', 'group']]],
  ['groupLeave', [['group', 'group']]],
]

async function handles(): Promise<Record<Kind, unknown>> {
  const dataset = await fromImages(classImages(16, 8), { device: 'cpu' })
  const model = await Byol.create({ ...TINY_MODEL, seed: 1 })
  const augmenter = await Augmenter.create({ preset: 'byol-cifar', inputSize: 8, seed: 2 })
  const trainer = await native.trainerCreate(modelHandle(model), dataset.handle, augmenter.handle, { batchSize: 4 })
  const run = await native.trainerRun(trainer, indexTensor([0, 1, 2, 3]), { lr: 0.1, momentum: 0.9 })
  // A job of one process, on a port of its own.
  const group = native.distributedBackends().includes('gloo')
    ? await native.groupJoin({ rank: 0, worldSize: 1, masterAddr: '127.0.0.1', masterPort: await freePort() })
    : { notAGroup: true }
  return { model: modelHandle(model), dataset: dataset.handle, augmenter: augmenter.handle, trainer, losses: run.losses, group }
}

test('every entry point refuses every other kind of handle and plain values, naming the kind it expected', async (t) => {
  const valid = await handles()
  const kinds = Object.keys(valid) as Kind[]
  const fns = native as unknown as Record<string, (...args: unknown[]) => unknown>
  let cases = 0
  for (const [fn, params] of ENTRY_POINTS) {
    t.is(typeof fns[fn], 'function', `${fn} is exported`)
    params.forEach(([name, kind], position) => {
      const before = params.slice(0, position).map(([, k]) => valid[k])
      const wrongs: [string, unknown][] = [
        ...kinds.filter((k) => k !== kind).map((k) => [`a ${k} handle`, valid[k]] as [string, unknown]),
        ['a plain object', {}],
        ...(OPTIONAL.has(`${fn}.${name}`) ? [] : [['null', null] as [string, unknown]]),
        ['a number', 42],
      ]
      for (const [what, value] of wrongs) {
        const error = t.throws(() => fns[fn](...before, value), { instanceOf: TypeError }, `${fn}(${name} = ${what})`)
        t.is(error?.message, `${name} must be ${EXPECTED[kind]}`, `${fn}(${name} = ${what})`)
        cases++
      }
    })
  }
  t.is(cases, 263, '33 handle arguments of 28 entry points, 8 wrong values each (7 for the optional augmenter)')
  if (native.distributedBackends().includes('gloo')) await native.groupLeave(valid.group as never)
  await native.trainerLosses(valid.losses as never)
  await native.trainerDispose(valid.trainer as never)
  // A disposed trainer is refused at once, on the JavaScript thread, as no longer a trainer.
  for (const fn of ['trainerRun', 'trainerDispose', 'trainerCommTime']) {
    t.throws(() => fns[fn](valid.trainer, indexTensor([0, 1, 2, 3]), { lr: 0.1, momentum: 0.9 }), {
      instanceOf: TypeError,
      message: `trainer must be ${EXPECTED.trainer}; this one was disposed`,
    })
  }
})
