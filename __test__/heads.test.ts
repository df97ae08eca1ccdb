// Lightly's projection (512-1024-256) and prediction (256-1024-256) heads against PyTorch:
// eval-mode and train-mode output of a batch of 8 and the BatchNorm buffers after.
import test from 'ava'
import { Byol } from '../src'
import type { Network, Part } from '../src'
import { assertClose, assertState } from './helpers/compare'
import { fixtureConfig, get, input, loadFixture, withPrefix } from './helpers/safetensors'
import { loadFormula } from './helpers/weights'

const fx = loadFixture('heads')
const config = fixtureConfig<{ width: number; salt: number }>(fx)

const cases: Array<{ network: Network; part: Part; key: string; prefix: string }> = [
  { network: 'online', part: 'projection', key: 'projection', prefix: 'projection_head.' },
  { network: 'online', part: 'prediction', key: 'prediction', prefix: 'prediction_head.' },
  // The target's projection head is the same module with its own weights: same formula salt here.
  { network: 'target', part: 'projection', key: 'projection', prefix: 'projection_head.' },
]

for (const { network, part, key, prefix } of cases) {
  test(`${network} ${part} head: eval and train forward and BatchNorm statistics match PyTorch`, async (t) => {
    const model = await Byol.create({ width: config.width })
    await loadFormula(model, network, config.salt)
    const x = input(fx, `${key}.input`)
    assertClose(t, `${part} eval output`, await model.forward(network, part, x), get(fx, `${key}.eval`))
    assertClose(t, `${part} train output`, await model.forward(network, part, x, { train: true }), get(fx, `${key}.train`))
    const state = await model.state(network)
    const buffers = new Map([...state].filter(([name, e]) => e.role === 'buffer' && name.startsWith(prefix)))
    const expected = new Map([...withPrefix(fx, 'buffers.')].filter(([name]) => name.startsWith(prefix)))
    t.true(expected.size === 3, `fixture holds the 3 buffers of ${prefix}`)
    assertState(t, `${prefix} buffers after one train forward`, buffers, expected)
  })
}
