// Runs one step fixture (scripts/fixtures/generate.py `step_fixture`): the same model, weights
// and views as the PyTorch reference (float64, rounded to float32), the same BYOL steps, then the
// loss of every step and every online and target tensor compared.
import type { ExecutionContext } from 'ava'
import { Byol } from '../../src'
import type { ByolOptions, OptimizerOptions } from '../../src'
import { assertClose, assertState } from './compare'
import { fixtureConfig, get, images, loadFixture, withPrefix } from './safetensors'
import { loadFormula } from './weights'

export interface StepConfig {
  stem: 'imagenet' | 'cifar'
  width: number
  projectionHiddenDim: number
  projectionOutputDim: number
  predictionHiddenDim: number
  optimizer: OptimizerOptions
  emaBuffers?: boolean
  steps: number
  /** Learning rate of each step (passed as the step's `lr` when it differs from the current one). */
  lrs: number[]
  /** EMA momentum of each step. */
  momenta: number[]
  onlineSalt: number
  targetSalt: number
  /** How far PyTorch's own float32 run is from the float64 reference (the generator checks it). */
  float32Error: number
}

export function modelOptions(c: StepConfig): ByolOptions {
  return {
    stem: c.stem,
    width: c.width,
    projectionHiddenDim: c.projectionHiddenDim,
    projectionOutputDim: c.projectionOutputDim,
    predictionHiddenDim: c.predictionHiddenDim,
    optimizer: c.optimizer,
    emaBuffers: c.emaBuffers ?? false,
  }
}

export async function runStepCase(t: ExecutionContext, name: string): Promise<void> {
  const fx = loadFixture(`step-${name}`)
  const config = fixtureConfig<StepConfig>(fx)
  const model = await Byol.create(modelOptions(config))
  await loadFormula(model, 'online', config.onlineSalt)
  await loadFormula(model, 'target', config.targetSalt)
  t.log(`${name}: PyTorch's float32 run is within ${config.float32Error} of the float64 reference`)
  const expectedLoss = get(fx, 'loss')
  let lr = config.optimizer.lr ?? 0.06
  for (let s = 0; s < config.steps; s++) {
    const options: { momentum: number; lr?: number } = { momentum: config.momenta[s] }
    if (config.lrs[s] !== lr) options.lr = lr = config.lrs[s]
    const loss = await model.step(images(fx, `views.step${s}.view0`), images(fx, `views.step${s}.view1`), options)
    assertClose(t, `loss of step ${s + 1}`, { data: [loss], shape: [1] }, { data: [Number(expectedLoss.data[s])], shape: [1] })
  }
  assertState(t, `online network after ${config.steps} step(s)`, await model.state('online'), withPrefix(fx, 'online.'))
  assertState(t, `target network after ${config.steps} step(s)`, await model.state('target'), withPrefix(fx, 'target.'))
}
