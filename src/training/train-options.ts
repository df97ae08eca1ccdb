// What train() takes, reports and returns.
import type { Dataset } from '../data/dataset'
import type { DistributedOptions } from '../distributed/options'
import type { FolderOptions } from '../data/folder'
import type { DataSource } from '../data/index'
import type { Byol, Device } from '../model/byol'
import type { EpochLogs } from './checkpoint'
import type { ConfigOverrides, TrainConfig } from './presets'
import type { ResolvedStepOptions, StepOptions } from './step-options'

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
    /** This process's rank and the job's size (0 and 1 when training alone). */
    rank: number
    worldSize: number
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
  /**
   * Train data-parallel as one rank of a job over PyTorch's c10d (Gloo on the CPU, NCCL on CUDA).
   * Default: the job torchrun's environment describes (`WORLD_SIZE`, `RANK`, `MASTER_ADDR`, ...,
   * as `byol train --nproc-per-node N` and torchrun set them), else a single process; `false`
   * ignores the environment. `batchSize` stays the global batch: each of the N ranks trains on
   * its own 1/N of it, the gradients are averaged, and rank 0 evaluates and writes the run
   * directory.
   */
  distributed?: DistributedOptions | boolean
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
  /** In a data-parallel job: this rank's time in collectives over `steps` steps. `allReduceSeconds`
   * runs from the first bucket sent to the last one back, `waitSeconds` is what the step waited
   * for it after backward (less with overlap), `broadcastSeconds` is the BatchNorm statistics'. */
  communication?: { steps: number; allReduceSeconds: number; waitSeconds: number; broadcastSeconds: number }
}
