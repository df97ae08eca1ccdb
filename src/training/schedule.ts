import { native } from '../model/addon'

/**
 * Lightly's cosine schedule: rises from `start` at step 0 to `end` at step `maxSteps - 1`.
 * The Lightly example steps the target momentum per epoch: `cosineSchedule(epoch, epochs, 0.996, 1)`.
 */
export function cosineSchedule(step: number, maxSteps: number, start: number, end: number): number {
  return native.cosineSchedule(step, maxSteps, start, end)
}
