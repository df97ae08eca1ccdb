// The main job (Lightly's BYOL example on CIFAR-10) on a CUDA device: per-epoch loss, kNN top-1,
// seconds and images/s as JSON lines, plus how long loading the data took. For the README's
// timings on a GPU machine (the device machine has no Rust: build the shim with
// `node scripts/install.js --force` and carry the addon).
//
//   node dist/bench/gpu-train.js --data datasets/cifar10 [--epochs 2] [--eval-every 1]
import { parseArgs } from 'util'
import { loadDataSource, runtimeInfo, train } from '../src'

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string', default: 'datasets/cifar10' },
      epochs: { type: 'string', default: '2' },
      'eval-every': { type: 'string', default: '1' },
      device: { type: 'string', default: 'auto' },
    },
  })
  const t0 = Date.now()
  const folder = { imageSize: 32, device: values.device === 'cpu' ? 'cpu' : runtimeInfo().cudaAvailable ? 'cuda:0' : 'cpu' }
  const trainData = await loadDataSource(values.data!, 'train', folder)
  const testData = await loadDataSource(values.data!, 'test', folder)
  console.log(JSON.stringify({ runtime: runtimeInfo(), train: trainData.length, test: testData.length, dataDevice: trainData.device, loadSeconds: (Date.now() - t0) / 1000, cache: trainData.meta.cache }))
  const t1 = Date.now()
  const r = await train({
    data: trainData,
    testData,
    epochs: Number(values.epochs),
    evalEvery: Number(values['eval-every']),
    device: values.device as 'auto',
    callbacks: {
      onEpochEnd: (epoch, logs) =>
        console.log(JSON.stringify({ epoch, loss: Number(logs.loss.toFixed(5)), knnTop1: logs.knnTop1, stepSeconds: Number(logs.seconds.toFixed(2)), imagesPerSecond: Math.round(logs.imagesPerSecond), elapsed: (Date.now() - t1) / 1000 })),
    },
  })
  console.log(JSON.stringify({ device: r.device, trainSeconds: (Date.now() - t1) / 1000, knnTop1: r.knnTop1 }))
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
