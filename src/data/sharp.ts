// sharp (libvips) as byol uses it, loaded on first use: users of in-memory data never load libvips.
// The types are declared here because TypeScript's `node` module resolution picks sharp's ESM
// typings, which do not describe `require('sharp')`.

export interface SharpInfo {
  width: number
  height: number
  channels: number
}

export interface SharpPipeline {
  toColourspace(space: string): SharpPipeline
  removeAlpha(): SharpPipeline
  resize(width: number, height: number, options?: { fit?: 'cover' | 'contain' | 'fill'; kernel?: string }): SharpPipeline
  raw(): SharpPipeline
  png(): SharpPipeline
  toBuffer(): Promise<Buffer>
  toBuffer(options: { resolveWithObject: true }): Promise<{ data: Buffer; info: SharpInfo }>
  toFile(file: string): Promise<SharpInfo>
}

export type SharpFactory = (
  input?: string | Uint8Array,
  options?: { failOn?: 'none' | 'truncated' | 'error' | 'warning'; raw?: SharpInfo; density?: number },
) => SharpPipeline

let loaded: SharpFactory | undefined

export function sharp(): SharpFactory {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  loaded ??= require('sharp') as SharpFactory
  return loaded
}
