// cosineSchedule against Lightly's cosine_schedule over a grid of (step, maxSteps, start, end);
// steps past the last one give `end` (byol's documented behaviour). Both sides are float64, so
// the tolerance is 1e-12 absolute (1e-4 relative would hide errors in the 0.996 -> 1 range).
import test from 'ava'
import { cosineSchedule } from '../src'
import { get, loadFixture } from './helpers/safetensors'

test('cosineSchedule matches Lightly over a grid', (t) => {
  const fx = loadFixture('schedule')
  const [step, maxSteps, start, end, expected] = ['step', 'maxSteps', 'start', 'end', 'expected'].map((name) => get(fx, name).data as Float64Array)
  t.true(expected.length > 400)
  const wrong: string[] = []
  for (let i = 0; i < expected.length; i++) {
    const value = cosineSchedule(step[i], maxSteps[i], start[i], end[i])
    if (!(Math.abs(value - expected[i]) <= 1e-12)) {
      wrong.push(`cosineSchedule(${step[i]}, ${maxSteps[i]}, ${start[i]}, ${end[i]}) = ${value}, expected ${expected[i]}`)
    }
  }
  t.deepEqual(wrong, [], `${wrong.length} of ${expected.length} values differ`)
})
