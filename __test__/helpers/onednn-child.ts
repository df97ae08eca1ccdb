// Run by onednn.test.ts in a fresh process, because oneDNN fixes its instruction set when the
// addon loads: prints runtimeInfo().onednn and, with `train`, the per-epoch losses of a short
// bf16 + channels-last run, as one JSON line.
import { runtimeInfo, train } from '../../src'
import { classImages, TINY_MODEL } from '../data.fixtures'

async function main(): Promise<void> {
  const onednn = runtimeInfo().onednn
  let losses: number[] = []
  if (process.argv.includes('train')) {
    const r = await train({
      data: classImages(64, 16),
      testData: false,
      imageSize: 16,
      model: TINY_MODEL,
      device: 'cpu',
      epochs: 4,
      batchSize: 16,
      precision: 'bf16',
      channelsLast: true,
    })
    losses = r.history.map((h) => h.loss)
  }
  console.log(JSON.stringify({ onednn, losses }))
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
