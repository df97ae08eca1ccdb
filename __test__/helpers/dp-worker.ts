// One rank (or a single process) of the data-parallel tests: trains with the options in
// BYOL_TEST_OPTIONS (JSON) on the tiny class images, with the job taken from torchrun's
// environment, and writes what the test compares to BYOL_TEST_OUT: the step losses and every
// weight, BatchNorm statistic and momentum buffer of the model.
import fs = require('fs')
import { train, TrainOptions } from '../../src'
import { distributedFromEnv } from '../../src/distributed/options'
import { native } from '../../src/model/addon'
import { modelHandle } from '../../src/model/byol-handle'
import { classImages, TINY_MODEL } from '../data.fixtures'

async function main(): Promise<void> {
  const extra = JSON.parse(process.env.BYOL_TEST_OPTIONS ?? '{}') as Partial<TrainOptions> & { images?: number; overlap?: boolean }
  const { images = 32, overlap, ...options } = extra
  const result = await train({
    data: classImages(images, 16),
    testData: false,
    imageSize: 16,
    model: TINY_MODEL,
    device: 'cpu',
    log: () => {},
    // `overlap` picks how this job's gradients travel; everything else comes from the environment.
    distributed: overlap === undefined ? undefined : { ...distributedFromEnv()!, overlap },
    ...options,
  })
  const handle = modelHandle(result.model)
  const state: Record<string, number[]> = {}
  for (const network of ['online', 'target'] as const) {
    for (const e of await native.byolState(handle, network)) state[`${network}/${e.name}`] = Array.from(e.data as ArrayLike<number | bigint>, Number)
  }
  const training = await native.byolTrainingState(handle)
  ;(training.momentumBuffers ?? []).forEach((b, i) => (state[`momentum/${i}`] = Array.from(b.data as Float32Array)))
  const out = {
    stepLosses: result.stepLosses,
    steps: result.steps,
    aborted: result.aborted,
    history: result.history,
    checkpoint: result.checkpoint,
    communication: result.communication,
    state,
  }
  // Launchers give every rank the same environment: BYOL_TEST_OUT_PER_RANK appends the rank.
  const file = process.env.BYOL_TEST_OUT_PER_RANK ? `${process.env.BYOL_TEST_OUT}.${process.env.RANK}` : process.env.BYOL_TEST_OUT!
  fs.writeFileSync(file, JSON.stringify(out))
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`)
  process.exit(1)
})
