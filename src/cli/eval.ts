// `byol eval`: kNN accuracy of a trained backbone on a labelled train/test pair.
import { CommandSpec, intOption, numberOption, Parsed, stringOption, UsageError } from './args'
import { loadModel, modelOptions } from './model'
import { ProgressBar } from './progress'

export const spec: CommandSpec = {
  name: 'eval',
  summary: "kNN accuracy (cosine, k=200, temperature 0.1, as Lightly's benchmarks) of a trained backbone",
  usage: 'byol eval (--run <dir> | --weights <file>) --data <dir> [options]',
  options: {
    ...modelOptions,
    data: { type: 'string', value: 'DIR', help: 'labelled images: a folder with train/ and test/ (or cifar-10-batches-bin/); train/ is the kNN bank' },
    'test-data': { type: 'string', value: 'DIR', help: 'labelled test images (default: the test/ split of --data)' },
    k: { type: 'string', value: 'N', help: 'neighbours that vote', default: '200' },
    temperature: { type: 'string', value: 'T', help: 'temperature of the vote weights exp(similarity / T)', default: '0.1' },
    'image-size': { type: 'string', value: 'N', help: 'decode images at NxN (default: the size the model was trained at, else 32)' },
    'batch-size': { type: 'string', value: 'N', help: 'images per forward pass', default: '512' },
    'cache-dir': { type: 'string', value: 'DIR', help: 'where decoded images are cached' },
    json: { type: 'boolean', help: 'print the result as JSON' },
  },
  examples: ['byol eval --run runs/run-20261127-120000 --data datasets/cifar10'],
}

export async function run(p: Parsed): Promise<number> {
  const v = p.values
  const data = stringOption(v, 'data')
  if (!data) throw new UsageError('--data is required', 'eval')
  const { model, imageSize, source } = await loadModel(p, 'eval')
  const { loadDataSource } = await import('../data/index')
  const { knnEvaluate } = await import('../evaluation/knn')
  const bar = new ProgressBar()
  const folder = {
    imageSize: intOption(v, 'image-size', 1, 4096) ?? imageSize ?? 32,
    cacheDir: stringOption(v, 'cache-dir'),
    device: model.device,
    onProgress: v.json ? undefined : (d: number, n: number) => bar.update('decoding images', d, n),
  }
  const train = await loadDataSource(data, 'train', folder)
  const test = await loadDataSource(stringOption(v, 'test-data') ?? data, 'test', folder)
  bar.clear()
  const options = {
    k: intOption(v, 'k', 1) ?? 200,
    temperature: numberOption(v, 'temperature', Number.MIN_VALUE) ?? 0.1,
    batchSize: intOption(v, 'batch-size', 1) ?? 512,
  }
  const r = await knnEvaluate(model, train, test, options)
  if (v.json) {
    process.stdout.write(
      JSON.stringify({
        model: source,
        top1: r.top1,
        correct: r.correct,
        total: r.total,
        k: options.k,
        temperature: options.temperature,
        trainImages: train.length,
      }) + '\n',
    )
  } else {
    process.stdout.write(
      `kNN top-1 accuracy: ${r.top1.toFixed(4)} (${r.correct}/${r.total} test images; k=${options.k}, temperature ${options.temperature}, ${train.length} train images)\n`,
    )
  }
  return 0
}
