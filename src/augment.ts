// BYOL's two augmented views of a batch, made natively on the training device (CPU or CUDA) with
// per-image random parameters: Lightly's BYOLView1Transform / BYOLView2Transform.
import { native, Native } from './native'
import { Tensor } from './tensor'

/** `byol`: Lightly's defaults (224 pixels); `byol-cifar`: Lightly's CIFAR-10 example (32, no blur). */
export type AugmentPreset = 'byol' | 'byol-cifar'
export const AUGMENT_PRESETS: AugmentPreset[] = ['byol', 'byol-cifar']

/**
 * One view's transform, with the names and meaning of Lightly's `BYOLView1Transform` arguments.
 * Order: RandomResizedCrop, rotation, horizontal flip, vertical flip, colour jitter (random order
 * per image), grayscale, Gaussian blur, solarization, normalisation.
 */
export interface ViewOptions {
  /** Output size (square) of RandomResizedCrop. */
  inputSize?: number
  /** Probability of the colour jitter. */
  cjProb?: number
  /** Multiplies the four jitter strengths. */
  cjStrength?: number
  /** Brightness factor range `[max(0, 1 - s b), 1 + s b]`. */
  cjBright?: number
  cjContrast?: number
  cjSat?: number
  /** Hue shift range `[-s h, s h]` turns (`s h` at most 0.5). */
  cjHue?: number
  /** RandomResizedCrop draws the area fraction from `[minScale, 1]` (aspect ratio in [3/4, 4/3]). */
  minScale?: number
  /** Probability of turning the image gray (ITU-R 601-2 luma, 3 channels). */
  randomGrayScale?: number
  /** Probability of the Gaussian blur (PIL's `GaussianBlur(radius=sigma)`). */
  gaussianBlur?: number
  /** The blur's sigma is drawn from `[min, max]`. */
  sigmas?: [number, number]
  /** Probability of solarization (values >= 128/255 inverted). */
  solarizationProb?: number
  vfProb?: number
  hfProb?: number
  /** Probability of a rotation. */
  rrProb?: number
  /** `null` (default): rotations by 90 degrees; `d`: an angle in `[-d, d]`; `[lo, hi]` degrees. */
  rrDegrees?: number | [number, number] | null
  /** `true` (default): ImageNet mean and std; `false`: values stay in [0, 1]. */
  normalize?: boolean | { mean: [number, number, number]; std: [number, number, number] }
}

export interface AugmentOptions extends ViewOptions {
  /** Starting point that every other field overrides (default `byol`). */
  preset?: AugmentPreset
  /** Seed of the augmenter's own random generator (default 0). */
  seed?: number
  /** Where views are made: `cpu` (default), `cuda`, `cuda:N` or `auto`. */
  device?: string
  /** Element type of the views (`bfloat16` for bf16 training; returned to JavaScript as float32). */
  dtype?: 'float32' | 'bfloat16'
  /** CUDA only, a diagnostic for tests: `views()` fails if anything in it makes the host wait
   * for the device (libtorch's sync check, process-wide while a call runs). */
  cudaSyncCheck?: boolean
  /** Overrides of the first view only (Lightly's `BYOLView1Transform`; produces `view0`). */
  view1?: ViewOptions
  /** Overrides of the second view only (Lightly's `BYOLView2Transform`; produces `view1`). */
  view2?: ViewOptions
}

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
  return native.resolveAugmentOptions(options)
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
    return new Augmenter(await native.createAugmenter(options), config, { ...options })
  }

  /**
   * The two normalised views (`[N, 3, S, S]` float32, `S` each view's `inputSize`) of uint8 images,
   * `[N, H, W, 3]` (`layout: 'nhwc'`, default, as decoders give them) or `[N, 3, H, W]`.
   */
  async views(images: Tensor<Uint8Array>, options: { layout?: 'nhwc' | 'nchw' } = {}): Promise<{ view0: Tensor; view1: Tensor }> {
    return (await native.augmentViews(this.handle, images, options)) as { view0: Tensor; view1: Tensor }
  }

  /** The parameters the next `views()` call on `n` images of `height x width` would draw (and draws them). */
  async params(n: number, height: number, width: number): Promise<{ view1: ViewParams; view2: ViewParams }> {
    const p = await native.augmentParams(this.handle, n, height, width)
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
