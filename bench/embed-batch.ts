// The forward pass behind embed() at the batch sizes a service sees: 1 (one call per request) and
// the batches the micro-batching embedder forms under load. byol's default model (ResNet-18, 7x7
// stem) as the embedder loads it, against PyTorch's torchvision ResNet-18 eager and frozen for
// inference (bench/embed_torch_ref.py), in the same run, on the same number of threads.
//   node dist/bench/embed-batch.js [--batches 1,32,64] [--seconds 3] [--threads 1] [--rounds 2]
// The batch/1 column bounds what batching can gain on one compute thread.
import { execFileSync } from 'child_process'
import os = require('os')
import path = require('path')
import { parseArgs } from 'util'
import { Byol, embed, runtimeInfo, setNumThreads } from '../src'
import { randomImages } from './synthetic'

const { values: args } = parseArgs({
  options: {
    batches: { type: 'string', default: '1,32,64' },
    seconds: { type: 'string', default: '3' },
    threads: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '2' },
  },
})
const BATCHES = args.batches!.split(',').map(Number)
const SECONDS = Number(args.seconds)
const SIZE = 32

async function byolRates(model: Byol): Promise<Record<number, number>> {
  const rates: Record<number, number> = {}
  for (const b of BATCHES) {
    const images = { data: randomImages(b, SIZE), shape: [b, SIZE, SIZE, 3] }
    for (let i = 0; i < 3; i++) await embed(model, images, { batchSize: b })
    let n = 0
    const started = performance.now()
    while (performance.now() - started < SECONDS * 1000) {
      await embed(model, images, { batchSize: b })
      n += b
    }
    rates[b] = n / ((performance.now() - started) / 1000)
  }
  return rates
}

async function main(): Promise<void> {
  setNumThreads(Number(args.threads))
  const model = await Byol.create({ seed: 0 })
  await model.setStepOptions({ channelsLast: true })
  const info = runtimeInfo()
  console.log(
    `embed-batch: ${os.cpus().length} CPUs (${os.cpus()[0].model}), ${args.threads} thread(s), libtorch ${info.libtorch}, ${SIZE}x${SIZE} uint8 images, ${SECONDS} s per batch size`,
  )
  console.log(
    '| round | batch | byol images/s | PyTorch eager | PyTorch frozen | byol vs eager | byol vs frozen | byol batch/1 | eager batch/1 | frozen batch/1 |',
  )
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
  const reference = path.resolve(__dirname, '..', '..', 'bench', 'embed_torch_ref.py')
  const first = BATCHES[0]
  for (let round = 1; round <= Number(args.rounds); round++) {
    const byol = await byolRates(model)
    const { eager, frozen } = JSON.parse(
      execFileSync('/usr/bin/python3', [reference, '--batches', args.batches!, '--seconds', String(SECONDS), '--threads', args.threads!], { encoding: 'utf8' }),
    ) as Record<'eager' | 'frozen', Record<string, number>>
    for (const b of BATCHES) {
      const [mine, e, f] = [byol[b], eager[String(b)], frozen[String(b)]]
      const cells = [mine.toFixed(0), e.toFixed(0), f.toFixed(0), ratio(mine, e), ratio(mine, f)]
      cells.push(ratio(mine, byol[first]), ratio(e, eager[String(first)]), ratio(f, frozen[String(first)]))
      console.log(`| ${round} | ${b} | ${cells.join(' | ')} |`)
    }
  }
}

function ratio(a: number, b: number): string {
  return `${(a / b).toFixed(2)}x`
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
