// Backbone export with torchvision's names, checked against Python's torchvision (Debian's
// python3-torch) in both directions; loading safetensors back; the safetensors codec itself.
import test from 'ava'
import { execFileSync, spawnSync } from 'child_process'
import fs = require('fs')
import path = require('path')
import {
  backboneState,
  Byol,
  decodeSafetensors,
  embed,
  encodeSafetensors,
  exportBackbone,
  loadBackbone,
  readSafetensors,
  tensor,
  writeSafetensors,
} from '../src'
import { classImages, tmpDir } from './data.fixtures'

const PYTHON = process.env.BYOL_PYTHON ?? '/usr/bin/python3'

/** torchvision.models.resnet18().state_dict() keys, written out from torchvision's layout. */
function torchvisionResnet18Keys(): string[] {
  const bn = (p: string) => ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'].map((s) => `${p}.${s}`)
  const keys = ['conv1.weight', ...bn('bn1')]
  for (let layer = 1; layer <= 4; layer++) {
    for (let block = 0; block < 2; block++) {
      const p = `layer${layer}.${block}`
      keys.push(`${p}.conv1.weight`, ...bn(`${p}.bn1`), `${p}.conv2.weight`, ...bn(`${p}.bn2`))
      if (layer > 1 && block === 0) keys.push(`${p}.downsample.0.weight`, ...bn(`${p}.downsample.1`))
    }
  }
  return keys
}

test("the exported backbone has exactly torchvision resnet18's names and shapes, without fc", async (t) => {
  const model = await Byol.create({ seed: 1 })
  const state = await backboneState(model)
  t.deepEqual([...state.keys()].sort(), torchvisionResnet18Keys().sort())
  t.deepEqual(state.get('conv1.weight')!.shape, [64, 3, 7, 7])
  t.deepEqual(state.get('layer4.1.bn2.running_var')!.shape, [512])
  t.true(state.get('layer2.0.bn1.num_batches_tracked')!.data instanceof BigInt64Array)
})

function pythonTorch(): string | undefined {
  if (!fs.existsSync(PYTHON)) return `${PYTHON} not found`
  const r = spawnSync(PYTHON, ['-c', 'import torch, torchvision, numpy'], { encoding: 'utf8' })
  return r.status === 0 ? undefined : `${PYTHON} cannot import torch/torchvision/numpy (apt-get install python3-torch python3-torchvision)`
}

// Reads and writes safetensors with json + numpy only (no safetensors package needed).
const ROUND_TRIP_PY = String.raw`
import json, struct, sys
import numpy as np, torch, torchvision
DT = {"F32": np.float32, "I64": np.int64, "F64": np.float64, "U8": np.uint8, "I32": np.int32}
def load(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for k, v in header.items():
        if k == "__metadata__": continue
        a, b = v["data_offsets"]
        arr = np.frombuffer(raw[8 + n + a: 8 + n + b], dtype=DT[v["dtype"]]).reshape(v["shape"])
        out[k] = torch.from_numpy(arr.copy())
    return out
def save(path, tensors):
    header, blobs, off = {}, [], 0
    for k, t in tensors.items():
        a = t.detach().cpu().contiguous().numpy()
        dt = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64"}[a.dtype]
        header[k] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + a.nbytes]}
        blobs.append(a.tobytes()); off += a.nbytes
    h = json.dumps(header).encode()
    open(path, "wb").write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
weights_in, images_in, out_dir = sys.argv[1:4]
m = torchvision.models.resnet18()
result = m.load_state_dict(load(weights_in), strict=False)
m.fc = torch.nn.Identity(); m.eval()
x = load(images_in)["x"]
with torch.no_grad(): f = m(x)
# A second model, made in Python, for the way back: other weights and non-trivial BN statistics.
torch.manual_seed(1)
m2 = torchvision.models.resnet18(); m2.train()
with torch.no_grad(): m2(torch.randn(8, 3, 32, 32))
m2.eval(); sd = m2.state_dict()
m2.fc = torch.nn.Identity()
with torch.no_grad(): f2 = m2(x)
save(out_dir + "/python_features.safetensors", {"f": f, "f2": f2})
save(out_dir + "/python_resnet18.safetensors", sd)
print(json.dumps({"missing": result.missing_keys, "unexpected": result.unexpected_keys}))
`

// Without Debian's PyTorch the test is reported as skipped, with the reason in its title.
const noPython = pythonTorch()
const roundTrip = noPython ? test.skip : test
roundTrip(
  `round trip with PyTorch: torchvision loads the export (only fc missing), byol loads torchvision's weights${noPython ? ` (skipped: ${noPython})` : ''}`,
  async (t) => {
    const dir = tmpDir('export')
    const model = await Byol.create({ seed: 3 })
    // Train-mode forwards give the BatchNorm running statistics non-default values.
    const x = new Float32Array(6 * 3 * 32 * 32).map((_, i) => Math.sin(i * 0.37))
    await model.forward('online', 'backbone', tensor(x, [6, 3, 32, 32]), { train: true })
    await exportBackbone(model, path.join(dir, 'backbone.safetensors'))
    await writeSafetensors(path.join(dir, 'images.safetensors'), [['x', { data: x, shape: [6, 3, 32, 32] }]])
    const out = execFileSync(PYTHON, ['-c', ROUND_TRIP_PY, path.join(dir, 'backbone.safetensors'), path.join(dir, 'images.safetensors'), dir], {
      encoding: 'utf8',
    })
    const report = JSON.parse(out.trim().split('\n').pop()!)
    t.deepEqual(report, { missing: ['fc.weight', 'fc.bias'], unexpected: [] })
    const python = (await readSafetensors(path.join(dir, 'python_features.safetensors'))).tensors
    const ours = await model.embed(tensor(x, [6, 3, 32, 32]))
    const close = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      let worst = 0
      let scale = 1e-6
      for (let i = 0; i < b.length; i++) {
        worst = Math.max(worst, Math.abs(a[i] - b[i]))
        scale = Math.max(scale, Math.abs(b[i]))
      }
      return worst / scale
    }
    t.true(close(ours.data, python.get('f')!.data as Float32Array) < 1e-4, 'torchvision computes our features from the export')
    // The way back: PyTorch's resnet18 weights (with fc) initialise a byol model.
    const other = await Byol.create({ seed: 9 })
    await loadBackbone(other, path.join(dir, 'python_resnet18.safetensors'))
    const theirs = await other.embed(tensor(x, [6, 3, 32, 32]))
    t.true(close(theirs.data, python.get('f2')!.data as Float32Array) < 1e-4, "byol computes torchvision's features after loading its weights")
    const target = await other.state('target')
    const online = await other.state('online')
    t.deepEqual(
      Array.from(target.get('backbone.conv1.weight')!.data as Float32Array),
      Array.from(online.get('backbone.conv1.weight')!.data as Float32Array),
      'the target network gets the weights too',
    )
  },
)

test('loadBackbone: an export loads back; mismatched files are refused without changing the model', async (t) => {
  const dir = tmpDir('load')
  const tiny = { width: 8, projectionHiddenDim: 16, projectionOutputDim: 8, predictionHiddenDim: 16 }
  const a = await Byol.create({ ...tiny, seed: 1 })
  const b = await Byol.create({ ...tiny, seed: 2 })
  const imgs = classImages(3, 16)
  await exportBackbone(a, path.join(dir, 'a.safetensors'))
  const before = await embed(b, imgs)
  await loadBackbone(b, path.join(dir, 'a.safetensors'))
  t.deepEqual(Array.from((await embed(b, imgs)).data), Array.from((await embed(a, imgs)).data))
  t.notDeepEqual(Array.from(before.data), Array.from((await embed(b, imgs)).data))
  const wide = await Byol.create({ ...tiny, width: 16 })
  const snapshot = Array.from((await embed(wide, imgs)).data)
  await t.throwsAsync(loadBackbone(wide, path.join(dir, 'a.safetensors')), { message: /conv1\.weight has shape \[8,3,7,7\], the model \[16,3,7,7\]/ })
  const partial = (await readSafetensors(path.join(dir, 'a.safetensors'))).tensors
  partial.delete('layer3.1.bn2.bias')
  partial.set('head.weight', { data: new Float32Array(1), shape: [1] })
  await t.throwsAsync(loadBackbone(wide, partial), { message: /missing \[layer3\.1\.bn2\.bias\], unexpected \[head\.weight\]/ })
  t.deepEqual(Array.from((await embed(wide, imgs)).data), snapshot, 'nothing changed')
})

test('safetensors: dtypes, shapes and metadata round-trip; truncated files are refused', (t) => {
  const tensors = new Map([
    ['f', { data: Float32Array.from([1.5, -2, 3]), shape: [3] }],
    ['i', { data: BigInt64Array.from([1n, -5n]), shape: [2, 1] }],
    ['u', { data: Uint8Array.from([7]), shape: [] }],
    ['d', { data: Float64Array.from([Math.PI]), shape: [1] }],
  ])
  const chunks = encodeSafetensors(tensors, { note: 'hi' })
  const buf = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0))
  let o = 0
  for (const c of chunks) {
    buf.set(c, o)
    o += c.length
  }
  t.is(Number(new DataView(buf.buffer).getBigUint64(0, true)) % 8, 0, 'the header keeps the data 8-byte aligned')
  const back = decodeSafetensors(buf)
  t.deepEqual(back.metadata, { note: 'hi' })
  t.deepEqual([...back.tensors.keys()], ['f', 'i', 'u', 'd'])
  for (const [k, v] of tensors) {
    t.deepEqual(back.tensors.get(k)!.shape, v.shape)
    t.deepEqual(Array.from(back.tensors.get(k)!.data as ArrayLike<unknown>), Array.from(v.data as ArrayLike<unknown>))
  }
  t.throws(() => decodeSafetensors(buf.subarray(0, buf.length - 4), 'x.safetensors'), { message: /x\.safetensors: d has data_offsets .* \(truncated file\?\)/ })
})
