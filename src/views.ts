// Turning a batch of dataset indices into two augmented views on the training device.
import type { Dataset } from './data/dataset'
import { indexTensor } from './data/dataset'
import { native, Native } from './native'
import type { TrainConfig } from './presets'

/** Makes the views of a batch natively; its random state is saved in checkpoints. */
export interface ViewMaker {
  prepare(dataset: Dataset, indices: BigInt64Array, device: string): Promise<Native.BatchHandle>
  state(): Promise<unknown>
  setState(state: unknown): Promise<void>
}

/** Both views are the normalised images, unaugmented (tests and diagnostics). */
class Identity implements ViewMaker {
  prepare(dataset: Dataset, indices: BigInt64Array, device: string): Promise<Native.BatchHandle> {
    return native.batchPrepare(dataset.handle, indexTensor(indices), null, { device })
  }
  async state(): Promise<unknown> {
    return null
  }
  async setState(): Promise<void> {}
}

export async function createViews(config: TrainConfig, device: string, kind?: 'none'): Promise<ViewMaker> {
  void config
  void device
  if (kind === 'none') return new Identity()
  // TODO(issue 3): the native augmenter.
  return new Identity()
}
