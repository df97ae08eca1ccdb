import { native, Native } from './native'

export type RuntimeInfo = Native.RuntimeInfo

/** libtorch's version, its CPU thread count and the CUDA devices it sees. */
export function runtimeInfo(): RuntimeInfo {
  return native.runtimeInfo()
}

/** Sets libtorch's CPU threads (default: every core, or `BYOL_NUM_THREADS`). */
export function setNumThreads(threads: number): void {
  native.setNumThreads(threads)
}
