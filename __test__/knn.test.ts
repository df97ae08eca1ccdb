// kNN evaluation as Lightly's benchmarks (cosine similarity, k nearest vote with weights
// exp(sim / t)), checked against a JavaScript transcription of Lightly's knn_predict.
import test from 'ava'
import { execFileSync } from 'child_process'
import fs = require('fs')
import path = require('path')
import { Byol, embed, fromImages, knnEvaluate, knnPredict, tensor } from '../src'
import { bytes, classImages, TINY_MODEL } from './data.fixtures'

function randn(n: number, seed: number): Float32Array {
  const b = bytes(n * 2, seed)
  return Float32Array.from({ length: n }, (_, i) => (b[2 * i] + b[2 * i + 1] / 256) / 128 - 1)
}

function normalize(x: Float32Array, d: number): Float32Array {
  const out = new Float32Array(x.length)
  for (let r = 0; r < x.length / d; r++) {
    let s = 0
    for (let j = 0; j < d; j++) s += x[r * d + j] ** 2
    const n = Math.max(Math.sqrt(s), 1e-12)
    for (let j = 0; j < d; j++) out[r * d + j] = x[r * d + j] / n
  }
  return out
}

/** lightly.utils.benchmarking.knn_predict, in float64. */
function referenceKnn(bank: Float32Array, labels: number[], queries: Float32Array, d: number, classes: number, k: number, t: number) {
  const b = normalize(bank, d)
  const q = normalize(queries, d)
  const n = labels.length
  const preds: number[] = []
  const scores: number[][] = []
  for (let i = 0; i < q.length / d; i++) {
    const sims = Array.from({ length: n }, (_, j) => {
      let s = 0
      for (let c = 0; c < d; c++) s += q[i * d + c] * b[j * d + c]
      return [s, j] as [number, number]
    }).sort((x, y) => y[0] - x[0])
    const score = new Array(classes).fill(0)
    for (const [s, j] of sims.slice(0, Math.min(k, n))) score[labels[j]] += Math.exp(s / t)
    scores.push(score)
    preds.push(score.indexOf(Math.max(...score)))
  }
  return { preds, scores }
}

test("knnPredict matches Lightly's knn_predict, in chunks smaller than the queries", async (t) => {
  const [n, m, d, classes] = [300, 70, 16, 5]
  const bank = randn(n * d, 3)
  const queries = randn(m * d, 4)
  const labels = Array.from(bytes(n, 5), (v) => v % classes)
  for (const k of [1, 20, 200, 1000]) {
    const ref = referenceKnn(bank, labels, queries, d, classes, k, 0.1)
    const got = await knnPredict(tensor(bank, [n, d]), labels, tensor(queries, [m, d]), { k, temperature: 0.1, chunk: 32, numClasses: classes })
    t.deepEqual(Array.from(got.predictions), ref.preds, `k=${k}`)
    t.deepEqual(got.scores.shape, [m, classes])
    let worst = 0
    ref.scores.flat().forEach((s, i) => (worst = Math.max(worst, Math.abs(got.scores.data[i] - s) / Math.max(s, 1))))
    t.true(worst < 1e-4, `k=${k}: scores off by ${worst}`)
  }
})

// With netlib's reference BLAS the CPU similarities are a 1x1 convolution instead of a matrix
// product (5x faster there); the vote must not change.
const referenceBlas = '/usr/lib/x86_64-linux-gnu/blas'
const referenceTitle = 'with the reference BLAS, kNN takes its convolution route and still matches knn_predict'
if (!fs.existsSync(path.join(referenceBlas, 'libblas.so.3'))) {
  test.skip(`${referenceTitle} [skipped: Debian's reference BLAS (libblas3) is not installed]`, () => {})
} else {
  test(referenceTitle, (t) => {
    const [n, m, d, classes, k] = [300, 70, 16, 5, 20]
    const bank = randn(n * d, 3)
    const queries = randn(m * d, 4)
    const labels = Array.from(bytes(n, 5), (v) => v % classes)
    const input = JSON.stringify({ bank: Array.from(bank), labels, queries: Array.from(queries), d, classes, k })
    const out = execFileSync(process.execPath, [path.join(__dirname, 'helpers', 'knn-child.js'), input], {
      encoding: 'utf8',
      env: { ...process.env, LD_LIBRARY_PATH: referenceBlas, BYOL_NO_BLAS_WARNING: '1' },
    })
    const got = JSON.parse(out.trim().split('\n').pop()!)
    t.true(got.blas.reference, `the child loaded ${got.blas.library}`)
    const ref = referenceKnn(bank, labels, queries, d, classes, k, 0.1)
    t.deepEqual(got.predictions, ref.preds)
    let worst = 0
    ref.scores.flat().forEach((s, i) => (worst = Math.max(worst, Math.abs(got.scores[i] - s) / Math.max(s, 1))))
    t.true(worst < 1e-4, `scores off by ${worst}`)
  })
}

test('knnPredict: a larger temperature flattens the vote; numClasses defaults to max label + 1', async (t) => {
  // One very close neighbour of class 1 against two far ones of class 0.
  const bank = tensor(Float32Array.from([1, 0, 0.6, 0.8, 0.6, -0.8]), [3, 2])
  const query = tensor(Float32Array.from([1, 0.05]), [1, 2])
  const sharp = await knnPredict(bank, [1, 0, 0], query, { k: 3, temperature: 0.1 })
  const flat = await knnPredict(bank, [1, 0, 0], query, { k: 3, temperature: 100 })
  t.deepEqual(Array.from(sharp.predictions), [1])
  t.deepEqual(Array.from(flat.predictions), [0])
  t.deepEqual(sharp.scores.shape, [1, 2])
})

test('knnEvaluate embeds natively and agrees with embed() + the reference vote', async (t) => {
  const model = await Byol.create({ ...TINY_MODEL, seed: 3 })
  const train = classImages(48, 16, 4, 1)
  const test_ = classImages(20, 16, 4, 2)
  const trainDs = await fromImages(train)
  const testDs = await fromImages(test_)
  const r = await knnEvaluate(model, trainDs, testDs, { k: 10, temperature: 0.1, batchSize: 7 })
  const f = await embed(model, train)
  const q = await embed(model, test_)
  const d = f.shape[1]
  t.is(d, 64, 'ResNet-18 of width 8 has 64 features')
  const ref = referenceKnn(f.data, train.labels, q.data, d, 4, 10, 0.1)
  t.deepEqual(Array.from(r.predictions), ref.preds)
  const correct = ref.preds.filter((p, i) => p === test_.labels[i]).length
  t.is(r.correct, correct)
  t.is(r.total, 20)
  t.is(r.top1, correct / 20)
})

test('knnEvaluate needs labels on both sides', async (t) => {
  const model = await Byol.create({ ...TINY_MODEL })
  const imgs = classImages(8, 8)
  const labelled = await fromImages(imgs)
  const unlabelled = await fromImages({ data: imgs.data, shape: imgs.shape })
  await t.throwsAsync(knnEvaluate(model, unlabelled, labelled), { message: /needs labelled data/ })
})

test("embed: features of uint8 images equal the model's own forward of the normalised images", async (t) => {
  const model = await Byol.create({ ...TINY_MODEL, seed: 1 })
  const imgs = classImages(5, 8, 2, 9)
  const e = await embed(model, imgs, { batchSize: 2 })
  // ToTensor + ImageNet Normalize, NHWC -> NCHW, done here by hand.
  const mean = [0.485, 0.456, 0.406]
  const std = [0.229, 0.224, 0.225]
  const x = new Float32Array(5 * 3 * 64)
  for (let n = 0; n < 5; n++)
    for (let c = 0; c < 3; c++) for (let p = 0; p < 64; p++) x[(n * 3 + c) * 64 + p] = (imgs.data[(n * 64 + p) * 3 + c] / 255 - mean[c]) / std[c]
  const direct = await model.embed(tensor(x, [5, 3, 8, 8]))
  t.deepEqual(e.shape, [5, 64])
  let worst = 0
  direct.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - e.data[i]))))
  t.true(worst < 1e-4, `max difference ${worst}`)
  const unit = await embed(model, imgs, { normalize: true })
  const norm = Math.hypot(...unit.data.subarray(0, 64))
  t.true(Math.abs(norm - 1) < 1e-5)
})
