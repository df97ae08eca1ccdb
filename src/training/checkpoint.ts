// Checkpoints: everything a run needs to continue exactly where it stopped, in one safetensors
// file written atomically (temporary file, fsync, rename): online and target weights with their
// BatchNorm buffers, the optimizer's momentum buffers and step counter, the position in the run
// (epoch, next batch), the losses of the current epoch so far, the per-epoch history, the
// augmenter's random state and the configuration.
import fs = require('fs')
import path = require('path')
import { modelHandle } from '../model/byol-handle'
import { Byol, ByolOptions, Device } from '../model/byol'
import { native, Native } from '../model/addon'
import type { TrainConfig } from './presets'
import { readSafetensors, SafetensorsTensor, writeSafetensors } from '../export/safetensors'

export const CHECKPOINT_FILE = 'checkpoint.safetensors'
const FORMAT = 1

/** What one epoch reports (callbacks, metrics.jsonl, the history). */
export interface EpochLogs {
  epoch: number
  /** Mean loss over the epoch's steps. */
  loss: number
  lr: number
  momentum: number
  /** Training images (pairs of views) per second over the epoch. */
  imagesPerSecond: number
  /** Seconds the epoch took (steps only; evaluation excluded). */
  seconds: number
  steps: number
  /** kNN top-1 accuracy on the test split, when evaluated after this epoch. */
  knnTop1?: number
}

export interface CheckpointState {
  format: number
  config: TrainConfig
  /** The next step to run: `batch` of `epoch` (batch 0 of the next epoch after a whole epoch). */
  position: { epoch: number; batch: number }
  /** Optimizer steps taken so far. */
  steps: number
  /** Losses of the steps of `position.epoch` already taken (for its exact mean after a resume). */
  epochLosses: number[]
  /** Seconds spent in the steps of `position.epoch` so far. */
  epochSeconds: number
  history: EpochLogs[]
  /** The augmenter's state before the batch at `position` was made. */
  augmenter: unknown
  /** Where the data came from (a resume may point elsewhere, to as many images). */
  data: { train: string; test?: string; trainImages?: number }
  /** A data-parallel job's size and every rank's augmenter state (`augmenter` is rank 0's). */
  distributed?: { worldSize: number; augmenters: unknown[] }
  savedAt: string
}

/** Where a run stands: what a checkpoint keeps besides the weights, and where a resume starts. */
export interface RunProgress {
  position: { epoch: number; batch: number }
  steps: number
  epochLosses: number[]
  epochSeconds: number
  history: EpochLogs[]
}

/** The progress of a fresh run, or a copy of a checkpoint's (to resume from). */
export function runProgress(state?: CheckpointState): RunProgress {
  if (!state) return { position: { epoch: 0, batch: 0 }, steps: 0, epochLosses: [], epochSeconds: 0, history: [] }
  return {
    position: { ...state.position },
    steps: state.steps,
    epochLosses: [...state.epochLosses],
    epochSeconds: state.epochSeconds ?? 0,
    history: [...state.history],
  }
}

/** What a checkpoint of a run at `progress` records, with the augmenter's random state. */
export function checkpointState(config: TrainConfig, data: CheckpointState['data'], progress: RunProgress, augmenter: unknown): CheckpointState {
  const { position, steps, epochLosses, epochSeconds, history } = progress
  return { format: FORMAT, config, position, steps, epochLosses, epochSeconds, history, augmenter, data, savedAt: new Date().toISOString() }
}

/** The checkpoint file of a run directory (or `file` itself when it is a file). */
export function checkpointPath(runDirOrFile: string): string {
  try {
    if (fs.statSync(runDirOrFile).isDirectory()) return path.join(runDirOrFile, CHECKPOINT_FILE)
  } catch {
    // not there: treat as a run directory to be
  }
  return runDirOrFile.endsWith('.safetensors') ? runDirOrFile : path.join(runDirOrFile, CHECKPOINT_FILE)
}

/** Writes a checkpoint of `model` and `state` to `file` atomically. */
export async function saveCheckpoint(file: string, model: Byol, state: CheckpointState): Promise<void> {
  const handle = modelHandle(model)
  const tensors: Array<[string, SafetensorsTensor]> = []
  for (const network of ['online', 'target'] as const) {
    for (const e of await native.byolState(handle, network))
      tensors.push([`${network}/${e.name}`, { data: e.data as Float32Array | BigInt64Array, shape: e.shape }])
  }
  const training = await native.byolTrainingState(handle)
  ;(training.momentumBuffers ?? []).forEach((b, i) => tensors.push([`optimizer/momentum/${i}`, { data: b.data as Float32Array, shape: b.shape }]))
  await writeSafetensors(file, tensors, {
    format: 'byol-checkpoint',
    'byol.checkpoint': JSON.stringify({ ...state, format: FORMAT, steps: training.steps }),
  })
}

export interface LoadedCheckpoint {
  state: CheckpointState
  online: Map<string, SafetensorsTensor>
  target: Map<string, SafetensorsTensor>
  momentumBuffers?: SafetensorsTensor[]
}

export async function readCheckpoint(runDirOrFile: string): Promise<LoadedCheckpoint> {
  const file = checkpointPath(runDirOrFile)
  if (!fs.existsSync(file)) throw new Error(`no checkpoint at ${file}`)
  const { tensors, metadata } = await readSafetensors(file)
  const raw = metadata['byol.checkpoint']
  if (!raw) throw new Error(`${file} is a safetensors file but not a byol checkpoint (no byol.checkpoint metadata)`)
  const state = JSON.parse(raw) as CheckpointState
  if (state.format !== FORMAT) throw new Error(`${file}: checkpoint format ${state.format}, this byol reads ${FORMAT}`)
  const online = new Map<string, SafetensorsTensor>()
  const target = new Map<string, SafetensorsTensor>()
  const buffers: SafetensorsTensor[] = []
  for (const [name, t] of tensors) {
    // byol writes counters as int64 and everything else as float32; anything else is another
    // program's file or a damaged one, and must not reach the model as reinterpreted bytes.
    const expected = name.endsWith('num_batches_tracked') ? BigInt64Array : Float32Array
    if (!(t.data instanceof expected)) {
      throw new Error(
        `${file}: ${name} holds ${t.data.constructor.name.replace('Array', '')} values; a byol checkpoint stores ${expected.name.replace('Array', '')} there`,
      )
    }
    if (name.startsWith('online/')) online.set(name.slice(7), t)
    else if (name.startsWith('target/')) target.set(name.slice(7), t)
    else if (name.startsWith('optimizer/momentum/')) buffers[Number(name.slice(19))] = t
  }
  return { state, online, target, momentumBuffers: buffers.length ? buffers : undefined }
}

function entries(map: Map<string, SafetensorsTensor>): Array<{ name: string } & Native.NativeTensor> {
  return [...map].map(([name, t]) => ({ name, data: t.data as Float32Array | BigInt64Array, shape: t.shape }))
}

/** Restores weights, buffers and optimizer state from a checkpoint into a model of the same configuration. */
export async function restoreModel(model: Byol, ckpt: LoadedCheckpoint, lr?: number): Promise<void> {
  const handle = modelHandle(model)
  await native.byolLoadState(handle, 'online', entries(ckpt.online))
  await native.byolLoadState(handle, 'target', entries(ckpt.target))
  await native.byolLoadTrainingState(handle, {
    steps: ckpt.state.steps,
    lr,
    momentumBuffers: ckpt.momentumBuffers?.map((t) => ({ data: t.data as Float32Array, shape: t.shape })) ?? null,
  })
}

/** The model options of a training configuration. */
export function modelOptions(config: TrainConfig, device: string): ByolOptions {
  return { ...config.model, optimizer: { ...config.optimizer }, device: device as Device, seed: config.seed }
}

/** A model rebuilt from a checkpoint (weights, buffers, optimizer state), on `device`. */
export async function loadCheckpoint(runDirOrFile: string, options: { device?: string } = {}): Promise<{ model: Byol; checkpoint: LoadedCheckpoint }> {
  const checkpoint = await readCheckpoint(runDirOrFile)
  const model = await Byol.create(modelOptions(checkpoint.state.config, options.device ?? 'auto'))
  await restoreModel(model, checkpoint)
  return { model, checkpoint }
}
