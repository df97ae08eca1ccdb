// Loading the model a command works on: a run directory's checkpoint or a backbone file.
import fs = require('fs')
import type { Byol, ByolOptions, Device } from '../model/byol'
import { readSafetensors } from '../export/safetensors'
import { OptionSpec, Parsed, stringOption, UsageError } from './args'

export const modelOptions: Record<string, OptionSpec> = {
  run: { type: 'string', value: 'DIR', help: 'a run directory (its checkpoint.safetensors)' },
  weights: { type: 'string', value: 'FILE', help: 'backbone weights (safetensors with torchvision names, e.g. from byol export)' },
  device: { type: 'string', value: 'DEV', help: 'auto, cpu, cuda or cuda:N', default: 'auto' },
}

export interface LoadedModel {
  model: Byol
  /** The image size the model was trained at, when known. */
  imageSize?: number
  source: string
}

export async function loadModel(p: Parsed, command: string): Promise<LoadedModel> {
  const run = stringOption(p.values, 'run')
  const weights = stringOption(p.values, 'weights')
  const device = (stringOption(p.values, 'device') ?? 'auto') as Device
  if (!run === !weights) throw new UsageError('give one of --run <run dir> or --weights <file>', command)
  // Loaded on use: `byol <command> --help` never loads libtorch.
  const { loadCheckpoint } = await import('../training/checkpoint')
  const { architectureOf, loadBackbone } = await import('../export/backbone')
  const { Byol: ByolClass } = await import('../model/byol')
  if (run) {
    const { model, checkpoint } = await loadCheckpoint(run, { device })
    return { model, imageSize: checkpoint.state.config.imageSize, source: run }
  }
  if (!fs.existsSync(weights!)) throw new Error(`${weights}: no such file`)
  const file = await readSafetensors(weights!)
  const stripped = new Map([...file.tensors].map(([n, t]) => [n.replace(/^backbone\./, ''), t]))
  let options: ByolOptions = architectureOf(stripped)
  try {
    options = { ...JSON.parse(file.metadata['byol.model'] ?? '{}'), ...options }
  } catch {
    // metadata from another tool: the architecture from the tensors is enough
  }
  const config = (() => {
    try {
      return JSON.parse(file.metadata['byol.config'] ?? 'null') as { imageSize?: number } | null
    } catch {
      return null
    }
  })()
  const model = await ByolClass.create({ ...options, device })
  await loadBackbone(model, stripped)
  return { model, imageSize: config?.imageSize, source: weights! }
}
