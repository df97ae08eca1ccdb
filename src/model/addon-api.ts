// Types of byol's native addon (crates/node/src/lib.rs lists its exports), which the package
// root's index.js loads. The TypeScript API in src/ wraps these. Export names put the handle kind
// or area first, then the verb (`byolCreate`, `augmenterViews`, `trainerRun`, `runtimeSetNumThreads`).

/** A dense row-major tensor crossing the native boundary. */
export interface NativeTensor {
  data: Float32Array | Uint8Array | BigInt64Array
  shape: number[]
}

export interface NativeStateEntry extends NativeTensor {
  name: string
  role: 'parameter' | 'buffer'
}

/** Optimizer of the online network. Defaults: SGD, lr 0.06, no momentum (the Lightly example). */
export interface NativeOptimizerOptions {
  name?: 'sgd' | 'lars'
  lr?: number
  momentum?: number
  dampening?: number
  weightDecay?: number
  nesterov?: boolean
  /** LARS only: trust coefficient (default 0.001). */
  trustCoefficient?: number
  /** LARS only: added to the norm denominator (default 1e-8). */
  eps?: number
  /** LARS only: leave biases and BatchNorm parameters unadapted (default false). */
  excludeBiasAndNorm?: boolean
}

/** The model's architecture and training options. Defaults reproduce Lightly's BYOL example. */
export interface NativeByolOptions {
  /** `imagenet`: torchvision's 7x7/2 conv and max-pool (default); `cifar`: 3x3/1 conv, no max-pool. */
  stem?: 'imagenet' | 'cifar'
  /** Channels of the first ResNet-18 stage; 64 (default) is torchvision's ResNet-18. */
  width?: number
  /** Projection head 512 -> 1024 -> 256 by default. */
  projectionHiddenDim?: number
  projectionOutputDim?: number
  /** Prediction head 256 -> 1024 -> 256 by default. */
  predictionHiddenDim?: number
  optimizer?: NativeOptimizerOptions
  /** Also average BatchNorm running statistics into the target network (default false, as Lightly). */
  emaBuffers?: boolean
  /** `auto`, `cpu` (default), `cuda` or `cuda:N`. */
  device?: string
  /** Seed of the weight initialisation (default 0). */
  seed?: number
}

/** An opaque handle to a native model. */
export type ModelHandle = { readonly __brand: 'ByolModel' }

export interface RuntimeInfo {
  libtorch: string
  threads: number
  cudaDeviceCount: number
  cudaAvailable: boolean
  /** The libtorch shim was built with CUDA graph and stream support (against a CUDA libtorch). */
  cudaGraphs: boolean
  /** The BLAS libtorch's matrix products (the heads, kNN) go to. */
  blas: BlasInfo
  /** The oneDNN libtorch's convolutions go to, and the instruction set it computes with. */
  onednn: OnednnInfo
  /** Native tensors alive in this process: flat over a long run unless something leaks. */
  liveTensors: number
  /** The c10d process-group backends this build can train data-parallel over (`gloo`, `nccl`). */
  distributedBackends: string[]
  /** The shim decodes JPEGs with the system's libjpeg-turbo (services' uploads); otherwise sharp does. */
  jpeg: boolean
}

export interface BlasInfo {
  /** `OpenBLAS`, `reference BLAS`, `BLIS`, `MKL`, ... or `built into libtorch` (PyTorch's wheels). */
  name: string
  /** The library file providing `sgemm_`, when libtorch loads a system BLAS. */
  library?: string
  /** OpenBLAS's build string: version, kernel, thread limit. */
  config?: string
  /** OpenBLAS's threading. */
  threading?: 'openmp' | 'pthreads' | 'sequential'
  /** Netlib's reference BLAS: correct, but it halves byol's CPU training speed. */
  reference: boolean
}

export interface OnednnInfo {
  /** libtorch's oneDNN version, e.g. `2.6.3`. */
  version?: string
  /** The instruction set oneDNN dispatches to (`avx512_core_bf16`, `avx512_core_amx`, ...), where
   * libtorch exposes oneDNN's API (Debian's does; PyTorch's wheels do not). */
  isa?: string
  /** byol capped oneDNN below the CPU's best instruction set (AMX with a oneDNN whose AMX bf16
   * kernels diverge). */
  capped: boolean
  /** Why oneDNN computes with that instruction set. */
  reason: string
}

export declare function runtimeInfo(): RuntimeInfo
/** The BLAS libtorch's matrix products go to (what `runtimeInfo().blas` holds), without touching CUDA. */
export declare function blasInfo(): BlasInfo
export declare function runtimeSetNumThreads(threads: number): void
/** Only deterministic cuDNN algorithms from now on (as `torch.backends.cudnn.deterministic`). */
export declare function runtimeSetCudnnDeterministic(enabled: boolean): void
/** @internal Test-only: panics in native code on purpose (`sync`: while called, `async`: on the compute thread). */
export declare function __testPanic(where: 'sync' | 'async'): Promise<never>
export declare function cosineSchedule(step: number, maxSteps: number, start: number, end: number): number
export declare function byolCreate(options?: NativeByolOptions): Promise<ModelHandle>
export declare function byolStep(model: ModelHandle, view0: NativeTensor, view1: NativeTensor, options: { momentum: number; lr?: number }): Promise<number>
export declare function byolDevice(model: ModelHandle): string
export declare function byolUpdateTarget(model: ModelHandle, momentum: number): Promise<void>
export declare function byolForward(
  model: ModelHandle,
  network: 'online' | 'target',
  part: 'backbone' | 'projection' | 'prediction',
  input: NativeTensor,
  train: boolean,
): Promise<NativeTensor>
export declare function byolState(model: ModelHandle, network: 'online' | 'target'): Promise<NativeStateEntry[]>
export declare function byolLoadState(model: ModelHandle, network: 'online' | 'target', entries: Array<{ name: string } & NativeTensor>): Promise<void>
/** @internal BYOL's loss and its gradients alone, for the test against PyTorch. */
export declare function negativeCosineLoss(
  p0: NativeTensor,
  z0: NativeTensor,
  p1: NativeTensor,
  z1: NativeTensor,
): Promise<{ loss: number; gradP0: NativeTensor; gradP1: NativeTensor }>

/* Datasets, training steps, embeddings and kNN (crates/node/src/{dataset,trainer,training_state,knn}.rs) */

/** An opaque handle to images held natively (uint8 [N, H, W, 3]) on the CPU or a GPU. */
export type DatasetHandle = { readonly __brand: 'ByolDataset' }
/** An opaque handle to a native trainer (model, dataset and augmenter bound together). */
export type TrainerHandle = { readonly __brand: 'ByolTrainer' }
/** An opaque handle to the losses of a queued chunk of steps, still on the device. */
export type LossesHandle = { readonly __brand: 'ByolLosses' }

export interface NativeDatasetOptions {
  /** Required when labels are given: labels lie in [0, numClasses). */
  numClasses?: number
  /** `cpu`, `cuda`, `cuda:N` or `auto`; where the images are kept and gathered. */
  device?: string
}

export interface DatasetInfo {
  length: number
  height: number
  width: number
  labelled: boolean
  numClasses: number
  device: string
}

export interface KnnOptions {
  k?: number
  temperature?: number
  batchSize?: number
  chunk?: number
}

export declare function datasetCreate(images: NativeTensor, labels: NativeTensor | null, options?: NativeDatasetOptions): Promise<DatasetHandle>
export declare function datasetLoad(
  path: string,
  byteOffset: number,
  shape: number[],
  labels: NativeTensor | null,
  options?: NativeDatasetOptions,
): Promise<DatasetHandle>
export declare function datasetInfo(dataset: DatasetHandle): DatasetInfo
export declare function datasetGather(dataset: DatasetHandle, indices: NativeTensor): Promise<NativeTensor>
/** How steps compute (crates/byol/src/step.rs); none of it changes the model's definition. */
export interface NativeStepOptions {
  /** `fp32` (default) or `bf16`: autocast to bfloat16 with float32 weights, BatchNorm statistics and loss. */
  precision?: 'fp32' | 'bf16'
  /** Convolution weights and views in channels-last layout (default false). */
  channelsLast?: boolean
  /** CUDA only: the target network's forwards on a second stream (default false). */
  targetStream?: boolean
  /** Both views through each network as one batch (default false). Fewer, larger kernels, but
   * BatchNorm then normalises over both views together: not the reference's semantics. */
  jointViews?: boolean
}
export declare function byolSetStepOptions(model: ModelHandle, options: NativeStepOptions): Promise<void>
/** A trainer for batches of `batchSize` images of `dataset`; without an augmenter both views are the normalised images (tests). */
export declare function trainerCreate(
  model: ModelHandle,
  dataset: DatasetHandle,
  augmenter: AugmenterHandle | null,
  options: {
    batchSize: number
    cudaGraph?: boolean
    warmupSteps?: number
    /** Each step runs its batch as this many micro-batches and updates once from their summed gradients. */
    accumulate?: number
    /** A data-parallel job (groupJoin): rank 0's model is broadcast now; each step averages the gradients over the ranks. */
    group?: GroupHandle
    /** With a group: send gradient buckets during backward (default false). */
    overlap?: boolean
    /** With a group: gradients per all-reduce, MiB (default 25). */
    bucketMegabytes?: number
  },
): Promise<TrainerHandle>
export interface TrainerRunResult {
  losses: LossesHandle
  steps: number
  /** `graph`: steps replay a CUDA graph; `warmup`: eager steps before capture; `eager`: no graph (see `reason`). */
  graph: 'graph' | 'warmup' | 'eager'
  reason?: string
}
/** Queues one step per batch of `indices` (int64, whole batches); resolves once they are queued, not run. */
export declare function trainerRun(
  trainer: TrainerHandle,
  indices: NativeTensor,
  options: { lr: number; momentum: number; batchSize?: number },
): Promise<TrainerRunResult>
/** Waits for a chunk's steps (not for chunks queued after it) and reads their losses (once). */
export declare function trainerLosses(losses: LossesHandle): Promise<Float32Array>
/** Frees the trainer's captured CUDA graph and buffers now rather than when the handle is collected. */
export declare function trainerDispose(trainer: TrainerHandle): Promise<void>
/** Seconds spent in the data-parallel collectives so far (zeros outside a job). */
export declare function trainerCommTime(
  trainer: TrainerHandle,
): Promise<{ steps: number; allReduceSeconds: number; waitSeconds: number; broadcastSeconds: number }>

/* Data-parallel jobs over c10d (crates/node/src/distributed.rs) */

/** An opaque handle to this process's membership of a data-parallel job. */
export type GroupHandle = { readonly __brand: 'ByolGroup' }
/** The c10d process-group backends of this build. */
export declare function distributedBackends(): string[]
export declare function groupJoin(options: {
  rank: number
  worldSize: number
  masterAddr: string
  masterPort: number
  backend?: 'gloo' | 'nccl'
  timeoutSeconds?: number
  /** Where the group's own small collectives run (`cpu`, `cuda:N`). */
  device?: string
  /** torchrun's agent hosts the store; the restart count it is on. */
  agentRestart?: number
  socketInterface?: string
}): Promise<GroupHandle>
/** Publishes a string under `key` for the other ranks. */
export declare function groupPublish(group: GroupHandle, key: string, value: string): Promise<void>
/** What `rank` publishes under `key`, once it has; rejects when that rank is gone. */
export declare function groupWaitFor(group: GroupHandle, key: string, rank: number): Promise<string>
/** Whether any rank passed true: every rank gets the same answer at the same point. */
export declare function groupAny(group: GroupHandle, flag: boolean): Promise<boolean>
/** Tells the other ranks why this one stops. */
export declare function groupReportFailure(group: GroupHandle, message: string): void
/** Leaves the job; with `finish`, first waits until every rank has finished. */
export declare function groupLeave(group: GroupHandle, options?: { finish?: boolean }): Promise<void>
/** Peak bytes held by tensors and reserved by the caching allocator on a CUDA device since the last reset. */
export declare function cudaPeakMemory(device: string, options?: { reset?: boolean }): Promise<{ allocated: number; reserved: number }>
export declare function byolTrainingState(model: ModelHandle): Promise<{ steps: number; lr: number; momentumBuffers?: NativeTensor[] }>
export declare function byolLoadTrainingState(model: ModelHandle, state: { steps: number; lr?: number; momentumBuffers?: NativeTensor[] | null }): Promise<void>
export declare function byolEmbedImages(model: ModelHandle, images: NativeTensor, options?: { batchSize?: number; normalize?: boolean }): Promise<NativeTensor>
export declare function byolEmbedDataset(
  model: ModelHandle,
  dataset: DatasetHandle,
  options?: { batchSize?: number; normalize?: boolean },
): Promise<NativeTensor>
export declare function byolKnnEvaluate(
  model: ModelHandle,
  train: DatasetHandle,
  test: DatasetHandle,
  options?: KnnOptions,
): Promise<{ top1: number; correct: number; total: number; predictions: NativeTensor }>
export declare function knnPredict(
  bank: NativeTensor,
  bankLabels: NativeTensor,
  queries: NativeTensor,
  options: KnnOptions & { numClasses: number },
): Promise<{ predictions: NativeTensor; scores: NativeTensor }>

/** Exact cosine top-k (crates/node/src/similarity.rs): bank rows must be L2-normalised, queries
 * are normalised here; the `min(k, N)` best rows per query, best first, in blocks of `chunk` queries. */
export declare function similarityTopk(
  bank: NativeTensor,
  queries: NativeTensor,
  options: { k: number; chunk?: number },
): Promise<{ indices: NativeTensor; scores: NativeTensor }>

/* Uploaded images (crates/node/src/jpeg.rs) */

/** A JPEG's RGB pixels `[height, width, 3]`, decoded on libuv's pool with libjpeg-turbo; null
 * when it is not a JPEG of exactly that size with grey, YCbCr or RGB components and no ICC
 * profile. Rejects with libjpeg's message when the data is damaged or truncated. */
export declare function decodeJpeg(bytes: Uint8Array, height: number, width: number): Promise<Uint8Array | null>
/** decodeJpeg of a file, read on the pool thread too; null also when the file cannot be read. */
export declare function decodeJpegFile(path: string, height: number, width: number): Promise<Uint8Array | null>
/** Whether the shim was built with libjpeg (when not, decodeJpeg always gives null). */
export declare function jpegAvailable(): boolean

/* View augmentations (crates/node/src/augment.rs) */

/** An opaque handle to a native augmenter (its configuration, device and seeded generator). */
export type AugmenterHandle = { readonly __brand: 'ByolAugmenter' }

/**
 * One view's transform, with the names and meaning of Lightly's `BYOLView1Transform` arguments.
 * Order: RandomResizedCrop, rotation, horizontal flip, vertical flip, colour jitter (random order
 * per image), grayscale, Gaussian blur, solarization, normalisation.
 */
export interface NativeViewOptions {
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

export interface NativeAugmentOptions extends NativeViewOptions {
  /** Starting point that every other field overrides (default `byol`). */
  preset?: 'byol' | 'byol-cifar'
  /** Seed of the augmenter's own random generator (default 0). */
  seed?: number
  /** Where views are made: `cpu` (default), `cuda`, `cuda:N` or `auto`. */
  device?: string
  /** Element type of the views (`bfloat16` for bf16 training; returned to JavaScript as float32). */
  dtype?: 'float32' | 'bfloat16'
  /** CUDA only, a diagnostic for tests: `views()` fails if anything in it makes the host wait
   * for the device (libtorch's sync check, process-wide while a call runs). */
  cudaSyncCheck?: boolean
  /** CPU only (default true): process images grouped by the colour-jitter stages they need.
   * `false` runs every stage on every image, as on CUDA (same results; for tests). */
  cpuGrouping?: boolean
  /** Overrides of the first view only (Lightly's `BYOLView1Transform`; produces `view0`). */
  view1?: NativeViewOptions | null
  /** Overrides of the second view only (Lightly's `BYOLView2Transform`; produces `view1`). */
  view2?: NativeViewOptions | null
}

export interface NativeResolvedView {
  inputSize: number
  cjProb: number
  cjStrength: number
  cjBright: number
  cjContrast: number
  cjSat: number
  cjHue: number
  minScale: number
  randomGrayScale: number
  gaussianBlur: number
  sigmas: [number, number]
  solarizationProb: number
  vfProb: number
  hfProb: number
  rrProb: number
  rrDegrees: [number, number] | null
  normalize: false | { mean: [number, number, number]; std: [number, number, number] }
}

export interface NativeAugmentConfig {
  view1: NativeResolvedView
  view2: NativeResolvedView
  dtype: 'float32' | 'bfloat16'
}

/** One view's random parameters for a batch, one value per image (`order`: 4 per image). */
export interface NativeViewParams {
  top: NativeTensor
  left: NativeTensor
  height: NativeTensor
  width: NativeTensor
  rotate: NativeTensor
  angle: NativeTensor
  hflip: NativeTensor
  vflip: NativeTensor
  jitter: NativeTensor
  brightness: NativeTensor
  contrast: NativeTensor
  saturation: NativeTensor
  hue: NativeTensor
  order: NativeTensor
  grayscale: NativeTensor
  blurSigma: NativeTensor
  solarize: NativeTensor
}

export declare function augmentResolveOptions(options?: NativeAugmentOptions): NativeAugmentConfig
export declare function augmenterCreate(options?: NativeAugmentOptions): Promise<AugmenterHandle>
export declare function augmenterViews(
  augmenter: AugmenterHandle,
  images: NativeTensor,
  options?: { layout?: 'nhwc' | 'nchw' },
): Promise<{ view0: NativeTensor; view1: NativeTensor }>
export declare function augmenterParams(
  augmenter: AugmenterHandle,
  n: number,
  height: number,
  width: number,
): Promise<{ view1: NativeViewParams; view2: NativeViewParams }>
export declare function augmenterState(augmenter: AugmenterHandle): Promise<NativeTensor>
export declare function augmenterSetState(augmenter: AugmenterHandle, state: NativeTensor): Promise<void>
/** @internal Test entry point: one transform of the pipeline on float32 `[N, 3, H, W]` images in [0, 1]. */
export declare function augmentOp(
  name: string,
  images: NativeTensor,
  params: Record<string, number | number[]>,
  options?: { device?: string },
): Promise<NativeTensor>
