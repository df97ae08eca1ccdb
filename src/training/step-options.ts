// How training steps compute on the device: precision, CUDA graphs, memory layout, streams and
// how often losses come back. `auto` means the fastest correct setting for the device.
export type Precision = 'fp32' | 'bf16'

export interface StepOptions {
  /** `bf16`: convolutions and matrix products in bfloat16 under autocast, with float32 weights,
   * BatchNorm statistics and loss. `auto` (default): bf16 on CUDA, fp32 on the CPU. */
  precision?: Precision | 'auto'
  /** Capture the whole step (gather, augmentations, forwards, loss, backward, optimizer, EMA)
   * once as a CUDA graph and replay it. `auto` (default): on CUDA. Where capture is impossible
   * steps run eagerly and the log says why. */
  cudaGraph?: boolean | 'auto'
  /** Convolution weights and views in channels-last layout. `auto` (default): on, on CUDA and on
   * the CPU, where oneDNN's channels-last kernels skip the layout conversions of the default
   * layout (1.2x the fp32 step on a 2-core AVX512 CPU, BENCHMARKS.md). */
  channelsLast?: boolean | 'auto'
  /** CUDA: the target network's forwards on a second stream, overlapping the online network's.
   * `auto` (default): on CUDA. */
  targetStream?: boolean | 'auto'
  /** Both views through each network as one batch of 2N (default false): fewer, larger kernels,
   * but BatchNorm then normalises over both views together, which changes the reference's
   * semantics. */
  jointViews?: boolean
  /** Steps queued per native call; their losses come back together, one call later, so the
   * device never waits for JavaScript. Default: 50 on CUDA, 1 on the CPU. */
  lossEvery?: number
}

export interface ResolvedStepOptions {
  precision: Precision
  cudaGraph: boolean
  channelsLast: boolean
  targetStream: boolean
  jointViews: boolean
  lossEvery: number
}

function flag(name: string, v: boolean | 'auto' | undefined, auto: boolean): boolean {
  if (v === undefined || v === 'auto') return auto
  if (typeof v !== 'boolean') throw new TypeError(`${name} must be true, false or 'auto', got ${JSON.stringify(v)}`)
  return v
}

export function resolveStepOptions(o: StepOptions, device: string): ResolvedStepOptions {
  const cuda = device.startsWith('cuda')
  const precision = o.precision === undefined || o.precision === 'auto' ? (cuda ? 'bf16' : 'fp32') : o.precision
  if (precision !== 'fp32' && precision !== 'bf16') throw new RangeError(`precision must be 'fp32', 'bf16' or 'auto', got ${JSON.stringify(o.precision)}`)
  const targetStream = flag('targetStream', o.targetStream, cuda)
  if (targetStream && !cuda) throw new RangeError(`targetStream needs a CUDA device; training runs on ${device}`)
  const lossEvery = o.lossEvery ?? (cuda ? 50 : 1)
  if (!Number.isInteger(lossEvery) || lossEvery < 1) throw new RangeError(`lossEvery must be a positive integer, got ${o.lossEvery}`)
  return {
    precision,
    cudaGraph: flag('cudaGraph', o.cudaGraph, cuda),
    channelsLast: flag('channelsLast', o.channelsLast, true),
    targetStream,
    jointViews: flag('jointViews', o.jointViews, false),
    lossEvery,
  }
}
