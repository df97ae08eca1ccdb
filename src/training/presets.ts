// Training presets and the resolved, JSON-serialisable training configuration that run
// directories and checkpoints record.
import type { OptimizerOptions } from '../model/byol'

export type PresetName = 'lightly-example' | 'cifar10-benchmark'
export const PRESETS: PresetName[] = ['lightly-example', 'cifar10-benchmark']

/** The model's architecture. */
export interface ModelConfig {
  stem: 'imagenet' | 'cifar'
  width: number
  projectionHiddenDim: number
  projectionOutputDim: number
  predictionHiddenDim: number
  emaBuffers: boolean
}

/** Everything that determines a training run (what a resume must reproduce). */
export interface TrainConfig {
  preset: PresetName
  epochs: number
  batchSize: number
  seed: number
  shuffle: boolean
  dropLast: boolean
  /** Storage size of decoded images (square) and the views' size. */
  imageSize: number
  model: ModelConfig
  /** `lr` is the base learning rate. */
  optimizer: Required<Pick<OptimizerOptions, 'name' | 'lr' | 'momentum' | 'weightDecay'>> & OptimizerOptions
  /** `constant` (Lightly example) or `cosine` annealing to 0 over the epochs, stepped per epoch. */
  lrSchedule: 'constant' | 'cosine'
  /** Target-network momentum per epoch: Lightly's cosine schedule from `start` to `end`, or `start` throughout. */
  momentum: { start: number; end: number; schedule: 'cosine' | 'constant' }
  /** Augmentation options passed to the augmenter (`preset` plus overrides). */
  augment: { preset: string } & Record<string, unknown>
  knn: { k: number; temperature: number; batchSize: number }
  /** Each step runs its batch as this many micro-batches (BatchNorm per micro-batch) and updates
   * once from their summed gradients: a large batch on a small device. Default 1. */
  accumulate: number
}

/** Options accepted on top of a preset (all optional). */
export interface ConfigOverrides {
  preset?: PresetName
  epochs?: number
  batchSize?: number
  seed?: number
  shuffle?: boolean
  dropLast?: boolean
  imageSize?: number
  model?: Partial<ModelConfig>
  /** Learning rate (overrides the preset's, including the cifar10-benchmark batch scaling). */
  lr?: number
  optimizer?: OptimizerOptions
  lrSchedule?: 'constant' | 'cosine'
  momentum?: Partial<TrainConfig['momentum']>
  augment?: Partial<TrainConfig['augment']>
  knn?: Partial<TrainConfig['knn']>
  accumulate?: number
}

const BASE_MODEL: ModelConfig = {
  stem: 'imagenet',
  width: 64,
  projectionHiddenDim: 1024,
  projectionOutputDim: 256,
  predictionHiddenDim: 1024,
  emaBuffers: false,
}

/** The preset's configuration for a batch size (the benchmark scales its learning rate with it). */
export function presetConfig(name: PresetName, batchSize = 256): TrainConfig {
  const common = {
    preset: name,
    epochs: 10,
    batchSize,
    seed: 0,
    shuffle: true,
    dropLast: true,
    imageSize: 32,
    augment: { preset: 'byol-cifar' },
    knn: { k: 200, temperature: 0.1, batchSize: 512 },
    accumulate: 1,
  }
  switch (name) {
    case 'lightly-example':
      // Lightly's examples/pytorch/byol.py: torchvision ResNet-18, SGD(lr=0.06), batch 256,
      // momentum cosine_schedule(epoch, epochs, 0.996, 1).
      return {
        ...common,
        model: { ...BASE_MODEL },
        optimizer: { name: 'sgd', lr: 0.06, momentum: 0, weightDecay: 0 },
        lrSchedule: 'constant',
        momentum: { start: 0.996, end: 1, schedule: 'cosine' },
      }
    case 'cifar10-benchmark':
      // Lightly's CIFAR-10 benchmark: 3x3 stem without max-pool, SGD momentum 0.9, weight decay
      // 5e-4, lr 0.06 x batch / 128 with cosine annealing, fixed EMA momentum 0.99.
      return {
        ...common,
        epochs: 200,
        model: { ...BASE_MODEL, stem: 'cifar' },
        optimizer: { name: 'sgd', lr: (0.06 * batchSize) / 128, momentum: 0.9, weightDecay: 5e-4 },
        lrSchedule: 'cosine',
        momentum: { start: 0.99, end: 0.99, schedule: 'constant' },
      }
    default:
      throw new RangeError(`unknown preset '${name as string}' (expected ${PRESETS.join(' or ')})`)
  }
}

function positiveInteger(name: string, v: number | undefined): void {
  if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw new RangeError(`${name} must be a positive integer, got ${v}`)
}

/** The largest training image side; the native augmentations stop at the same size. */
const MAX_IMAGE_SIZE = 8192

/** A preset with overrides applied, checked. */
export function resolveConfig(o: ConfigOverrides = {}): TrainConfig {
  positiveInteger('batchSize', o.batchSize)
  const base = presetConfig(o.preset ?? 'lightly-example', o.batchSize ?? 256)
  const config: TrainConfig = {
    ...base,
    epochs: o.epochs ?? (o.preset === 'cifar10-benchmark' ? base.epochs : 10),
    seed: o.seed ?? base.seed,
    shuffle: o.shuffle ?? base.shuffle,
    dropLast: o.dropLast ?? base.dropLast,
    imageSize: o.imageSize ?? base.imageSize,
    model: { ...base.model, ...o.model },
    optimizer: { ...base.optimizer, ...o.optimizer, ...(o.lr !== undefined ? { lr: o.lr } : {}) },
    lrSchedule: o.lrSchedule ?? base.lrSchedule,
    momentum: { ...base.momentum, ...o.momentum },
    augment: { ...base.augment, ...o.augment } as TrainConfig['augment'],
    knn: { ...base.knn, ...o.knn },
    accumulate: o.accumulate ?? 1,
  }
  positiveInteger('epochs', config.epochs)
  positiveInteger('accumulate', config.accumulate)
  positiveInteger('imageSize', config.imageSize)
  if (config.imageSize > MAX_IMAGE_SIZE) throw new RangeError(`imageSize must be at most ${MAX_IMAGE_SIZE}, got ${config.imageSize}`)
  positiveInteger('knn.k', config.knn.k)
  positiveInteger('knn.batchSize', config.knn.batchSize)
  if (!Number.isInteger(config.seed) || config.seed < 0) throw new RangeError(`seed must be a non-negative integer, got ${config.seed}`)
  if (!(config.knn.temperature > 0)) throw new RangeError(`knn.temperature must be positive, got ${config.knn.temperature}`)
  const { start, end } = config.momentum
  if (!(start >= 0 && start <= 1 && end >= 0 && end <= 1)) {
    throw new RangeError(`momentum.start and momentum.end must be in [0, 1], got ${start} and ${end}`)
  }
  const finite = (name: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new RangeError(`${name} must be a finite number >= 0, got ${v}`)
  }
  finite('lr', config.optimizer.lr)
  finite('optimizer.weightDecay', config.optimizer.weightDecay)
  finite('optimizer.momentum', config.optimizer.momentum)
  if (config.batchSize < 2) throw new RangeError('batchSize must be at least 2 (training-mode BatchNorm needs two images)')
  return config
}

/** The learning rate of an epoch. */
export function learningRate(config: TrainConfig, epoch: number): number {
  const base = config.optimizer.lr
  if (config.lrSchedule === 'constant') return base
  // torch.optim.lr_scheduler.CosineAnnealingLR(T_max = epochs, eta_min = 0), stepped per epoch.
  return (base * (1 + Math.cos((Math.PI * epoch) / config.epochs))) / 2
}
