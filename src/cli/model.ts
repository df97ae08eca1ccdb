// Loading the model a command works on: a run directory's checkpoint or a backbone file.
import type { Device } from '../model/byol'
import { loadTrainedModel, LoadedModel } from '../training/trained-model'
import { OptionSpec, Parsed, stringOption, UsageError } from './args'

export const modelOptions: Record<string, OptionSpec> = {
  run: { type: 'string', value: 'DIR', help: 'a run directory (its checkpoint.safetensors)' },
  weights: { type: 'string', value: 'FILE', help: 'backbone weights (safetensors with torchvision names, e.g. from byol export)' },
  device: { type: 'string', value: 'DEV', help: 'auto, cpu, cuda or cuda:N', default: 'auto' },
}

export async function loadModel(p: Parsed, command: string): Promise<LoadedModel> {
  const run = stringOption(p.values, 'run')
  const weights = stringOption(p.values, 'weights')
  const device = (stringOption(p.values, 'device') ?? 'auto') as Device
  if (!run === !weights) throw new UsageError('give one of --run <run dir> or --weights <file>', command)
  return loadTrainedModel({ run, weights, device })
}
