// The backbone as a safetensors file with torchvision's parameter names (`conv1.weight`,
// `layer1.0.bn1.running_mean`, ...), so that Python loads it with
// `torchvision.models.resnet18().load_state_dict(weights, strict=False)` (only `fc.*` missing).
import { modelHandle } from '../model/byol-handle'
import type { Byol, ByolOptions } from '../model/byol'
import { native } from '../model/addon'
import { readSafetensors, SafetensorsTensor, writeSafetensors } from './safetensors'

const PREFIX = 'backbone.'

/** The online backbone's parameters and buffers, `backbone.` stripped. */
export async function backboneState(model: Byol): Promise<Map<string, SafetensorsTensor>> {
  const out = new Map<string, SafetensorsTensor>()
  for (const [name, t] of await model.state('online')) {
    if (name.startsWith(PREFIX)) out.set(name.slice(PREFIX.length), { data: t.data, shape: t.shape })
  }
  return out
}

/** Writes the backbone (torchvision names) to `file` atomically; `metadata` goes in the header. */
export async function exportBackbone(model: Byol, file: string, metadata: Record<string, string> = {}): Promise<void> {
  await writeSafetensors(file, await backboneState(model), {
    format: 'pt',
    'byol.architecture': 'resnet18',
    'byol.model': JSON.stringify(model.options),
    ...metadata,
  })
}

/** The architecture a torchvision-named ResNet-18 state implies (stem from conv1's kernel, width from its channels). */
export function architectureOf(tensors: Map<string, SafetensorsTensor>): Pick<ByolOptions, 'stem' | 'width'> {
  const conv1 = tensors.get('conv1.weight')
  if (!conv1 || conv1.shape.length !== 4) throw new Error('not a ResNet backbone: no 4-d conv1.weight')
  const kernel = conv1.shape[2]
  if (kernel !== 7 && kernel !== 3) throw new Error(`conv1.weight has a ${kernel}x${kernel} kernel; byol knows the 7x7 (imagenet) and 3x3 (cifar) stems`)
  return { stem: kernel === 7 ? 'imagenet' : 'cifar', width: conv1.shape[0] }
}

/**
 * Loads backbone weights (torchvision names; `fc.*` and a `backbone.` prefix are accepted) into
 * the online and the target backbone. Every backbone tensor must be present with the model's
 * shape; nothing is changed otherwise.
 */
export async function loadBackbone(model: Byol, source: string | Map<string, SafetensorsTensor>): Promise<void> {
  const tensors = typeof source === 'string' ? (await readSafetensors(source)).tensors : source
  const what = typeof source === 'string' ? source : 'backbone weights'
  const weights = new Map<string, SafetensorsTensor>()
  for (const [name, t] of tensors) {
    const bare = name.startsWith(PREFIX) ? name.slice(PREFIX.length) : name
    if (bare.startsWith('fc.')) continue
    weights.set(bare, t)
  }
  const handle = modelHandle(model)
  for (const network of ['online', 'target'] as const) {
    const current = await native.byolState(handle, network)
    const backbone = current.filter((e) => e.name.startsWith(PREFIX))
    const missing = backbone.filter((e) => !weights.has(e.name.slice(PREFIX.length))).map((e) => e.name.slice(PREFIX.length))
    const known = new Set(backbone.map((e) => e.name.slice(PREFIX.length)))
    const unexpected = [...weights.keys()].filter((n) => !known.has(n))
    if (missing.length || unexpected.length) {
      if (unexpected.some((n) => n.startsWith('online/'))) {
        throw new Error(`${what} is a byol checkpoint, not backbone weights: resume from it, or load its backbone with loadCheckpoint()`)
      }
      throw new Error(
        `${what} does not match the model's backbone: missing [${missing.slice(0, 8).join(', ')}${missing.length > 8 ? ', ...' : ''}], ` +
          `unexpected [${unexpected.slice(0, 8).join(', ')}${unexpected.length > 8 ? ', ...' : ''}]`,
      )
    }
    const entries = current.map((e) => {
      if (!e.name.startsWith(PREFIX)) return { name: e.name, data: e.data, shape: e.shape }
      const w = weights.get(e.name.slice(PREFIX.length))!
      if (JSON.stringify(w.shape) !== JSON.stringify(e.shape)) {
        throw new Error(`${what}: ${e.name.slice(PREFIX.length)} has shape [${w.shape}], the model [${e.shape}]`)
      }
      const data = e.data instanceof BigInt64Array ? toBigInt64(w.data) : toFloat32(w.data)
      return { name: e.name, data, shape: e.shape }
    })
    await native.byolLoadState(handle, network, entries)
  }
}

function toFloat32(data: SafetensorsTensor['data']): Float32Array {
  if (data instanceof Float32Array) return data
  if (data instanceof BigInt64Array) return Float32Array.from(data, Number)
  return Float32Array.from(data as ArrayLike<number>)
}

function toBigInt64(data: SafetensorsTensor['data']): BigInt64Array {
  if (data instanceof BigInt64Array) return data
  return BigInt64Array.from(data as ArrayLike<number>, (v) => BigInt(Math.round(v)))
}
