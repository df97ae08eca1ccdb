// Run by knn.test.ts in a process whose libblas.so.3 the test chose: kNN predictions and scores of
// the data given as JSON on argv, with the BLAS the process loaded.
import { knnPredict, runtimeInfo, tensor } from '../../src'

async function main(): Promise<void> {
  const { bank, labels, queries, d, classes, k } = JSON.parse(process.argv[2])
  const got = await knnPredict(tensor(Float32Array.from(bank), [labels.length, d]), labels, tensor(Float32Array.from(queries), [queries.length / d, d]), {
    k,
    temperature: 0.1,
    chunk: 32,
    numClasses: classes,
  })
  console.log(JSON.stringify({ blas: runtimeInfo().blas, predictions: Array.from(got.predictions), scores: Array.from(got.scores.data) }))
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
