// Recall@10 of the approximate index (HnswIndex over hnswlib-node) against the exact one
// (SimilarityIndex), and the time per query of each, on 512-d vectors: uniform noise (HNSW's
// hard case) and clustered vectors (closer to embeddings of a photo collection).
// Usage: node dist/bench/hnsw-recall.js [--n 10000] [--queries 200]
import { parseArgs } from 'util'
import { HnswIndex, SimilarityIndex } from '../src'

const { values: args } = parseArgs({ options: { n: { type: 'string', default: '10000' }, queries: { type: 'string', default: '200' } } })
const N = Number(args.n)
const Q = Number(args.queries)
const DIM = 512

function random(seed: number): () => number {
  let x = seed >>> 0 || 1
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0
    return x / 2 ** 32
  }
}

function uniform(n: number, seed: number): Float32Array {
  const r = random(seed)
  return Float32Array.from({ length: n * DIM }, () => r() * 2 - 1)
}

function clustered(n: number, seed: number, centres: Float32Array): Float32Array {
  const r = random(seed)
  const k = centres.length / DIM
  const out = new Float32Array(n * DIM)
  for (let i = 0; i < n; i++) {
    const c = Math.floor(r() * k)
    for (let j = 0; j < DIM; j++) out[i * DIM + j] = centres[c * DIM + j] + 0.35 * (r() * 2 - 1)
  }
  return out
}

async function measure(name: string, bank: Float32Array, queries: Float32Array): Promise<void> {
  const ids = Array.from({ length: N }, (_, i) => String(i))
  const exact = new SimilarityIndex(DIM)
  exact.add(ids, bank)
  let t = performance.now()
  const truth = await exact.search(queries, 10)
  const exactMs = (performance.now() - t) / Q
  t = performance.now()
  const approx = new HnswIndex(DIM, { maxElements: N })
  approx.add(ids, bank)
  const buildS = (performance.now() - t) / 1000
  for (const ef of [16, 64, 200]) {
    approx.efSearch = ef
    t = performance.now()
    const found = await approx.search(queries, 10)
    const ms = (performance.now() - t) / Q
    let hits = 0
    truth.forEach((row, q) => {
      const expected = new Set(row.map((m) => m.id))
      hits += found[q].filter((m) => expected.has(m.id)).length
    })
    console.log(`| ${name} | ${N} | ${ef} | ${(hits / (10 * Q)).toFixed(3)} | ${ms.toFixed(3)} | ${exactMs.toFixed(3)} | ${buildS.toFixed(1)} |`)
  }
}

async function main(): Promise<void> {
  console.log('| vectors | N | efSearch | recall@10 | HNSW ms/query | exact ms/query (batch of queries) | HNSW build s |')
  console.log('|---|---:|---:|---:|---:|---:|---:|')
  await measure('uniform', uniform(N, 1), uniform(Q, 2))
  const centres = uniform(100, 3)
  await measure('100 clusters', clustered(N, 4, centres), clustered(Q, 5, centres))
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
