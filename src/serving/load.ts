// The model a service embeds with: a Byol instance, a run directory, or exported backbone weights,
// loaded as `byol embed` loads them.
import type { Byol, Device } from '../model/byol'
import { loadTrainedModel } from '../training/trained-model'

export interface ModelSource {
  /** A run directory (its checkpoint). */
  run?: string
  /** Backbone weights (safetensors with torchvision names, from `byol export`). */
  weights?: string
  /** A model already in memory. */
  model?: Byol
  /** Where a loaded model runs (default `auto`); ignored for `model`. */
  device?: Device
}

export async function loadServingModel(source: ModelSource): Promise<{ model: Byol; imageSize?: number }> {
  const given = [source.run, source.weights, source.model].filter((s) => s !== undefined).length
  if (given !== 1) throw new TypeError('give exactly one of run, weights or model')
  if (source.model) return { model: source.model }
  const { model, imageSize } = await loadTrainedModel({ run: source.run, weights: source.weights, device: source.device })
  return { model, imageSize }
}
