// `byol preview-augmentations`: a grid of augmented views of a few images, to check a recipe.
import { CommandSpec, Parsed, UsageError } from './args'

export const spec: CommandSpec = {
  name: 'preview-augmentations',
  summary: 'write a PNG grid of augmented views of some images (each row: an image and its views)',
  usage: 'byol preview-augmentations --data <dir> --out <file.png> [options]',
  options: {
    data: { type: 'string', value: 'DIR', help: 'images (any folder byol train accepts)' },
    out: { type: 'string', short: 'o', value: 'FILE', help: 'PNG file to write', default: 'augmentations.png' },
    images: { type: 'string', value: 'N', help: 'images (rows)', default: '8' },
    samples: { type: 'string', value: 'N', help: 'augmented views per image', default: '6' },
    preset: { type: 'string', value: 'NAME', help: 'augmentation preset', default: 'byol-cifar' },
    seed: { type: 'string', value: 'N', help: 'random seed', default: '0' },
  },
}

export async function run(_p: Parsed): Promise<number> {
  throw new UsageError('preview-augmentations needs the native augmenter, which this build does not have yet', 'preview-augmentations')
}
