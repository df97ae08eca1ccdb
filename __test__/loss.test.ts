// BYOL's symmetrised negative cosine loss against PyTorch: the value and the gradient with
// respect to p0 and p1, for normal inputs (a) and rows of norms from 1e-3 to 1e3 (b).
import test from 'ava'
import { negativeCosineLoss } from '../src'
import { assertClose } from './helpers/compare'
import { get, input, loadFixture } from './helpers/safetensors'

const fx = loadFixture('loss')

for (const c of ['a', 'b']) {
  test(`negativeCosineLoss case ${c}: value and gradients match PyTorch`, async (t) => {
    const out = await negativeCosineLoss(input(fx, `${c}.p0`), input(fx, `${c}.z0`), input(fx, `${c}.p1`), input(fx, `${c}.z1`))
    assertClose(t, 'loss', { data: [out.loss], shape: [1] }, get(fx, `${c}.loss`))
    assertClose(t, 'gradient wrt p0', out.gradP0, get(fx, `${c}.grad_p0`))
    assertClose(t, 'gradient wrt p1', out.gradP1, get(fx, `${c}.grad_p1`))
  })
}
