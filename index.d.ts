/* Types of byol's native addon (crates/node). The TypeScript API in src/ wraps these. */

/** A dense row-major tensor crossing the native boundary. */
export interface NativeTensor {
  data: Float32Array | Uint8Array | BigInt64Array
  shape: number[]
}

export interface NativeStateEntry extends NativeTensor {
  name: string
  role: 'parameter' | 'buffer'
}

export interface NativeOptimizerOptions {
  name?: 'sgd' | 'lars'
  lr?: number
  momentum?: number
  dampening?: number
  weightDecay?: number
  nesterov?: boolean
  trustCoefficient?: number
  eps?: number
  excludeBiasAndNorm?: boolean
}

export interface NativeByolOptions {
  stem?: 'imagenet' | 'cifar'
  width?: number
  projectionHiddenDim?: number
  projectionOutputDim?: number
  predictionHiddenDim?: number
  optimizer?: NativeOptimizerOptions
  emaBuffers?: boolean
  device?: string
  seed?: number
}

/** An opaque handle to a native model. */
export type ModelHandle = { readonly __brand: 'ByolModel' }

export interface RuntimeInfo {
  libtorch: string
  threads: number
  cudaDeviceCount: number
  cudaAvailable: boolean
}

export function runtimeInfo(): RuntimeInfo
export function setNumThreads(threads: number): void
export function cosineSchedule(step: number, maxSteps: number, start: number, end: number): number
export function createByol(options?: NativeByolOptions): Promise<ModelHandle>
export function byolStep(
  model: ModelHandle,
  view0: NativeTensor,
  view1: NativeTensor,
  options: { momentum: number; lr?: number },
): Promise<number>
export function byolUpdateTarget(model: ModelHandle, momentum: number): Promise<void>
export function byolForward(
  model: ModelHandle,
  network: 'online' | 'target',
  part: 'backbone' | 'projection' | 'prediction',
  input: NativeTensor,
  train: boolean,
): Promise<NativeTensor>
export function byolState(model: ModelHandle, network: 'online' | 'target'): Promise<NativeStateEntry[]>
export function byolLoadState(
  model: ModelHandle,
  network: 'online' | 'target',
  entries: Array<{ name: string } & NativeTensor>,
): Promise<void>
export function negativeCosineLoss(
  p0: NativeTensor,
  z0: NativeTensor,
  p1: NativeTensor,
  z1: NativeTensor,
): Promise<{ loss: number; gradP0: NativeTensor; gradP1: NativeTensor }>
