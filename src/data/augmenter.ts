// BYOL's two augmented views of a batch, made natively on the training device (CPU or CUDA) with
// per-image random parameters: Lightly's BYOLView1Transform / BYOLView2Transform.
import { native, Native } from '../model/addon'
import { Tensor } from '../model/tensor'

/** `byol`: Lightly's defaults (224 pixels); `byol-cifar`: Lightly's CIFAR-10 example (32, no blur). */
export type AugmentPreset = 'byol' | 'byol-cifar'
export const AUGMENT_PRESETS: AugmentPreset[] = ['byol', 'byol-cifar']

/** One view's transform (Lightly's `BYOLView1Transform` arguments in camelCase; see index.d.ts). */
export type ViewOptions = Native.NativeViewOptions
/** A preset, overrides for both views or one, the seed, device and output type (see index.d.ts). */
export type AugmentOptions = Native.NativeAugmentOptions

/** Every field of a view, as a preset and overrides resolve. */
export type ResolvedView = Native.NativeResolvedView
/** Both views' resolved fields and the output type. */
export type AugmentConfig = Native.NativeAugmentConfig

/** One view's random parameters for a batch, one value per image. */
export interface ViewParams {
  /** RandomResizedCrop's box, in input pixels. */
  top: Float32Array
  left: Float32Array
  height: Float32Array
  width: Float32Array
  /** 1 where the image rotates; `angle` in degrees (counter-clockwise), 0 where it does not. */
  rotate: Float32Array
  angle: Float32Array
  hflip: Float32Array
  vflip: Float32Array
  /** 1 where the colour jitter runs, with these factors (drawn for every image). */
  jitter: Float32Array
  brightness: Float32Array
  contrast: Float32Array
  saturation: Float32Array
  hue: Float32Array
  /** Per image, the 4 jitter operations in the order they run (0 brightness, 1 contrast,
   * 2 saturation, 3 hue): `order[4 i + k]`. */
  order: Float32Array
  grayscale: Float32Array
  /** The blur's sigma, 0 where the image is not blurred. */
  blurSigma: Float32Array
  solarize: Float32Array
}

/** The configuration a preset and overrides give (validated: throws RangeError/TypeError naming the field). */
export function resolveAugmentOptions(options: AugmentOptions = {}): AugmentConfig {
  return native.augmentResolveOptions(options)
}

function unpack(p: Native.NativeViewParams): ViewParams {
  const out: Record<string, Float32Array> = {}
  for (const [key, t] of Object.entries(p)) out[key] = (t as Native.NativeTensor).data as Float32Array
  return out as unknown as ViewParams
}

/**
 * Makes BYOL's two views of uint8 image batches with its own seeded random generator, on one
 * device. Calls are serialised; each draws fresh parameters for every image. Save `state()` with
 * a checkpoint and `setState()` it on resume to continue the same random stream.
 */
export class Augmenter {
  private constructor(
    /** The native handle (for native training steps that augment without leaving the device). */
    readonly handle: Native.AugmenterHandle,
    readonly config: AugmentConfig,
    readonly options: Readonly<AugmentOptions>,
  ) {}

  /** Validates the options (RangeError/TypeError naming the field) and seeds the generator. */
  static async create(options: AugmentOptions = {}): Promise<Augmenter> {
    const config = resolveAugmentOptions(options)
    return new Augmenter(await native.augmenterCreate(options), config, { ...options })
  }

  /**
   * The two normalised views (`[N, 3, S, S]` float32, `S` each view's `inputSize`) of uint8 images,
   * `[N, H, W, 3]` (`layout: 'nhwc'`, default, as decoders give them) or `[N, 3, H, W]`.
   */
  async views(images: Tensor<Uint8Array>, options: { layout?: 'nhwc' | 'nchw' } = {}): Promise<{ view0: Tensor; view1: Tensor }> {
    return (await native.augmenterViews(this.handle, images, options)) as { view0: Tensor; view1: Tensor }
  }

  /** The parameters the next `views()` call on `n` images of `height x width` would draw (and draws them). */
  async params(n: number, height: number, width: number): Promise<{ view1: ViewParams; view2: ViewParams }> {
    const p = await native.augmenterParams(this.handle, n, height, width)
    return { view1: unpack(p.view1), view2: unpack(p.view2) }
  }

  /** The random generator's state (bytes), to save with a checkpoint. */
  async state(): Promise<Tensor<Uint8Array>> {
    return (await native.augmenterState(this.handle)) as Tensor<Uint8Array>
  }

  /** Restores a state from `state()` of an augmenter on the same kind of device. */
  async setState(state: Tensor<Uint8Array>): Promise<void> {
    await native.augmenterSetState(this.handle, state)
  }
}
