// kNN evaluation as Lightly's benchmarks: L2-normalised backbone features (eval mode), cosine
// similarity, the k = 200 nearest training images vote with weight exp(similarity / 0.1). The
// similarity blocks and top-k run natively (libtorch), on the model's device.
import { Dataset } from '../data/dataset'
import { modelHandle } from '../model/byol-handle'
import type { Byol } from '../model/byol'
import { native } from '../model/addon'
import type { Tensor } from '../model/tensor'

export interface KnnOptions {
  /** Neighbours that vote (default 200). */
  k?: number
  /** Softmax temperature of the vote weights (default 0.1). */
  temperature?: number
  /** Images per forward pass (default 512). */
  batchSize?: number
  /** Query rows per similarity block (default 256). */
  chunk?: number
}

export interface KnnResult {
  /** Fraction of test images whose predicted class is their label. */
  top1: number
  correct: number
  total: number
  /** Predicted class of every test image. */
  predictions: Int32Array
}

/** kNN top-1 accuracy of a labelled test set against a labelled train set (the bank). */
export async function knnEvaluate(model: Byol, train: Dataset, test: Dataset, options: KnnOptions = {}): Promise<KnnResult> {
  if (!train.labelled || !test.labelled) {
    throw new TypeError(`kNN evaluation needs labelled data: ${!train.labelled ? train.meta.source : test.meta.source} has no labels`)
  }
  const r = await native.byolKnnEvaluate(modelHandle(model), train.handle, test.handle, options)
  return { top1: r.top1, correct: r.correct, total: r.total, predictions: Int32Array.from(r.predictions.data as BigInt64Array, Number) }
}

/**
 * Classifies feature rows (`queries`, `[M, D]`) against labelled feature rows (`bank`, `[N, D]`)
 * with the same weighted vote. Rows are L2-normalised first. Runs on the CPU.
 */
export async function knnPredict(
  bank: Tensor,
  bankLabels: ArrayLike<number>,
  queries: Tensor,
  options: KnnOptions & { numClasses?: number } = {},
): Promise<{ predictions: Int32Array; scores: Tensor }> {
  const labels = new BigInt64Array(bankLabels.length)
  let max = 0
  for (let i = 0; i < labels.length; i++) {
    labels[i] = BigInt(bankLabels[i])
    max = Math.max(max, bankLabels[i])
  }
  const r = await native.knnPredict(bank, { data: labels, shape: [labels.length] }, queries, {
    ...options,
    numClasses: options.numClasses ?? max + 1,
  })
  return {
    predictions: Int32Array.from(r.predictions.data as BigInt64Array, Number),
    scores: r.scores as Tensor,
  }
}
