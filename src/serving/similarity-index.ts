// An exact cosine similarity index over embeddings: rows are kept L2-normalised in one growing
// float32 buffer, and search is a native blocked top-k (crates/node/src/similarity.rs) over them.
import { native } from '../model/addon'
import { readSafetensors, writeSafetensors } from '../export/safetensors'

/** Vectors as one row-major `Float32Array` (`n * dim` values), a list of rows, or a tensor `{ data, shape: [n, dim] }`. */
export type Vectors = Float32Array | ArrayLike<number>[] | { data: Float32Array; shape: number[] }

export interface Match {
  id: string
  /** Cosine similarity in [-1, 1]. */
  score: number
}

/** What the exact index and the approximate (HNSW) one both offer. */
export interface VectorIndex {
  readonly dim: number
  readonly size: number
  add(ids: string[], vectors: Vectors): void
  remove(ids: string[]): number
  search(queries: Vectors, k: number): Promise<Match[][]>
}

/** Rows of `vectors` as one Float32Array of `count * dim` values, checked against `dim`. */
export function rowsOf(vectors: Vectors, dim: number, count?: number): Float32Array {
  let flat: Float32Array
  if (vectors instanceof Float32Array) flat = vectors
  else if (Array.isArray(vectors)) {
    flat = new Float32Array(vectors.length * dim)
    vectors.forEach((row, i) => {
      if (row.length !== dim) throw new RangeError(`vector ${i} has ${row.length} values, the index ${dim}`)
      flat.set(row, i * dim)
    })
  } else {
    const t = vectors as { data: Float32Array; shape: number[] }
    if (t.shape.length !== 2 || t.shape[1] !== dim) throw new RangeError(`vectors of shape [${t.shape}], the index takes [n, ${dim}]`)
    flat = t.data
  }
  if (flat.length % dim !== 0) throw new RangeError(`${flat.length} values are not whole vectors of ${dim}`)
  if (count !== undefined && flat.length !== count * dim) throw new RangeError(`${count} ids but ${flat.length / dim} vectors`)
  return flat
}

function normalizeInto(dst: Float32Array, offset: number, src: Float32Array, start: number, dim: number): void {
  let sum = 0
  for (let j = 0; j < dim; j++) sum += src[start + j] * src[start + j]
  // F.normalize's eps: a zero vector stays zero (and matches nothing).
  const scale = 1 / Math.max(Math.sqrt(sum), 1e-12)
  for (let j = 0; j < dim; j++) dst[offset + j] = src[start + j] * scale
}

export class SimilarityIndex implements VectorIndex {
  private ids: string[] = []
  private rows = new Map<string, number>()
  private data: Float32Array

  constructor(readonly dim: number) {
    if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`dim must be a positive integer, got ${dim}`)
    this.data = new Float32Array(dim * 64)
  }

  get size(): number {
    return this.ids.length
  }

  /** Adds vectors under ids (an id already there gets the new vector). */
  add(ids: string[], vectors: Vectors): void {
    const flat = rowsOf(vectors, this.dim, ids.length)
    if (new Set(ids).size !== ids.length) throw new RangeError('ids must be unique within one add')
    ids.forEach((id, i) => {
      let row = this.rows.get(id)
      if (row === undefined) {
        row = this.ids.length
        this.reserve(row + 1)
        this.ids.push(id)
        this.rows.set(id, row)
      }
      normalizeInto(this.data, row * this.dim, flat, i * this.dim, this.dim)
    })
  }

  /** Removes ids (unknown ones are ignored); returns how many were removed. */
  remove(ids: string[]): number {
    let removed = 0
    for (const id of ids) {
      const row = this.rows.get(id)
      if (row === undefined) continue
      // The last row moves into the hole: rows stay dense for the native search.
      const last = this.ids.length - 1
      if (row !== last) {
        this.data.copyWithin(row * this.dim, last * this.dim, (last + 1) * this.dim)
        this.ids[row] = this.ids[last]
        this.rows.set(this.ids[row], row)
      }
      this.ids.pop()
      this.rows.delete(id)
      removed++
    }
    return removed
  }

  has(id: string): boolean {
    return this.rows.has(id)
  }

  /** The stored (L2-normalised) vector of an id. */
  vector(id: string): Float32Array | undefined {
    const row = this.rows.get(id)
    return row === undefined ? undefined : this.data.slice(row * this.dim, (row + 1) * this.dim)
  }

  /** The `k` most cosine-similar ids of every query, best first (exact). */
  async search(queries: Vectors, k: number): Promise<Match[][]> {
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`)
    const flat = rowsOf(queries, this.dim)
    const m = flat.length / this.dim
    if (this.size === 0) return Array.from({ length: m }, () => [])
    const bank = { data: this.data.subarray(0, this.size * this.dim), shape: [this.size, this.dim] }
    const { indices, scores } = await native.similarityTopk(bank, { data: flat, shape: [m, this.dim] }, { k })
    const found = indices.shape[1]
    const idx = indices.data as BigInt64Array
    const sc = scores.data as Float32Array
    return Array.from({ length: m }, (_, q) =>
      Array.from({ length: found }, (_, j) => ({ id: this.ids[Number(idx[q * found + j])], score: sc[q * found + j] })),
    )
  }

  /** Writes the vectors (safetensors tensor `vectors` [N, dim]) and ids (metadata `ids`, JSON). */
  async save(file: string): Promise<void> {
    const vectors = { data: this.data.slice(0, this.size * this.dim), shape: [this.size, this.dim] }
    await writeSafetensors(file, [['vectors', vectors]], { 'byol.index': 'cosine', ids: JSON.stringify(this.ids) })
  }

  static async load(file: string): Promise<SimilarityIndex> {
    const { tensors, metadata } = await readSafetensors(file)
    const vectors = tensors.get('vectors')
    if (!vectors || !(vectors.data instanceof Float32Array) || vectors.shape.length !== 2) {
      throw new Error(`${file}: no float32 [N, dim] tensor "vectors" (not a byol similarity index)`)
    }
    const ids = JSON.parse(metadata.ids ?? 'null') as unknown
    if (!Array.isArray(ids) || ids.length !== vectors.shape[0] || !ids.every((id) => typeof id === 'string')) {
      throw new Error(`${file}: metadata "ids" must list ${vectors.shape[0]} string ids`)
    }
    const index = new SimilarityIndex(vectors.shape[1])
    // Stored rows are already normalised: copied as they are, so a round trip is bit-exact.
    index.reserve(ids.length)
    index.data.set(vectors.data)
    index.ids = ids as string[]
    index.rows = new Map(index.ids.map((id, i) => [id, i]))
    return index
  }

  private reserve(rows: number): void {
    if (rows * this.dim <= this.data.length) return
    const grown = new Float32Array(Math.max(rows, 2 * (this.data.length / this.dim)) * this.dim)
    grown.set(this.data)
    this.data = grown
  }
}
