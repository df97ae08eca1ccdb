// train(): the Lightly BYOL example (or another preset) on a dataset, from TypeScript.
// JavaScript orchestrates (epochs, schedules, callbacks, checkpoints); the native trainer runs
// whole steps (gather, views, forwards, loss, backward, optimizer, EMA) on the device, in chunks
// of `lossEvery` steps whose losses are read one chunk later, so neither the event loop nor the
// device waits for the other.
import path = require('path')
import {
  CheckpointState,
  CHECKPOINT_FILE,
  checkpointPath,
  EpochLogs,
  LoadedCheckpoint,
  modelOptions,
  readCheckpoint,
  restoreModel,
  saveCheckpoint,
} from './checkpoint'
import { Dataset } from '../data/dataset'
import { epochBatches, batchesPerEpoch } from '../data/epochs'
import { DataSource, describeSource, loadDataSource } from '../data/index'
import { FolderOptions } from '../data/folder'
import { exportBackbone, loadBackbone } from '../export/backbone'
import { modelHandle } from '../model/byol-handle'
import { knnEvaluate } from '../evaluation/knn'
import { Byol, Device } from '../model/byol'
import { native, Native } from '../model/addon'
import { ConfigOverrides, learningRate, resolveConfig, TrainConfig } from './presets'
import { RunDir } from './run-directory'
import { runtimeInfo } from '../model/runtime'
import { cosineSchedule } from './schedule'
import { resolveStepOptions, ResolvedStepOptions, StepOptions } from './step-options'
import { createViews, ViewMaker } from './view-maker'
import { indexTensor } from '../data/dataset'

export type { EpochLogs } from './checkpoint'

/** What `onBatchEnd` receives. */
export interface BatchLogs {
  epoch: number
  /** Batch index within the epoch. */
  batch: number
  batches: number
  loss: number
  lr: number
  momentum: number
  /** Images (pairs of views) per second in this epoch so far (steps only, not evaluation). */
  imagesPerSecond: number
}

/** Callbacks in the style of tfjs `model.fit`; each may return a promise, which is awaited. */
export interface TrainCallbacks {
  onTrainBegin?: (logs: {
    config: TrainConfig
    device: string
    batchesPerEpoch: number
    startEpoch: number
    step: ResolvedStepOptions
  }) => void | Promise<void>
  onEpochBegin?: (epoch: number, logs: { lr: number; momentum: number }) => void | Promise<void>
  /** `step` counts optimizer steps from the start of the run. */
  onBatchEnd?: (step: number, logs: BatchLogs) => void | Promise<void>
  onEpochEnd?: (epoch: number, logs: EpochLogs) => void | Promise<void>
  onTrainEnd?: (result: TrainResult) => void | Promise<void>
}

export interface TrainOptions extends ConfigOverrides, StepOptions {
  /** Training images: a folder (ImageFolder or flat; or a folder with `train/` and `test/`; or the
   * CIFAR-10 binary release), uint8 images in memory, or a dataset. Needed unless resuming. */
  data?: DataSource
  /** Labelled test images for kNN accuracy. Default: the `test` split of `data` when it has one. */
  testData?: DataSource | false
  /** `auto` (default): the first CUDA device when libtorch sees one, else the CPU. */
  device?: Device
  /** Keep the training images on the training device (gather there). `auto`: on CUDA when they
   * take at most 2 GiB. CPU training always keeps them on the CPU. */
  dataOnDevice?: boolean | 'auto'
  /** Evaluate kNN accuracy every N epochs (and after the last); 0 (default): after the last only. */
  evalEvery?: number
  /** A run directory for config.json, metrics.jsonl, plot.svg and checkpoints. */
  runDir?: string
  /** Checkpoint every N epochs (default 1; a checkpoint is also written at the end and on abort). */
  checkpointEvery?: number
  /** Continue the run whose checkpoint is in this run directory (or file); `true`: `runDir`. */
  resume?: string | boolean
  /** Start from these backbone weights (safetensors, torchvision names). */
  init?: string
  /** Stops training once the steps already queued have run (at most one chunk of `lossEvery`
   * steps after the one being reported); a checkpoint is written when there is a run directory. */
  signal?: AbortSignal
  callbacks?: TrainCallbacks
  /** Where messages such as "CUDA graph captured" go (default: standard error). */
  log?: (message: string) => void
  /** Image folders: cache location, corrupt-file handling, decoding progress. */
  cacheDir?: FolderOptions['cacheDir']
  skipCorrupt?: boolean
  onDataProgress?: (split: 'train' | 'test', done: number, total: number) => void
  /** Make the two views without augmentation (both are the normalised images). For tests only. */
  augmenter?: 'none'
}

export interface TrainResult {
  model: Byol
  config: TrainConfig
  /** One entry per completed epoch (including epochs before a resume). */
  history: EpochLogs[]
  /** Mean loss of the last completed epoch. */
  loss?: number
  /** The last kNN top-1 accuracy measured. */
  knnTop1?: number
  /** Completed epochs. */
  epochs: number
  /** Optimizer steps taken (including those before a resume). */
  steps: number
  /** Losses of every step run by this call, in order. */
  stepLosses: number[]
  aborted: boolean
  device: string
  runDir?: string
  checkpoint?: string
  train: Dataset
  test?: Dataset
  /** Wall-clock seconds of this call. */
  seconds: number
}

interface Position {
  epoch: number
  batch: number
}

/** A chunk of steps queued on the device whose losses have not been read yet. */
interface Queued {
  epoch: number
  firstBatch: number
  images: number
  lr: number
  momentum: number
  run: Native.TrainerRunResult
}

function concat(batches: BigInt64Array[]): BigInt64Array {
  const out = new BigInt64Array(batches.reduce((n, b) => n + b.length, 0))
  let at = 0
  for (const b of batches) {
    out.set(b, at)
    at += b.length
  }
  return out
}

const DEVICE_DATA_LIMIT = 2 ** 31

function resolveDevice(device: string | undefined): string {
  if (device === undefined || device === 'auto') return runtimeInfo().cudaAvailable ? 'cuda:0' : 'cpu'
  return device
}

function nonNegativeInteger(name: string, v: number | undefined, fallback: number): number {
  const x = v ?? fallback
  if (!Number.isInteger(x) || x < 0) throw new RangeError(`${name} must be a non-negative integer, got ${v}`)
  return x
}

async function loadTrainData(options: TrainOptions, config: TrainConfig, device: string, fallback?: string) {
  const source = options.data ?? fallback
  if (source === undefined) throw new TypeError('train(): options.data is required (an image folder, images in memory or a dataset)')
  const folder = (split: 'train' | 'test', dev: string) => ({
    imageSize: config.imageSize,
    cacheDir: options.cacheDir,
    skipCorrupt: options.skipCorrupt,
    device: dev,
    onProgress: options.onDataProgress && ((d: number, n: number) => options.onDataProgress!(split, d, n)),
  })
  const onDevice = options.dataOnDevice ?? 'auto'
  const dataDevice = device.startsWith('cuda') && onDevice !== false ? device : 'cpu'
  let train = await loadDataSource(source, 'train', folder('train', dataDevice))
  if (onDevice === 'auto' && train.device !== 'cpu' && train.length * train.height * train.width * 3 > DEVICE_DATA_LIMIT && !(source instanceof Dataset)) {
    train = await loadDataSource(source, 'train', folder('train', 'cpu'))
  }
  let test: Dataset | undefined
  if (options.testData !== false) {
    const testSource = options.testData ?? (typeof source === 'string' ? source : undefined)
    if (testSource !== undefined) {
      try {
        test = await loadDataSource(testSource, 'test', folder('test', train.device))
      } catch (e) {
        // Only an explicitly given test set must load; a path without a test split trains without kNN.
        if (options.testData !== undefined || !/has no test split/.test((e as Error).message)) throw e
      }
    }
  }
  if (test && !train.labelled) {
    throw new Error(`kNN evaluation needs labels on the training data: ${train.meta.source} is unlabelled (use an ImageFolder, or testData: false)`)
  }
  if (test && !test.labelled) throw new Error(`the test data ${test.meta.source} has no labels`)
  if (test && train.classes && test.classes && train.classes.join('\n') !== test.classes.join('\n')) {
    throw new Error(`train and test classes differ: [${train.classes.join(', ')}] vs [${test.classes.join(', ')}]`)
  }
  return { train, test, source }
}

/**
 * Trains a BYOL model. Defaults are Lightly's BYOL example (preset `lightly-example`):
 * ResNet-18, heads 512-1024-256 and 256-1024-256, SGD lr 0.06, batch 256, 10 epochs, target
 * momentum cosine 0.996 -> 1 per epoch, `byol-cifar` augmentations.
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const started = Date.now()
  const runDir = options.runDir ? new RunDir(path.resolve(options.runDir)) : undefined
  let ckpt: LoadedCheckpoint | undefined
  let resumedFrom: string | undefined
  if (options.resume) {
    const from = options.resume === true ? options.runDir : options.resume
    if (!from) throw new TypeError('resume: true needs runDir')
    ckpt = await readCheckpoint(from)
    resumedFrom = checkpointPath(from)
  }
  // A resumed run keeps its configuration; only the number of epochs may be extended.
  const config: TrainConfig = ckpt
    ? { ...ckpt.state.config, epochs: options.epochs ?? ckpt.state.config.epochs }
    : resolveConfig(options)
  const evalEvery = nonNegativeInteger('evalEvery', options.evalEvery, 0)
  const checkpointEvery = nonNegativeInteger('checkpointEvery', options.checkpointEvery, 1)
  const device = resolveDevice(options.device)
  const { train: trainData, test: testData, source } = await loadTrainData(options, config, device, ckpt?.state.data.train)
  const trained = ckpt?.state.data.trainImages
  if (trained !== undefined && trained !== trainData.length) {
    throw new Error(`the checkpoint was trained on ${trained} images but ${trainData.meta.source} holds ${trainData.length}; resume with the same data`)
  }
  const batches = batchesPerEpoch(trainData.length, config.batchSize, config.dropLast)
  if (batches === 0) {
    throw new RangeError(`${trainData.length} training images make no batch of ${config.batchSize} (dropLast: ${config.dropLast}); lower batchSize`)
  }
  if (!config.dropLast && trainData.length % config.batchSize === 1) {
    throw new RangeError(`the last batch would hold 1 image, which training-mode BatchNorm cannot use; use dropLast or another batchSize`)
  }

  const step = resolveStepOptions(options, device)
  const log = options.log ?? ((message: string) => process.stderr.write(`byol: ${message}\n`))
  const model = await Byol.create(modelOptions(config, device))
  if (ckpt) await restoreModel(model, ckpt)
  else if (options.init) await loadBackbone(model, options.init)
  await model.setStepOptions({ precision: step.precision, channelsLast: step.channelsLast, targetStream: step.targetStream, jointViews: step.jointViews })
  const views: ViewMaker = await createViews(config, device, options.augmenter)
  if (ckpt) await views.setState(ckpt.state.augmenter)
  const trainer = await native.trainerCreate(modelHandle(model), trainData.handle, views.handle, {
    batchSize: config.batchSize,
    cudaGraph: step.cudaGraph,
  })

  const history: EpochLogs[] = ckpt ? [...ckpt.state.history] : []
  let position: Position = ckpt ? { ...ckpt.state.position } : { epoch: 0, batch: 0 }
  let epochLosses: number[] = ckpt ? [...ckpt.state.epochLosses] : []
  let epochSeconds = ckpt?.state.epochSeconds ?? 0
  let steps = ckpt?.state.steps ?? 0
  const stepLosses: number[] = []
  const data = { train: describeSource(source)!, test: testData?.meta.source, trainImages: trainData.length }
  const checkpointFile = runDir ? path.join(runDir.dir, CHECKPOINT_FILE) : undefined
  const caption = `${config.preset}, batch ${config.batchSize}, ${trainData.length} images, ${device}`
  if (runDir) {
    await runDir.writeConfig({
      config,
      data,
      device,
      trainImages: trainData.length,
      testImages: testData?.length,
      classes: trainData.classes,
      skipped: trainData.meta.skipped,
      runtime: runtimeInfo(),
      step,
      node: process.version,
      resumedFrom: ckpt ? { position: ckpt.state.position, steps: ckpt.state.steps } : undefined,
    })
    await runDir.writeHistory(history, caption)
  }

  const momentumOf = (epoch: number) =>
    config.momentum.schedule === 'cosine' ? cosineSchedule(epoch, config.epochs, config.momentum.start, config.momentum.end) : config.momentum.start
  const epochCache = new Map<number, BigInt64Array[]>()
  const epochIndices = (epoch: number) => {
    if (!epochCache.has(epoch)) {
      epochCache.clear()
      epochCache.set(epoch, epochBatches(trainData.length, epoch, config))
    }
    return epochCache.get(epoch)!
  }
  let graphState: string | undefined
  const noteGraph = (run: Native.TrainerRunResult) => {
    const state = run.graph === 'eager' ? `eager: ${run.reason}` : run.graph
    if (state === graphState) return
    graphState = state
    if (run.graph === 'graph') log('CUDA graph captured: each step is now one graph replay')
    else if (run.graph === 'eager' && step.cudaGraph) log(`steps run eagerly: ${run.reason}`)
  }

  const checkpointState = async (augmenter: unknown): Promise<CheckpointState> => ({
    format: 1,
    config,
    position,
    steps,
    epochLosses,
    epochSeconds,
    history,
    augmenter,
    data,
    savedAt: new Date().toISOString(),
  })
  let lastCheckpoint: string | undefined = resumedFrom
  const writeCheckpoint = async (augmenter: unknown) => {
    if (!checkpointFile) return
    await saveCheckpoint(checkpointFile, model, await checkpointState(augmenter))
    lastCheckpoint = checkpointFile
  }

  const cb = options.callbacks ?? {}
  await cb.onTrainBegin?.({ config, device, batchesPerEpoch: batches, startEpoch: position.epoch, step })
  let aborted = false
  let inflight: Queued | undefined
  // The epoch's step time: what a resumed checkpoint had, plus the time since this call's part of
  // the epoch began (chunks overlap on the device, so only the running total is meaningful).
  let epochClock = { start: process.hrtime.bigint(), before: epochSeconds, images: 0 }
  // Reads a chunk's losses (waiting for its steps) and reports its steps.
  const report = async (q: Queued) => {
    const losses = await native.trainerLosses(q.run.losses)
    epochSeconds = epochClock.before + Number(process.hrtime.bigint() - epochClock.start) / 1e9
    epochClock.images += q.images
    const rate = epochClock.images / Math.max(epochSeconds - epochClock.before, 1e-9)
    for (let i = 0; i < losses.length; i++) {
      const loss = losses[i]
      if (!Number.isFinite(loss)) {
        throw new Error(
          `loss is ${loss} at step ${steps + 1} (epoch ${q.epoch}, batch ${q.firstBatch + i}); training stopped` +
            (lastCheckpoint ? `; the last good checkpoint is ${lastCheckpoint}` : '') +
            '. A learning rate that is too high is the usual cause.',
        )
      }
      steps++
      epochLosses.push(loss)
      stepLosses.push(loss)
      const logs: BatchLogs = {
        epoch: q.epoch,
        batch: q.firstBatch + i,
        batches,
        loss,
        lr: q.lr,
        momentum: q.momentum,
        imagesPerSecond: rate,
      }
      await cb.onBatchEnd?.(steps, logs)
    }
  }

  try {
    while (position.epoch < config.epochs) {
      const epoch = position.epoch
      const lr = learningRate(config, epoch)
      const momentum = momentumOf(epoch)
      if (position.batch === 0) await cb.onEpochBegin?.(epoch, { lr, momentum })
      const list = epochIndices(epoch)
      epochClock = { start: process.hrtime.bigint(), before: epochSeconds, images: 0 }
      while (position.epoch === epoch && !options.signal?.aborted) {
        // A chunk: up to lossEvery batches of one size (a smaller last batch is a chunk of its own).
        const first = position.batch
        let n = 1
        while (n < step.lossEvery && first + n < batches && list[first + n].length === list[first].length) n++
        const chunk = list.slice(first, first + n)
        const run = await native.trainerRun(trainer, indexTensor(concat(chunk)), { lr, momentum, batchSize: chunk[0].length })
        noteGraph(run)
        const previous = inflight
        inflight = { epoch, firstBatch: first, images: chunk.reduce((a, b) => a + b.length, 0), lr, momentum, run }
        position = first + n < batches ? { epoch, batch: first + n } : { epoch: epoch + 1, batch: 0 }
        // This chunk is queued: now read the previous one, which the device has (nearly) done.
        if (previous) await report(previous)
      }
      const last = inflight
      inflight = undefined
      if (last) await report(last)
      // An abort that came with the epoch's last step lets the epoch end normally (logs, evaluation,
      // checkpoint); the next epoch then stops before its first step.
      if (options.signal?.aborted && position.epoch === epoch) {
        // Every queued step has run: the checkpoint resumes at the next batch with the augmenter as it is now.
        aborted = true
        await writeCheckpoint(await views.state())
        break
      }

      const logs: EpochLogs = {
        epoch,
        loss: epochLosses.reduce((a, b) => a + b, 0) / epochLosses.length,
        lr,
        momentum,
        imagesPerSecond: (epochLosses.length * config.batchSize) / Math.max(epochSeconds, 1e-9),
        seconds: epochSeconds,
        steps: epochLosses.length,
      }
      const final = epoch === config.epochs - 1
      if (testData && (final || (evalEvery > 0 && (epoch + 1) % evalEvery === 0))) {
        logs.knnTop1 = (await knnEvaluate(model, trainData, testData, config.knn)).top1
      }
      history.push(logs)
      epochLosses = []
      epochSeconds = 0
      if (runDir) await runDir.writeHistory(history, caption)
      if (checkpointFile && (final || (checkpointEvery > 0 && (epoch + 1) % checkpointEvery === 0))) {
        await writeCheckpoint(await views.state())
      }
      await cb.onEpochEnd?.(epoch, logs)
    }
  } finally {
    // Wait for steps still queued before returning or throwing.
    const unread = inflight?.run.losses
    if (unread) await Promise.resolve().then(() => native.trainerLosses(unread)).catch(() => undefined)
    // The graph's memory pool and the step buffers go now, not when the handle is collected.
    await native.trainerDispose(trainer)
  }

  if (runDir && !aborted) await exportBackbone(model, runDir.file('backbone'), { 'byol.config': JSON.stringify(config) })
  const evaluated = history.filter((h) => h.knnTop1 !== undefined)
  const result: TrainResult = {
    model,
    config,
    history,
    loss: history.length ? history[history.length - 1].loss : undefined,
    knnTop1: evaluated.length ? evaluated[evaluated.length - 1].knnTop1 : undefined,
    epochs: history.length,
    steps,
    stepLosses,
    aborted,
    device,
    runDir: runDir?.dir,
    checkpoint: lastCheckpoint,
    train: trainData,
    test: testData,
    seconds: (Date.now() - started) / 1000,
  }
  await cb.onTrainEnd?.(result)
  return result
}
