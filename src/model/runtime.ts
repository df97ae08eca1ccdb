import { native, Native } from './addon'

export type RuntimeInfo = Native.RuntimeInfo
export type BlasInfo = Native.BlasInfo
export type OnednnInfo = Native.OnednnInfo

/** libtorch's version, its CPU thread count, the BLAS and oneDNN it computes with, and the CUDA devices it sees. */
export function runtimeInfo(): RuntimeInfo {
  return native.runtimeInfo()
}

/** Sets libtorch's CPU threads (default: every core, or `BYOL_NUM_THREADS`). */
export function setNumThreads(threads: number): void {
  native.runtimeSetNumThreads(threads)
}
