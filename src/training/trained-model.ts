// A trained model from disk: a run directory's checkpoint, or backbone weights (safetensors with
// torchvision names, as `byol export` writes them). What the CLI commands and the serving
// embedder load.
import fs = require('fs')
import type { Byol, ByolOptions, Device } from '../model/byol'

export interface LoadedModel {
  model: Byol
  /** The image size the model was trained at, when known. */
  imageSize?: number
  /** The run directory or file it came from. */
  source: string
}

/** Loads the model of a run directory (`run`) or of backbone weights (`weights`): exactly one. */
export async function loadTrainedModel(from: { run?: string; weights?: string; device?: Device }): Promise<LoadedModel> {
  const { run, weights } = from
  const device = from.device ?? 'auto'
  if (!run === !weights) throw new TypeError('give exactly one of run (a run directory) or weights (a backbone file)')
  // Loaded on use: `byol <command> --help` never loads libtorch.
  const { loadCheckpoint } = await import('./checkpoint')
  const { architectureOf, loadBackbone } = await import('../export/backbone')
  const { readSafetensors } = await import('../export/safetensors')
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
