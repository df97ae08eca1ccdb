// ONNX's messages (onnx.proto, IR version 7) as byol writes them: tensors, nodes, value infos
// and the model around a graph, encoded with the small protobuf writer.
import { ProtoWriter } from './protobuf'

export const enum DataType {
  FLOAT = 1,
  UINT8 = 2,
}

const ATTRIBUTE_INT = 2
const ATTRIBUTE_INTS = 7

export interface Initializer {
  name: string
  dims: number[]
  data: Float32Array
}

export interface Node {
  op: string
  inputs: string[]
  outputs: string[]
  /** Integer and integer-list attributes (all byol's operators need). */
  attributes?: Record<string, number | number[]>
}

export interface ValueInfo {
  name: string
  type: DataType
  /** A number is a fixed size, a string a named dynamic dimension. */
  dims: Array<number | string>
}

export interface Graph {
  name: string
  nodes: Node[]
  initializers: Initializer[]
  inputs: ValueInfo[]
  outputs: ValueInfo[]
}

function writeTensor(w: ProtoWriter, t: Initializer): void {
  for (const d of t.dims) w.varint(1, d)
  w.varint(2, DataType.FLOAT)
  w.string(8, t.name)
  // raw_data is little-endian, as Float32Array is on every platform byol builds for.
  w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength))
}

function writeNode(w: ProtoWriter, node: Node, index: number): void {
  for (const i of node.inputs) w.string(1, i)
  for (const o of node.outputs) w.string(2, o)
  w.string(3, `${node.op}_${index}`)
  w.string(4, node.op)
  for (const [name, value] of Object.entries(node.attributes ?? {})) {
    w.message(5, (a) => {
      a.string(1, name)
      if (Array.isArray(value)) {
        for (const v of value) a.varint(8, v)
        a.varint(20, ATTRIBUTE_INTS)
      } else {
        a.varint(3, value)
        a.varint(20, ATTRIBUTE_INT)
      }
    })
  }
}

function writeValueInfo(w: ProtoWriter, v: ValueInfo): void {
  w.string(1, v.name)
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.varint(1, v.type)
      tensor.message(2, (shape) => {
        for (const d of v.dims) shape.message(1, (dim) => (typeof d === 'number' ? dim.varint(1, d) : dim.string(2, d)))
      })
    }),
  )
}

/** A ModelProto around `graph`, for the default ONNX domain at `opset`. */
export function encodeModel(graph: Graph, opset: number, metadata: Record<string, string>, producerVersion: string): Uint8Array {
  const w = new ProtoWriter()
  w.varint(1, 7) // IR version 7, the one of opset 13
  w.string(2, 'byol')
  w.string(3, producerVersion)
  w.message(7, (g) => {
    graph.nodes.forEach((n, i) => g.message(1, (m) => writeNode(m, n, i)))
    g.string(2, graph.name)
    for (const t of graph.initializers) g.message(5, (m) => writeTensor(m, t))
    for (const v of graph.inputs) g.message(11, (m) => writeValueInfo(m, v))
    for (const v of graph.outputs) g.message(12, (m) => writeValueInfo(m, v))
  })
  w.message(8, (o) => o.string(1, '').varint(2, opset))
  for (const [key, value] of Object.entries(metadata)) w.message(14, (m) => m.string(1, key).string(2, value))
  return w.finish()
}
