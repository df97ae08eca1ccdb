// Training runs on a CUDA device, timed from start to finish (data loading and kNN evaluation
// included): per-epoch loss, kNN top-1, seconds and images/s as JSON lines, then the accuracy
// curve and the wall time. The main job (Lightly's BYOL example) by default; the headline run is
//   node dist/bench/gpu-train.js --data datasets/cifar10 --preset cifar10-benchmark --batch-size 512 --epochs 200 --eval-every 10
// (the device machine has no Rust: build the shim with `node scripts/install.js --force` and carry the addon).
//
//   node dist/bench/gpu-train.js --data datasets/cifar10 [--epochs 2] [--eval-every 1] [--precision fp32] [--no-cuda-graph]
import { parseArgs } from 'util'
import { loadDataSource, PresetName, runtimeInfo, train } from '../src'

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string', default: 'datasets/cifar10' },
      epochs: { type: 'string', default: '2' },
      'eval-every': { type: 'string', default: '1' },
      device: { type: 'string', default: 'auto' },
      preset: { type: 'string', default: 'lightly-example' },
      'batch-size': { type: 'string' },
      precision: { type: 'string', default: 'auto' },
      'no-cuda-graph': { type: 'boolean', default: false },
      'no-channels-last': { type: 'boolean', default: false },
      'no-target-stream': { type: 'boolean', default: false },
    },
  })
  const t0 = Date.now()
  const folder = { imageSize: 32, device: values.device === 'cpu' ? 'cpu' : runtimeInfo().cudaAvailable ? 'cuda:0' : 'cpu' }
  const trainData = await loadDataSource(values.data!, 'train', folder)
  const testData = await loadDataSource(values.data!, 'test', folder)
  console.log(
    JSON.stringify({
      runtime: runtimeInfo(),
      train: trainData.length,
      test: testData.length,
      dataDevice: trainData.device,
      loadSeconds: (Date.now() - t0) / 1000,
      cache: trainData.meta.cache,
    }),
  )
  const t1 = Date.now()
  const r = await train({
    data: trainData,
    testData,
    preset: values.preset as PresetName,
    batchSize: values['batch-size'] ? Number(values['batch-size']) : undefined,
    epochs: Number(values.epochs),
    evalEvery: Number(values['eval-every']),
    device: values.device as 'auto',
    precision: values.precision as 'auto',
    cudaGraph: values['no-cuda-graph'] ? false : 'auto',
    channelsLast: values['no-channels-last'] ? false : 'auto',
    targetStream: values['no-target-stream'] ? false : 'auto',
    callbacks: {
      onEpochEnd: (epoch, logs) =>
        console.log(
          JSON.stringify({
            epoch,
            loss: Number(logs.loss.toFixed(5)),
            knnTop1: logs.knnTop1,
            stepSeconds: Number(logs.seconds.toFixed(2)),
            imagesPerSecond: Math.round(logs.imagesPerSecond),
            elapsed: (Date.now() - t1) / 1000,
          }),
        ),
    },
  })
  const curve = r.history.filter((h) => h.knnTop1 !== undefined).map((h) => `${h.epoch + 1}:${h.knnTop1!.toFixed(4)}`)
  console.log(`kNN top-1 by epoch: ${curve.join(' ')}`)
  console.log(
    JSON.stringify({
      device: r.device,
      preset: r.config.preset,
      batch: r.config.batchSize,
      epochs: r.epochs,
      trainSeconds: (Date.now() - t1) / 1000,
      wallSeconds: (Date.now() - t0) / 1000,
      knnTop1: r.knnTop1,
    }),
  )
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
