// The two views of every training batch: the augmenter the native trainer runs inside each step,
// and its random state, which checkpoints keep.
import { Augmenter, AugmentOptions } from '../data/augmenter'
import type { Native } from '../model/addon'
import type { TrainConfig } from './presets'

/** Makes the views of each batch natively; its random state is saved in checkpoints (as JSON). */
export interface ViewMaker {
  /** The augmenter the trainer runs, or null for unaugmented views. */
  readonly handle: Native.AugmenterHandle | null
  state(): Promise<unknown>
  setState(state: unknown): Promise<void>
}

class Augmented implements ViewMaker {
  constructor(private readonly augmenter: Augmenter) {}

  get handle(): Native.AugmenterHandle {
    return this.augmenter.handle
  }

  async state(): Promise<unknown> {
    const s = await this.augmenter.state()
    return { generator: Buffer.from(s.data.buffer, s.data.byteOffset, s.data.byteLength).toString('base64') }
  }

  async setState(state: unknown): Promise<void> {
    const encoded = (state as { generator?: string } | null)?.generator
    if (typeof encoded !== 'string') throw new Error('the checkpoint holds no augmenter state (was it written without augmentations?)')
    const bytes = new Uint8Array(Buffer.from(encoded, 'base64'))
    await this.augmenter.setState({ data: bytes, shape: [bytes.length] })
  }
}

/** Both views are the normalised images, unaugmented (tests and diagnostics). */
class Identity implements ViewMaker {
  readonly handle = null
  async state(): Promise<unknown> {
    return null
  }
  async setState(): Promise<void> {}
}

/** The augmenter options of a training configuration: its `augment` fields, views at `imageSize`. */
export function augmentOptions(config: TrainConfig, device: string): AugmentOptions {
  const { preset, ...fields } = config.augment
  return { preset: preset as AugmentOptions['preset'], inputSize: config.imageSize, ...fields, seed: config.seed, device }
}

export async function createViews(config: TrainConfig, device: string, kind?: 'none'): Promise<ViewMaker> {
  if (kind === 'none') return new Identity()
  return new Augmented(await Augmenter.create(augmentOptions(config, device)))
}
