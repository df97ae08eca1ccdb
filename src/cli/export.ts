// `byol export`: the backbone of a run as safetensors with torchvision's parameter names.
import path = require('path')
import { CommandSpec, Parsed, stringOption, UsageError } from './args'
import { loadModel } from './model'

export const spec: CommandSpec = {
  name: 'export',
  summary: "write a run's backbone as safetensors with torchvision ResNet-18 names (loads with resnet18().load_state_dict(w, strict=False))",
  usage: 'byol export --run <dir> [--format safetensors|onnx] [--out FILE]',
  options: {
    run: { type: 'string', value: 'DIR', help: 'the run directory' },
    format: {
      type: 'string',
      value: 'FMT',
      help: 'safetensors, or onnx: uint8 images [N, H, W, 3] in, features out, BatchNorm folded, opset 13',
      default: 'safetensors',
    },
    out: { type: 'string', short: 'o', value: 'FILE', help: 'output file', default: '<run>/backbone.safetensors (.onnx)' },
  },
  examples: [
    'byol export --run runs/photos --out resnet18-byol.safetensors',
    'byol export --run runs/photos --format onnx --out resnet18-byol.onnx',
    'python3 -c "import torch, torchvision; from safetensors.torch import load_file; m = torchvision.models.resnet18(); print(m.load_state_dict(load_file(\'resnet18-byol.safetensors\'), strict=False))"',
  ],
}

export async function run(p: Parsed): Promise<number> {
  const runDir = stringOption(p.values, 'run')
  if (!runDir) throw new UsageError('--run is required', 'export')
  const format = stringOption(p.values, 'format') ?? 'safetensors'
  if (format !== 'safetensors' && format !== 'onnx') throw new UsageError(`--format must be safetensors or onnx, got ${format}`, 'export')
  const out = stringOption(p.values, 'out') ?? path.join(runDir, `backbone.${format}`)
  const { model } = await loadModel({ ...p, values: { run: runDir, device: 'cpu' } }, 'export')
  if (format === 'onnx') await (await import('../export/onnx')).exportOnnx(model, out)
  else await (await import('../export/backbone')).exportBackbone(model, out)
  process.stdout.write(`${out}\n`)
  return 0
}
