// `byol embed`: backbone embeddings of images, to a safetensors file or JSON lines.
import fs = require('fs')
import path = require('path')
import { writeFileAtomic } from '../files/atomic-write'
import { writeSafetensors } from '../export/safetensors'
import { CommandSpec, intOption, Parsed, stringOption, UsageError } from './args'
import { loadModel, modelOptions } from './model'

export const spec: CommandSpec = {
  name: 'embed',
  summary: 'backbone embeddings (eval mode) of image files or folders',
  usage: 'byol embed (--run <dir> | --weights <file>) <image or folder>... [--out FILE]',
  positionals: true,
  options: {
    ...modelOptions,
    out: {
      type: 'string',
      short: 'o',
      value: 'FILE',
      help: 'FILE.safetensors (tensor "embeddings" [N, F], file names in the metadata) or FILE.jsonl; default: JSON lines on stdout',
    },
    'image-size': { type: 'string', value: 'N', help: 'images are resized to NxN (default: the size the model was trained at, else 32)' },
    'batch-size': { type: 'string', value: 'N', help: 'images per forward pass', default: '256' },
    normalize: { type: 'boolean', help: 'L2-normalise every embedding' },
  },
  examples: ['byol embed --run runs/photos photos/ --out photos.safetensors', 'byol embed --weights backbone.safetensors cat.jpg dog.png'],
}

async function expand(inputs: string[]): Promise<string[]> {
  const { listImageFolder } = await import('../data/folder')
  const files: string[] = []
  for (const input of inputs) {
    if (!fs.existsSync(input)) throw new Error(`${input}: no such file or folder`)
    if (fs.statSync(input).isDirectory()) {
      const listing = await listImageFolder(input, 'flat')
      files.push(...listing.files.map((f) => path.join(listing.root, f)))
    } else files.push(input)
  }
  return files
}

export async function run(p: Parsed): Promise<number> {
  if (p.positionals.length === 0) throw new UsageError('give at least one image file or folder', 'embed')
  const files = await expand(p.positionals)
  const { model, imageSize } = await loadModel(p, 'embed')
  const { embed } = await import('../model/embed')
  const v = p.values
  const features = await embed(model, files, {
    imageSize: intOption(v, 'image-size', 1, 4096) ?? imageSize ?? 32,
    batchSize: intOption(v, 'batch-size', 1) ?? 256,
    normalize: v.normalize === true,
  })
  const dim = features.shape[1]
  const out = stringOption(v, 'out')
  const lines = () => files.map((f, i) => JSON.stringify({ file: f, embedding: Array.from(features.data.subarray(i * dim, (i + 1) * dim)) }) + '\n')
  if (!out) {
    for (const l of lines()) process.stdout.write(l)
  } else if (out.endsWith('.safetensors')) {
    await writeSafetensors(out, [['embeddings', { data: features.data, shape: features.shape }]], { files: JSON.stringify(files) })
    process.stderr.write(`wrote ${files.length} embeddings of ${dim} values to ${out}\n`)
  } else {
    await writeFileAtomic(out, [lines().join('')])
    process.stderr.write(`wrote ${files.length} embeddings of ${dim} values to ${out}\n`)
  }
  return 0
}
