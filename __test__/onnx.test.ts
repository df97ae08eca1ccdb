// ONNX export: onnxruntime-node (a devDependency) runs the exported backbone and its embeddings
// equal byol's `embed` within 1e-4, with non-trivial BatchNorm statistics folded into the
// convolutions; onnx's own checker (Debian's python3-onnx) accepts the file.
import test from 'ava'
import { spawnSync } from 'child_process'
import path = require('path')
import { Byol, embed, exportOnnx, ONNX_OPSET } from '../src'
import { bytes, classImages, tmpDir, TINY_MODEL } from './data.fixtures'

const PYTHON = process.env.BYOL_PYTHON ?? '/usr/bin/python3'

interface OnnxRuntime {
  InferenceSession: { create(file: string): Promise<{ run(feeds: object): Promise<Record<string, { data: Float32Array; dims: number[] }>> }> }
  Tensor: new (type: 'uint8', data: Uint8Array, dims: number[]) => object
}

// A devDependency: `npm test` on a checkout always has it; the GPU pack leaves its 290 MB out,
// and there these tests skip saying so.
const ort = ((): OnnxRuntime | undefined => {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return require('onnxruntime-node') as OnnxRuntime
  } catch {
    return undefined
  }
})()
const withRuntime = ort ? test : test.skip

/** A model whose BatchNorm layers have running statistics and affine parameters far from their
 * initial 0 / 1, so that folding them is actually exercised. */
async function modelWithStatistics(stem: 'cifar' | 'imagenet'): Promise<Byol> {
  const model = await Byol.create({ ...TINY_MODEL, stem, seed: 5 })
  const state = await model.state('online')
  let seed = 40
  for (const [name, entry] of state) {
    const bn = /(bn\d|downsample\.1)\.(weight|bias|running_mean|running_var)$/.exec(name)
    if (!bn || !(entry.data instanceof Float32Array)) continue
    const noise = bytes(entry.data.length, seed++)
    const u = (i: number) => noise[i] / 255
    entry.data.set(Float32Array.from(entry.data, (_, i) => (bn[2] === 'running_var' ? 0.2 + 2 * u(i) : bn[2] === 'weight' ? 0.5 + u(i) : u(i) - 0.5)))
  }
  await model.loadState(state, 'online')
  return model
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let d = a.length === b.length ? 0 : Infinity
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]))
  return d
}

for (const stem of ['cifar', 'imagenet'] as const) {
  withRuntime(`onnxruntime-node runs the exported ${stem}-stem backbone, equal to embed within 1e-4 at any batch and image size`, async (t) => {
    const model = await modelWithStatistics(stem)
    const file = path.join(tmpDir('onnx'), `${stem}.onnx`)
    await exportOnnx(model, file)
    const session = await ort!.InferenceSession.create(file)
    for (const [n, size] of [
      [5, 32],
      [2, 24],
    ]) {
      const images = classImages(n, size, 3, n + size)
      const expected = await embed(model, images)
      const { embeddings } = await session.run({ images: new ort!.Tensor('uint8', images.data, [n, size, size, 3]) })
      t.deepEqual(embeddings.dims, expected.shape)
      const d = maxDiff(embeddings.data, expected.data)
      t.log(`${n} images of ${size}x${size}: max |onnxruntime - embed| ${d.toExponential(2)}`)
      t.true(d <= 1e-4, `max |diff| ${d}`)
    }
  })
}

test('onnx.checker.check_model (python3-onnx) accepts the export, opset 13, folded: no BatchNormalization', async (t) => {
  const model = await modelWithStatistics('imagenet')
  const file = path.join(tmpDir('onnx-check'), 'backbone.onnx')
  await exportOnnx(model, file)
  const script = [
    'import collections, json, sys, onnx',
    'm = onnx.load(sys.argv[1])',
    'onnx.checker.check_model(m, full_check=True)',
    'ops = collections.Counter(n.op_type for n in m.graph.node)',
    'dims = [[d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim] for v in list(m.graph.input) + list(m.graph.output)]',
    'print(json.dumps({"opset": m.opset_import[0].version, "ops": ops, "dims": dims}))',
  ].join('\n')
  const r = spawnSync(PYTHON, ['-c', script, file], { encoding: 'utf8' })
  if (r.status !== 0 && /No module named 'onnx'/.test(r.stderr)) {
    t.fail(`${PYTHON} has no onnx module: apt-get install python3-onnx (scripts/setup.sh does)`)
    return
  }
  t.is(r.status, 0, r.stderr)
  const report = JSON.parse(r.stdout) as { opset: number; ops: Record<string, number>; dims: Array<Array<string | number>> }
  t.is(report.opset, ONNX_OPSET)
  t.true(report.opset >= 13)
  t.is(report.ops.BatchNormalization ?? 0, 0)
  // 20 convolutions in ResNet-18 (17 + 3 downsample shortcuts), each with its BatchNorm folded in.
  t.is(report.ops.Conv, 20)
  t.deepEqual(report.dims, [
    ['batch', 'height', 'width', 3],
    ['batch', 64],
  ])
})
