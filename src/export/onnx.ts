// The backbone as an ONNX model that serves like `embed`: uint8 RGB images `[batch, height,
// width, 3]` in (normalised inside the graph, as byol normalises them), backbone features
// `[batch, F]` out. BatchNorm (eval mode) is folded into the convolutions before them, the batch
// and image size are dynamic, and the operators are those of opset 13.
import { architectureOf, backboneState } from './backbone'
import { writeFileAtomic } from '../files/atomic-write'
import type { Byol } from '../model/byol'
import type { SafetensorsTensor } from './safetensors'
import { DataType, encodeModel, Graph, Initializer, Node } from './onnx-graph'

export const ONNX_OPSET = 13

// crates/byol/src/dataset.rs: torchvision's ImageNet statistics, and BatchNorm's eps.
const MEAN = [0.485, 0.456, 0.406]
const STD = [0.229, 0.224, 0.225]
const BN_EPS = 1e-5

class GraphBuilder {
  readonly nodes: Node[] = []
  readonly initializers: Initializer[] = []
  private count = 0

  constructor(private readonly state: Map<string, SafetensorsTensor>) {}

  private tensor(name: string): { data: ArrayLike<number>; shape: number[] } {
    const t = this.state.get(name)
    if (!t) throw new Error(`backbone state has no ${name}`)
    return t as { data: ArrayLike<number>; shape: number[] }
  }

  constant(name: string, dims: number[], values: ArrayLike<number>): string {
    this.initializers.push({ name, dims, data: Float32Array.from(values) })
    return name
  }

  op(op: string, inputs: string[], attributes?: Node['attributes']): string {
    const out = `${op.toLowerCase()}_${this.count++}`
    this.nodes.push({ op, inputs, outputs: [out], attributes })
    return out
  }

  /** `bn(conv(x))` in eval mode as one convolution: the weights scaled per output channel by
   * gamma / sqrt(var + eps) and a bias of beta - mean * that scale (computed in float64). */
  convBn(x: string, conv: string, bn: string, stride: number, padding: number): string {
    const w = this.tensor(`${conv}.weight`)
    const [cOut, cIn, kh, kw] = w.shape
    const gamma = this.tensor(`${bn}.weight`).data
    const beta = this.tensor(`${bn}.bias`).data
    const mean = this.tensor(`${bn}.running_mean`).data
    const variance = this.tensor(`${bn}.running_var`).data
    const perChannel = cIn * kh * kw
    const weight = new Float32Array(w.shape.reduce((a, b) => a * b, 1))
    const bias = new Float32Array(cOut)
    for (let o = 0; o < cOut; o++) {
      const scale = gamma[o] / Math.sqrt(variance[o] + BN_EPS)
      for (let j = 0; j < perChannel; j++) weight[o * perChannel + j] = w.data[o * perChannel + j] * scale
      bias[o] = beta[o] - mean[o] * scale
    }
    const wName = this.constant(`${conv}.weight`, w.shape, weight)
    const bName = this.constant(`${conv}.bias`, [cOut], bias)
    return this.op('Conv', [x, wName, bName], {
      kernel_shape: [kh, kw],
      strides: [stride, stride],
      pads: [padding, padding, padding, padding],
    })
  }

  /** torchvision's BasicBlock. */
  block(x: string, prefix: string, stride: number): string {
    let h = this.op('Relu', [this.convBn(x, `${prefix}.conv1`, `${prefix}.bn1`, stride, 1)])
    h = this.convBn(h, `${prefix}.conv2`, `${prefix}.bn2`, 1, 1)
    const shortcut = this.state.has(`${prefix}.downsample.0.weight`) ? this.convBn(x, `${prefix}.downsample.0`, `${prefix}.downsample.1`, stride, 0) : x
    return this.op('Relu', [this.op('Add', [h, shortcut])])
  }
}

/** The ONNX graph of a ResNet-18 backbone state (torchvision names). */
export function backboneGraph(state: Map<string, SafetensorsTensor>): Graph {
  const { stem, width } = architectureOf(state)
  const g = new GraphBuilder(state)
  // (x / 255 - mean) / std as x * scale + shift, per channel.
  const scale = g.constant(
    'normalize.scale',
    [1, 3, 1, 1],
    STD.map((s) => 1 / (255 * s)),
  )
  const shift = g.constant(
    'normalize.shift',
    [1, 3, 1, 1],
    MEAN.map((m, i) => -m / STD[i]),
  )
  let x = g.op('Cast', ['images'], { to: DataType.FLOAT })
  x = g.op('Transpose', [x], { perm: [0, 3, 1, 2] })
  x = g.op('Add', [g.op('Mul', [x, scale]), shift])
  x = g.op('Relu', [stem === 'imagenet' ? g.convBn(x, 'conv1', 'bn1', 2, 3) : g.convBn(x, 'conv1', 'bn1', 1, 1)])
  if (stem === 'imagenet') x = g.op('MaxPool', [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] })
  for (let layer = 1; layer <= 4; layer++) {
    for (let b = 0; state.has(`layer${layer}.${b}.conv1.weight`); b++) {
      x = g.block(x, `layer${layer}.${b}`, layer > 1 && b === 0 ? 2 : 1)
    }
  }
  x = g.op('GlobalAveragePool', [x])
  g.nodes.push({ op: 'Flatten', inputs: [x], outputs: ['embeddings'], attributes: { axis: 1 } })
  return {
    name: 'byol_resnet18_backbone',
    nodes: g.nodes,
    initializers: g.initializers,
    inputs: [{ name: 'images', type: DataType.UINT8, dims: ['batch', 'height', 'width', 3] }],
    outputs: [{ name: 'embeddings', type: DataType.FLOAT, dims: ['batch', 8 * width!] }],
  }
}

/** The model's online backbone as ONNX bytes (see the file comment for its inputs and outputs). */
export async function encodeOnnx(model: Byol): Promise<Uint8Array> {
  const graph = backboneGraph(await backboneState(model))
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const version: string = require('../../../package.json').version
  return encodeModel(graph, ONNX_OPSET, { 'byol.model': JSON.stringify(model.options) }, version)
}

/** Writes the model's online backbone to `file` as ONNX (atomically). */
export async function exportOnnx(model: Byol, file: string): Promise<void> {
  await writeFileAtomic(file, [await encodeOnnx(model)])
}
