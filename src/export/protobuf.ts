// The protobuf wire format, writing only: enough to emit ONNX's messages (onnx.proto3) without
// a protobuf dependency. Fields are written in the order the caller gives them.

const VARINT = 0
const FIXED32 = 5
const LENGTH = 2

export class ProtoWriter {
  private readonly chunks: Uint8Array[] = []
  private length = 0

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes)
    this.length += bytes.length
  }

  private rawVarint(value: number | bigint): void {
    // int64 fields: negative values are their two's complement, 10 bytes long.
    let v = BigInt.asUintN(64, BigInt(value))
    const out: number[] = []
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80)
      v >>= 7n
    }
    out.push(Number(v))
    this.push(Uint8Array.from(out))
  }

  private tag(field: number, wire: number): void {
    this.rawVarint((field << 3) | wire)
  }

  /** int32, int64, enum and bool fields. */
  varint(field: number, value: number | bigint): this {
    this.tag(field, VARINT)
    this.rawVarint(value)
    return this
  }

  float(field: number, value: number): this {
    this.tag(field, FIXED32)
    const b = new Uint8Array(4)
    new DataView(b.buffer).setFloat32(0, value, true)
    this.push(b)
    return this
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, LENGTH)
    this.rawVarint(value.length)
    this.push(value)
    return this
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value))
  }

  /** An embedded message, written by `build` into a writer of its own. */
  message(field: number, build: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter()
    build(inner)
    return this.bytes(field, inner.finish())
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length)
    let offset = 0
    for (const c of this.chunks) {
      out.set(c, offset)
      offset += c.length
    }
    return out
  }
}
