// `byol preview-augmentations`: a grid of augmented views of a few images, to check a recipe.
import type { AugmentPreset } from '../data/augmenter'
import { choiceOption, CommandSpec, intOption, Parsed, stringOption, UsageError } from './args'

// The augmenter's presets (src/augment.ts AUGMENT_PRESETS), listed here so that --help does not load libtorch.
const AUGMENT_PRESETS: AugmentPreset[] = ['byol', 'byol-cifar']

export const spec: CommandSpec = {
  name: 'preview-augmentations',
  summary: 'write a PNG grid of augmented views of some images (each row: an image, then samples of view 1 and view 2)',
  usage: 'byol preview-augmentations --data <dir> [--out <file.png>] [options]',
  options: {
    data: { type: 'string', value: 'DIR', help: 'a folder of images (class sub-folders are searched too)' },
    out: { type: 'string', short: 'o', value: 'FILE', help: 'PNG file to write', default: 'augmentations.png' },
    images: { type: 'string', value: 'N', help: 'images (rows), spread over the folder', default: '8' },
    samples: { type: 'string', value: 'N', help: 'samples of each view per image', default: '4' },
    preset: { type: 'string', value: 'NAME', help: `augmentation preset: ${AUGMENT_PRESETS.join(', ')}`, default: 'byol-cifar' },
    'image-size': { type: 'string', value: 'N', help: "size of the views (default: the preset's)" },
    'cell-size': { type: 'string', value: 'N', help: 'pixels per grid cell (small views are enlarged)' },
    seed: { type: 'string', value: 'N', help: 'random seed', default: '0' },
  },
  examples: ['byol preview-augmentations --data datasets/cifar10/train --out augmentations.png'],
}

export async function run(p: Parsed): Promise<number> {
  const v = p.values
  const data = stringOption(v, 'data')
  if (!data) throw new UsageError('--data is required', 'preview-augmentations')
  const { previewAugmentations } = await import('../data/augmentation-preview')
  const result = await previewAugmentations({
    data,
    out: stringOption(v, 'out') ?? 'augmentations.png',
    images: intOption(v, 'images', 1, 256),
    samples: intOption(v, 'samples', 1, 256),
    preset: (choiceOption(v, 'preset', AUGMENT_PRESETS) ?? 'byol-cifar') as AugmentPreset,
    inputSize: intOption(v, 'image-size', 1, 4096),
    cellSize: intOption(v, 'cell-size', 8, 1024),
    seed: intOption(v, 'seed', 0),
  })
  process.stdout.write(`${result.out} (${result.width}x${result.height}: ${result.files.length} images)\n`)
  return 0
}
