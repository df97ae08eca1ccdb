// Backbone embeddings (eval mode) of images given as uint8 pixels, files, folders or datasets.
import { Dataset, InMemoryImages } from '../data/dataset'
import { decodeFiles, loadImageFolder } from '../data/folder'
import { modelHandle } from './byol-handle'
import type { Byol } from './byol'
import { native } from './addon'
import type { Tensor } from './tensor'

export interface EmbedOptions {
  /** Images per forward pass (default 256). */
  batchSize?: number
  /** L2-normalise every embedding (default false). */
  normalize?: boolean
  /** Size files are decoded to (default 32, or the size the model was trained at). */
  imageSize?: number
  /** Decoded-image cache for folders (see `loadImageFolder`). */
  cacheDir?: string | false
}

/**
 * Backbone features `[N, F]` (F = 512 for ResNet-18) of the online network in eval mode.
 * `images`: uint8 RGB `{ data, shape: [N, H, W, 3] }`, a list of image files, a folder, or a dataset.
 */
export async function embed(model: Byol, images: InMemoryImages | string[] | string | Dataset, options: EmbedOptions = {}): Promise<Tensor> {
  const opts = { batchSize: options.batchSize ?? 256, normalize: options.normalize ?? false }
  if (images instanceof Dataset) {
    return (await native.byolEmbedDataset(modelHandle(model), images.handle, opts)) as Tensor
  }
  if (typeof images === 'string') {
    const dataset = await loadImageFolder(images, { imageSize: options.imageSize, layout: 'flat', cacheDir: options.cacheDir })
    return (await native.byolEmbedDataset(modelHandle(model), dataset.handle, opts)) as Tensor
  }
  const pixels = Array.isArray(images) ? await decodeFiles(images, { imageSize: options.imageSize }) : images
  if (!(pixels.data instanceof Uint8Array)) throw new TypeError('images.data must be a Uint8Array of RGB bytes ([N, H, W, 3])')
  return (await native.byolEmbedImages(modelHandle(model), { data: pixels.data, shape: [...pixels.shape] }, opts)) as Tensor
}
