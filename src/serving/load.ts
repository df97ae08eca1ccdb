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
  // A model loaded only to embed computes in channels-last layout, as training does: oneDNN's
  // convolutions skip converting every activation (BENCHMARKS.md). A model passed in keeps the
  // layout its owner chose.
  await model.setStepOptions({ channelsLast: true })
  return { model, imageSize }
}
