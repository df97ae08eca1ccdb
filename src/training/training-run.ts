// One training run: its model, data, native trainer, progress and run directory, opened (fresh
// or from a checkpoint) by `open`, advanced an epoch at a time by train(), closed by `close`.
// JavaScript orchestrates (epochs, schedules, callbacks, checkpoints); the native trainer runs
// whole steps (gather, views, forwards, loss, backward, optimizer, EMA) on the device.
import path = require('path')
import { Dataset, indexTensor } from '../data/dataset'
import { epochBatches } from '../data/epochs'
import { describeSource } from '../data/index'
import { DataParallelJob, resolveDistributed } from '../distributed/job'
import { knnEvaluate } from '../evaluation/knn'
import { exportBackbone, loadBackbone } from '../export/backbone'
import { native, Native } from '../model/addon'
import { Byol } from '../model/byol'
import { modelHandle } from '../model/byol-handle'
import { runtimeInfo } from '../model/runtime'
import {
  CHECKPOINT_FILE,
  checkpointPath,
  checkpointState,
  CheckpointState,
  EpochLogs,
  LoadedCheckpoint,
  modelOptions,
  readCheckpoint,
  restoreModel,
  RunProgress,
  runProgress,
  saveCheckpoint,
} from './checkpoint'
import { Chunk, chunkLength, ChunkQueue, concatBatches } from './chunk-queue'
import { learningRate, resolveConfig, TrainConfig } from './presets'
import { resumeConflicts } from './resume'
import { RunDir } from './run-directory'
import { cosineSchedule } from './schedule'
import { resolveStepOptions, ResolvedStepOptions } from './step-options'
import { loadTrainData, trainBatches } from './train-data'
import type { BatchLogs, TrainCallbacks, TrainOptions, TrainResult } from './train-options'
import { createViews, ViewMaker } from './view-maker'

/** The training device; in a data-parallel job on CUDA, the GPU of this process's local rank. */
function resolveDevice(device: string | undefined, localRank?: number): string {
  const cuda = localRank === undefined ? 'cuda:0' : `cuda:${localRank}`
  if (device === undefined || device === 'auto') return runtimeInfo().cudaAvailable ? cuda : 'cpu'
  if (device === 'cuda' && localRank !== undefined) return cuda
  return device
}

/** Each rank's augmentations draw from their own stream: distinct across ranks, reproducible per rank
 * (rank 0's is the single-process stream). */
function rankSeed(seed: number, rank: number): number {
  return rank === 0 ? seed : (seed + rank * 1_000_003) % 2 ** 31
}

function nonNegativeInteger(name: string, v: number | undefined, fallback: number): number {
  const x = v ?? fallback
  if (!Number.isInteger(x) || x < 0) throw new RangeError(`${name} must be a non-negative integer, got ${v}`)
  return x
}

/** Everything `open` sets up, fixed for the run. */
interface Setup {
  options: TrainOptions
  started: number
  config: TrainConfig
  device: string
  step: ResolvedStepOptions
  model: Byol
  views: ViewMaker
  trainer: Native.TrainerHandle
  train: Dataset
  test?: Dataset
  batches: number
  evalEvery: number
  checkpointEvery: number
  data: CheckpointState['data']
  runDir?: RunDir
  progress: RunProgress
  resumedFrom?: string
  /** The data-parallel job this process is a rank of (none when training alone). */
  job?: DataParallelJob
  /** This process's images of a global batch (all of them when training alone). */
  localBatch: (batch: BigInt64Array) => BigInt64Array | undefined
}

export class TrainingRun {
  private readonly cb: TrainCallbacks
  private readonly log: (message: string) => void
  private readonly queue = new ChunkQueue()
  private readonly progress: RunProgress
  /** Losses of every step run by this call, in order. */
  private readonly stepLosses: number[] = []
  private lastCheckpoint: string | undefined
  private communication: TrainResult['communication']
  private aborted = false
  private graphState: string | undefined
  // The epoch's step time: what a resumed checkpoint had, plus the time since this call's part of
  // the epoch began (chunks overlap on the device, so only the running total is meaningful).
  private epochClock = { start: process.hrtime.bigint(), before: 0, images: 0 }

  private constructor(private readonly s: Setup) {
    this.cb = s.options.callbacks ?? {}
    this.log = s.options.log ?? ((message: string) => process.stderr.write(`byol: ${message}\n`))
    this.progress = s.progress
    this.lastCheckpoint = s.resumedFrom
  }

  /** Loads the data, builds (or restores) the model and the trainer, writes the run directory's
   * config and history, and calls `onTrainBegin`. */
  static async open(options: TrainOptions): Promise<TrainingRun> {
    const distributed = resolveDistributed(options.distributed)
    const device = resolveDevice(options.device, distributed?.localRank)
    const job = distributed ? await DataParallelJob.join(distributed, device) : undefined
    try {
      return await TrainingRun.openOn(options, device, job)
    } catch (e) {
      await job?.fail(e)
      throw e
    }
  }

  private static async openOn(options: TrainOptions, device: string, job: DataParallelJob | undefined): Promise<TrainingRun> {
    const started = Date.now()
    const main = job?.isMain ?? true
    // Rank 0 alone writes the run directory and reads the checkpoint; the others get its state.
    const runDir = options.runDir && main ? new RunDir(path.resolve(options.runDir)) : undefined
    let ckpt: LoadedCheckpoint | undefined
    let resumedFrom: string | undefined
    let resumed: CheckpointState | undefined
    if (options.resume) {
      const from = options.resume === true ? options.runDir : options.resume
      if (!from) throw new TypeError('resume: true needs runDir')
      if (main) {
        ckpt = await readCheckpoint(from)
        resumedFrom = checkpointPath(from)
        const conflicts = resumeConflicts(ckpt.state.config, options)
        if (conflicts.length) {
          throw new Error(
            `cannot resume ${resumedFrom} with another configuration (checkpoint -> now): ${conflicts.join(', ')}; ` +
              `resume without these options (only epochs may change) or start a new run`,
          )
        }
      }
      resumed = job ? await job.fromMain('resume', ckpt?.state) : ckpt!.state
      const ranks = resumed.distributed?.worldSize ?? 1
      if (ranks !== (job?.worldSize ?? 1)) {
        throw new Error(
          `the checkpoint ${resumedFrom ?? 'of rank 0'} was written by a job of ${ranks} process(es), and each kept its own augmentation stream; ` +
            `resume it with ${ranks} process(es)${ranks > 1 ? ` (--nproc-per-node ${ranks}, or WORLD_SIZE=${ranks})` : ' (without a launcher)'}`,
        )
      }
    }
    // A resumed run keeps its configuration; only the number of epochs may be extended.
    const config: TrainConfig = resumed
      ? { ...resumed.config, accumulate: resumed.config.accumulate ?? 1, epochs: options.epochs ?? resumed.config.epochs }
      : resolveConfig(options)
    const ranks = job?.worldSize ?? 1
    const perRank = config.batchSize / ranks
    if (!Number.isInteger(perRank) || perRank % config.accumulate !== 0 || perRank / config.accumulate < 2) {
      throw new RangeError(
        `batchSize ${config.batchSize} must split into ${ranks} process(es) x ${config.accumulate} micro-batch(es) of at least 2 equal parts; ` +
          `choose a batchSize that is a multiple of ${2 * ranks * config.accumulate}`,
      )
    }
    const evalEvery = nonNegativeInteger('evalEvery', options.evalEvery, 0)
    const checkpointEvery = nonNegativeInteger('checkpointEvery', options.checkpointEvery, 1)
    await runDir?.check()
    // kNN evaluation runs on rank 0 only, so only it needs the test images.
    const { train, test, source } = await loadTrainData(main ? options : { ...options, testData: false }, config, device, resumed?.data.train)
    trainBatches(train, config, resumed?.data.trainImages)
    const localBatch = (batch: BigInt64Array) => {
      const share = Math.floor(batch.length / ranks / config.accumulate) * config.accumulate
      return share >= 2 * config.accumulate ? batch.subarray((job?.rank ?? 0) * share, ((job?.rank ?? 0) + 1) * share) : undefined
    }
    const batches = epochBatches(train.length, 0, config).filter((b) => localBatch(b) !== undefined).length

    const step = resolveStepOptions(options, device)
    const model = await Byol.create(modelOptions(config, device))
    if (ckpt) await restoreModel(model, ckpt)
    else if (resumed) await native.byolLoadTrainingState(modelHandle(model), { steps: resumed.steps, momentumBuffers: null })
    else if (options.init && main) await loadBackbone(model, options.init)
    await model.setStepOptions({ precision: step.precision, channelsLast: step.channelsLast, targetStream: step.targetStream, jointViews: step.jointViews })
    const views = await createViews({ ...config, seed: rankSeed(config.seed, job?.rank ?? 0) }, device, options.augmenter)
    if (resumed) await views.setState(job ? resumed.distributed!.augmenters[job.rank] : resumed.augmenter)
    // With a job, every rank now takes rank 0's weights, statistics and optimizer state.
    const trainer = await native.trainerCreate(modelHandle(model), train.handle, views.handle, {
      batchSize: perRank,
      cudaGraph: step.cudaGraph && !job,
      accumulate: config.accumulate,
      group: job?.handle,
      overlap: job?.options.overlap ?? device.startsWith('cuda'),
      bucketMegabytes: job?.options.bucketMegabytes,
    })
    const data = { train: describeSource(source)!, test: test?.meta.source, trainImages: train.length }
    const run = new TrainingRun({
      options,
      started,
      config,
      device,
      step,
      model,
      views,
      trainer,
      train,
      test,
      batches,
      evalEvery,
      checkpointEvery,
      data,
      runDir,
      progress: runProgress(resumed),
      resumedFrom,
      job,
      localBatch,
    })
    if (runDir) {
      await runDir.writeConfig({
        config,
        data,
        device,
        trainImages: train.length,
        testImages: test?.length,
        classes: train.classes,
        skipped: train.meta.skipped,
        runtime: runtimeInfo(),
        step,
        node: process.version,
        distributed: job
          ? { worldSize: job.worldSize, backend: job.backend, masterAddr: job.options.masterAddr, masterPort: job.options.masterPort }
          : undefined,
        resumedFrom: ckpt ? { position: ckpt.state.position, steps: ckpt.state.steps } : undefined,
      })
      await run.writeHistory()
    }
    await run.cb.onTrainBegin?.({
      config,
      device,
      batchesPerEpoch: batches,
      startEpoch: run.progress.position.epoch,
      step,
      rank: job?.rank ?? 0,
      worldSize: ranks,
    })
    return run
  }

  /** The epochs still to train, from the one the run stands in; none after an abort. */
  *epochs(): Generator<number> {
    while (this.progress.position.epoch < this.s.config.epochs && !this.aborted) yield this.progress.position.epoch
  }

  /** Runs the rest of `epoch`'s steps, a chunk at a time, reading each chunk's losses once the
   * next is queued. An abort stops after the steps already queued and writes a checkpoint. */
  async trainEpoch(epoch: number): Promise<void> {
    const { config, step, batches, options } = this.s
    const lr = learningRate(config, epoch)
    const momentum = this.momentumAt(epoch)
    if (this.progress.position.batch === 0) await this.cb.onEpochBegin?.(epoch, { lr, momentum })
    const list = epochBatches(this.s.train.length, epoch, config)
      .map(this.s.localBatch)
      .filter((b): b is BigInt64Array => b !== undefined)
    this.epochClock = { start: process.hrtime.bigint(), before: this.progress.epochSeconds, images: 0 }
    const ranks = this.s.job?.worldSize ?? 1
    let stop = false
    while (this.progress.position.epoch === epoch && !(stop = await this.stopRequested())) {
      const first = this.progress.position.batch
      const chunk = list.slice(first, first + chunkLength(list, first, step.lossEvery))
      const run = await native.trainerRun(this.s.trainer, indexTensor(concatBatches(chunk)), { lr, momentum, batchSize: chunk[0].length })
      this.noteGraph(run)
      const next = first + chunk.length
      this.progress.position = next < batches ? { epoch, batch: next } : { epoch: epoch + 1, batch: 0 }
      // This chunk is queued: now read the previous one, which the device has (nearly) done.
      const images = chunk.reduce((a, b) => a + b.length, 0) * ranks
      const done = await this.queue.push({ epoch, firstBatch: first, images, lr, momentum, run })
      if (done) await this.report(done.chunk, done.losses)
    }
    const last = await this.queue.flush()
    if (last) await this.report(last.chunk, last.losses)
    // An abort that came with the epoch's last step lets the epoch end normally (logs, evaluation,
    // checkpoint); the next epoch then stops before its first step.
    if (stop && this.progress.position.epoch === epoch) {
      // Every queued step has run: the checkpoint resumes at the next batch with the augmenter as it is now.
      this.aborted = true
      await this.writeCheckpoint()
    }
  }

  /** After an epoch's last step: its logs, kNN evaluation, history, checkpoint and `onEpochEnd`. */
  async endEpoch(epoch: number): Promise<void> {
    if (this.aborted) return
    const { config, test, evalEvery, checkpointEvery } = this.s
    const p = this.progress
    const logs: EpochLogs = {
      epoch,
      loss: p.epochLosses.reduce((a, b) => a + b, 0) / p.epochLosses.length,
      lr: learningRate(config, epoch),
      momentum: this.momentumAt(epoch),
      imagesPerSecond: (p.epochLosses.length * config.batchSize) / Math.max(p.epochSeconds, 1e-9),
      seconds: p.epochSeconds,
      steps: p.epochLosses.length,
    }
    const final = epoch === config.epochs - 1
    const job = this.s.job
    const checkpoint = final || (checkpointEvery > 0 && (epoch + 1) % checkpointEvery === 0)
    const follower = job !== undefined && !job.isMain
    if (follower) {
      // Rank 0 evaluates and writes: this rank hands it its augmenter state and takes its logs.
      if (checkpoint) await this.writeCheckpoint()
      Object.assign(logs, await job.fromMain<EpochLogs>(`epoch/${epoch}`))
    } else if (test && (final || (evalEvery > 0 && (epoch + 1) % evalEvery === 0))) {
      logs.knnTop1 = (await knnEvaluate(this.s.model, this.s.train, test, config.knn)).top1
    }
    p.history.push(logs)
    p.epochLosses = []
    p.epochSeconds = 0
    await this.writeHistory()
    if (checkpoint && !follower) await this.writeCheckpoint()
    if (job?.isMain) await job.fromMain(`epoch/${epoch}`, logs)
    await this.cb.onEpochEnd?.(epoch, logs)
  }

  /** Waits for steps still queued and frees the trainer (its CUDA graph's memory pool and step
   * buffers go now, not when the handle is collected), whether training ended or threw. */
  async close(): Promise<void> {
    await this.queue.discard()
    if (this.s.job) this.communication = await native.trainerCommTime(this.s.trainer)
    await native.trainerDispose(this.s.trainer)
    // Rank 0 hosts the store: it leaves once every rank is done with it.
    await this.s.job?.leave(true)
  }

  /** After an error: tells the other ranks (they stop with it instead of waiting) and leaves. */
  async fail(error: unknown): Promise<void> {
    await this.queue.discard().catch(() => {})
    await native.trainerDispose(this.s.trainer).catch(() => {})
    await this.s.job?.fail(error)
  }

  /** Exports the backbone into the run directory (unless aborted), calls `onTrainEnd` and
   * returns what the run did. */
  async result(): Promise<TrainResult> {
    const { config, model, runDir } = this.s
    const history = this.progress.history
    if (runDir && !this.aborted) await exportBackbone(model, runDir.file('backbone'), { 'byol.config': JSON.stringify(config) })
    const evaluated = history.filter((h) => h.knnTop1 !== undefined)
    const result: TrainResult = {
      model,
      config,
      history,
      loss: history.length ? history[history.length - 1].loss : undefined,
      knnTop1: evaluated.length ? evaluated[evaluated.length - 1].knnTop1 : undefined,
      epochs: history.length,
      steps: this.progress.steps,
      stepLosses: this.stepLosses,
      aborted: this.aborted,
      device: this.s.device,
      runDir: runDir?.dir,
      checkpoint: this.lastCheckpoint,
      train: this.s.train,
      test: this.s.test,
      seconds: (Date.now() - this.s.started) / 1000,
      communication: this.communication,
    }
    await this.cb.onTrainEnd?.(result)
    return result
  }

  /** Whether to stop before the next chunk: the abort signal, agreed by every rank in a job (so
   * that all stop after the same step). */
  private async stopRequested(): Promise<boolean> {
    const local = this.s.options.signal?.aborted ?? false
    return this.s.job ? this.s.job.anyStop(local) : local
  }

  private momentumAt(epoch: number): number {
    const { momentum, epochs } = this.s.config
    return momentum.schedule === 'cosine' ? cosineSchedule(epoch, epochs, momentum.start, momentum.end) : momentum.start
  }

  /** Reports a read chunk's steps: the NaN check, the progress, `onBatchEnd` per step. */
  private async report(q: Chunk, losses: Float32Array): Promise<void> {
    const p = this.progress
    const clock = this.epochClock
    p.epochSeconds = clock.before + Number(process.hrtime.bigint() - clock.start) / 1e9
    clock.images += q.images
    const rate = clock.images / Math.max(p.epochSeconds - clock.before, 1e-9)
    for (let i = 0; i < losses.length; i++) {
      const loss = losses[i]
      if (!Number.isFinite(loss)) {
        throw new Error(
          `loss is ${loss} at step ${p.steps + 1} (epoch ${q.epoch}, batch ${q.firstBatch + i}); training stopped` +
            (this.lastCheckpoint ? `; the last good checkpoint is ${this.lastCheckpoint}` : '') +
            '. A learning rate that is too high is the usual cause.',
        )
      }
      p.steps++
      p.epochLosses.push(loss)
      this.stepLosses.push(loss)
      const logs: BatchLogs = {
        epoch: q.epoch,
        batch: q.firstBatch + i,
        batches: this.s.batches,
        loss,
        lr: q.lr,
        momentum: q.momentum,
        imagesPerSecond: rate,
      }
      await this.cb.onBatchEnd?.(p.steps, logs)
    }
  }

  /** Logs when steps start replaying a CUDA graph, or why they run eagerly. */
  private noteGraph(run: Native.TrainerRunResult): void {
    const state = run.graph === 'eager' ? `eager: ${run.reason}` : run.graph
    if (state === this.graphState) return
    this.graphState = state
    if (run.graph === 'graph') this.log('CUDA graph captured: each step is now one graph replay')
    else if (run.graph === 'eager' && this.s.step.cudaGraph) this.log(`steps run eagerly: ${run.reason}`)
  }

  private async writeHistory(): Promise<void> {
    const { runDir, config, train, device } = this.s
    const caption = `${config.preset}, batch ${config.batchSize}, ${train.length} images, ${device}`
    if (runDir) await runDir.writeHistory(this.progress.history, caption)
  }

  /** A checkpoint in the run directory (none without one), with the augmenter's state now. */
  private async writeCheckpoint(): Promise<void> {
    const job = this.s.job
    if (job && !job.isMain) {
      // Rank 0 writes the checkpoint, with this rank's augmenter state.
      if (this.s.options.runDir) await job.toMain(`augmenter/${this.progress.steps}`, await this.s.views.state())
      return
    }
    if (!this.s.runDir) return
    const file = path.join(this.s.runDir.dir, CHECKPOINT_FILE)
    const augmenter = await this.s.views.state()
    const state = checkpointState(this.s.config, this.s.data, this.progress, augmenter)
    if (job) state.distributed = { worldSize: job.worldSize, augmenters: (await job.toMain(`augmenter/${this.progress.steps}`, augmenter))! }
    await saveCheckpoint(file, this.s.model, state)
    this.lastCheckpoint = file
  }
}
