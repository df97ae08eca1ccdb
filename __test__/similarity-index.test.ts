// The exact cosine index against a brute-force search in float64, its save/load round trip, and
// the approximate hnswlib-node adapter's recall against it.
import test from 'ava'
import path = require('path')
import { HnswIndex, SimilarityIndex } from '../src'
import { bytes, tmpDir } from './data.fixtures'

const DIM = 24

/** Deterministic vectors with values in [-1, 1). */
function vectors(n: number, seed: number): Float32Array {
  const b = bytes(n * DIM * 2, seed)
  return Float32Array.from({ length: n * DIM }, (_, i) => (b[2 * i] * 256 + b[2 * i + 1]) / 32768 - 1)
}

function bruteForce(bank: Map<string, Float32Array>, query: Float32Array, k: number): Array<{ id: string; score: number }> {
  const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0))
  const scored = [...bank].map(([id, v]) => ({ id, score: v.reduce((s, x, j) => s + x * query[j], 0) / (norm(v) * norm(query)) }))
  return scored.sort((a, b) => b.score - a.score).slice(0, k)
}

function rows(flat: Float32Array, ids: string[]): Map<string, Float32Array> {
  return new Map(ids.map((id, i) => [id, flat.subarray(i * DIM, (i + 1) * DIM)]))
}

async function expectBruteForce(t: import('ava').ExecutionContext, index: SimilarityIndex, bank: Map<string, Float32Array>, queries: Float32Array, k: number) {
  const found = await index.search(queries, k)
  let worst = 0
  for (let q = 0; q < found.length; q++) {
    const expected = bruteForce(bank, queries.subarray(q * DIM, (q + 1) * DIM), k)
    t.deepEqual(
      found[q].map((m) => m.id),
      expected.map((m) => m.id),
      `query ${q}`,
    )
    found[q].forEach((m, j) => (worst = Math.max(worst, Math.abs(m.score - expected[j].score))))
  }
  t.true(worst < 1e-5, `max score difference ${worst}`)
}

test('exact search equals a brute-force cosine search, across query blocks, after removals and replacements', async (t) => {
  const n = 400
  const ids = Array.from({ length: n }, (_, i) => `img-${i}`)
  const data = vectors(n, 11)
  const index = new SimilarityIndex(DIM)
  index.add(ids.slice(0, 150), data.subarray(0, 150 * DIM))
  index.add(ids.slice(150), data.subarray(150 * DIM))
  t.is(index.size, n)
  const bank = rows(data, ids)
  // 300 queries: more than one block of 256 query rows.
  const queries = vectors(300, 12)
  await expectBruteForce(t, index, bank, queries, 10)

  const gone = ids.filter((_, i) => i % 3 === 0)
  t.is(index.remove([...gone, 'never-added']), gone.length)
  for (const id of gone) bank.delete(id)
  const replacement = vectors(2, 13)
  index.add(['img-1', 'new'], replacement)
  bank.set('img-1', replacement.subarray(0, DIM))
  bank.set('new', replacement.subarray(DIM))
  t.is(index.size, bank.size)
  await expectBruteForce(t, index, bank, queries.subarray(0, 40 * DIM), 7)
  // k larger than the index: every row, best first.
  const all = await index.search(queries.subarray(0, DIM), 10_000)
  t.is(all[0].length, bank.size)
})

test('an empty index finds nothing; bad shapes and k are refused', async (t) => {
  const index = new SimilarityIndex(DIM)
  t.deepEqual(await index.search(vectors(2, 1), 5), [[], []])
  t.throws(() => index.add(['a'], new Float32Array(DIM + 1)), { instanceOf: RangeError })
  t.throws(() => index.add(['a', 'a'], vectors(2, 1)), { message: /unique/ })
  index.add(['a'], vectors(1, 1))
  await t.throwsAsync(index.search(vectors(1, 1), 0), { instanceOf: RangeError })
})

test('save and load round-trip the ids and vectors exactly', async (t) => {
  const n = 120
  const ids = Array.from({ length: n }, (_, i) => `photo/${i}.jpg`)
  const index = new SimilarityIndex(DIM)
  index.add(ids, vectors(n, 21))
  index.remove(['photo/5.jpg', 'photo/77.jpg'])
  const file = path.join(tmpDir('index'), 'index.safetensors')
  await index.save(file)
  const loaded = await SimilarityIndex.load(file)
  t.is(loaded.size, index.size)
  t.is(loaded.dim, DIM)
  for (const id of ids) {
    t.is(loaded.has(id), index.has(id))
    if (index.has(id)) t.deepEqual(loaded.vector(id), index.vector(id))
  }
  const queries = vectors(9, 22)
  t.deepEqual(await loaded.search(queries, 5), await index.search(queries, 5))
})

test('the hnswlib-node adapter: recall@10 against the exact search, and removals', async (t) => {
  const n = 2000
  const ids = Array.from({ length: n }, (_, i) => `v${i}`)
  const data = vectors(n, 31)
  const exact = new SimilarityIndex(DIM)
  const approx = new HnswIndex(DIM, { maxElements: 256 })
  exact.add(ids, data)
  approx.add(ids, data)
  t.is(approx.size, n)
  const queries = vectors(100, 32)
  const [truth, found] = [await exact.search(queries, 10), await approx.search(queries, 10)]
  let hits = 0
  truth.forEach((row, q) => {
    const expected = new Set(row.map((m) => m.id))
    hits += found[q].filter((m) => expected.has(m.id)).length
  })
  const recall = hits / (10 * truth.length)
  t.log(`recall@10 of HNSW (M 16, efSearch 64) on ${n} random ${DIM}-d vectors: ${recall.toFixed(3)}`)
  t.true(recall >= 0.9, `recall@10 ${recall}`)
  // Scores are cosine similarities, as the exact index's.
  const top = found[0][0]
  const same = truth[0].find((m) => m.id === top.id)
  if (same) t.true(Math.abs(same.score - top.score) < 1e-5)
  approx.remove(ids.slice(0, 1000))
  const after = await approx.search(queries, 10)
  t.true(
    after.every((row) => row.every((m) => Number(m.id.slice(1)) >= 1000)),
    'removed ids are never returned',
  )
})
