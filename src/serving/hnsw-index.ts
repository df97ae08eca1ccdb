// An approximate cosine index over hnswlib-node (an optional peer dependency: byol works without
// it). Same interface as SimilarityIndex; recall@10 against the exact search is in BENCHMARKS.md.
// hnswlib-node searches synchronously on the JavaScript thread: fine for small k and indexes
// that answer in well under a millisecond, which is what HNSW is for.
import { Match, rowsOf, VectorIndex, Vectors } from './similarity-index'

interface Hnsw {
  initIndex(opts: { maxElements: number; m?: number; efConstruction?: number; randomSeed?: number; allowReplaceDeleted?: boolean }): void
  resizeIndex(maxElements: number): void
  addPoint(point: number[] | Float32Array, label: number, replaceDeleted?: boolean): void
  markDelete(label: number): void
  searchKnn(query: number[] | Float32Array, k: number, filter?: (label: number) => boolean): { distances: number[]; neighbors: number[] }
  getMaxElements(): number
  setEf(ef: number): void
}

export interface HnswOptions {
  /** Room before the graph grows (default 1024; it doubles when full). */
  maxElements?: number
  /** Links per node (hnswlib's M, default 16). */
  m?: number
  /** Candidates while building (default 200). */
  efConstruction?: number
  /** Candidates while searching (default 64; at least k is used). */
  efSearch?: number
  seed?: number
}

function loadHnswlib(): { HierarchicalNSW: new (space: 'cosine', dim: number) => Hnsw } {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return require('hnswlib-node')
  } catch (e) {
    throw new Error(`HnswIndex needs the optional peer dependency hnswlib-node (npm install hnswlib-node): ${(e as Error).message.split('\n')[0]}`)
  }
}

export class HnswIndex implements VectorIndex {
  private readonly graph: Hnsw
  private readonly labels = new Map<string, number>()
  private readonly ids: Array<string | undefined> = []
  /** Candidates while searching (at least k is used); may be changed between searches. */
  efSearch: number

  constructor(
    readonly dim: number,
    options: HnswOptions = {},
  ) {
    const { HierarchicalNSW } = loadHnswlib()
    this.graph = new HierarchicalNSW('cosine', dim)
    this.graph.initIndex({
      maxElements: options.maxElements ?? 1024,
      m: options.m ?? 16,
      efConstruction: options.efConstruction ?? 200,
      randomSeed: options.seed ?? 100,
      allowReplaceDeleted: true,
    })
    this.efSearch = options.efSearch ?? 64
  }

  get size(): number {
    return this.labels.size
  }

  add(ids: string[], vectors: Vectors): void {
    const flat = rowsOf(vectors, this.dim, ids.length)
    ids.forEach((id, i) => {
      const row = flat.subarray(i * this.dim, (i + 1) * this.dim)
      const known = this.labels.get(id)
      if (known !== undefined) {
        this.graph.markDelete(known)
        this.labels.delete(id)
      }
      if (this.ids.length >= this.graph.getMaxElements()) this.graph.resizeIndex(2 * this.graph.getMaxElements())
      const label = this.ids.length
      this.graph.addPoint(Array.from(row), label)
      this.ids.push(id)
      this.labels.set(id, label)
    })
  }

  remove(ids: string[]): number {
    let removed = 0
    for (const id of ids) {
      const label = this.labels.get(id)
      if (label === undefined) continue
      this.graph.markDelete(label)
      this.ids[label] = undefined
      this.labels.delete(id)
      removed++
    }
    return removed
  }

  async search(queries: Vectors, k: number): Promise<Match[][]> {
    const flat = rowsOf(queries, this.dim)
    const kk = Math.min(k, this.size)
    if (kk === 0) return Array.from({ length: flat.length / this.dim }, () => [])
    this.graph.setEf(Math.max(this.efSearch, kk))
    const out: Match[][] = []
    for (let q = 0; q < flat.length; q += this.dim) {
      const { distances, neighbors } = this.graph.searchKnn(Array.from(flat.subarray(q, q + this.dim)), kk)
      out.push(neighbors.map((label, j) => ({ id: this.ids[label]!, score: 1 - distances[j] })))
    }
    return out
  }
}
