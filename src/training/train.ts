// train(): the Lightly BYOL example (or another preset) on a dataset, from TypeScript, in the
// shape of a plain training loop. Steps run natively in chunks of `lossEvery` whose losses are
// read one chunk later, so neither the event loop nor the device waits for the other
// (training-run.ts, chunk-queue.ts).
import { TrainingRun } from './training-run'
import type { TrainOptions, TrainResult } from './train-options'

export type { BatchLogs, EpochLogs, TrainCallbacks, TrainOptions, TrainResult } from './train-options'

/**
 * Trains a BYOL model. Defaults are Lightly's BYOL example (preset `lightly-example`):
 * ResNet-18, heads 512-1024-256 and 256-1024-256, SGD lr 0.06, batch 256, 10 epochs, target
 * momentum cosine 0.996 -> 1 per epoch, `byol-cifar` augmentations.
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const run = await TrainingRun.open(options)
  try {
    for (const epoch of run.epochs()) {
      await run.trainEpoch(epoch)
      await run.endEpoch(epoch)
    }
  } catch (e) {
    await run.fail(e)
    throw e
  }
  await run.close()
  return run.result()
}
