import { native } from './addon'
import { Tensor } from './tensor'

/**
 * BYOL's symmetrised loss `0.5 * (-cos(p0, z1) - cos(p1, z0))` (mean over the batch) and its
 * gradient with respect to the predictions `p0` and `p1` (`z` are target projections, constant).
 * @internal For the test against PyTorch; not in the published typings.
 */
export async function negativeCosineLoss(p0: Tensor, z0: Tensor, p1: Tensor, z1: Tensor): Promise<{ loss: number; gradP0: Tensor; gradP1: Tensor }> {
  const out = await native.negativeCosineLoss(p0, z0, p1, z1)
  return { loss: out.loss, gradP0: out.gradP0 as Tensor, gradP1: out.gradP1 as Tensor }
}
