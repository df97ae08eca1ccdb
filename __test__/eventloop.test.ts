// Training runs off the JavaScript thread: the event loop keeps answering while train() works.
import test from 'ava'
import { monitorEventLoopDelay } from 'perf_hooks'
import { train } from '../src'
import { classImages, TINY_MODEL } from './data.fixtures'

test('the event-loop delay stays under 50 ms (p99) during training', async (t) => {
  const h = monitorEventLoopDelay({ resolution: 5 })
  // The monitor sees a blocked loop: a synchronous 120 ms busy wait shows up in its maximum.
  h.enable()
  await new Promise((res) => setTimeout(res, 20))
  const until = Date.now() + 120
  while (Date.now() < until);
  await new Promise((res) => setTimeout(res, 20))
  h.disable()
  t.true(h.max / 1e6 > 100, `the monitor saw ${h.max / 1e6} ms`)
  h.reset()

  let ticks = 0
  const timer = setInterval(() => ticks++, 10)
  h.enable()
  const r = await train({
    data: classImages(256, 32),
    testData: classImages(64, 32, 4, 2),
    evalEvery: 1,
    // Eight epochs: two took as little as 0.8 s on a fast, quiet machine, too short to measure.
    epochs: 8,
    batchSize: 32,
    imageSize: 32,
    model: { ...TINY_MODEL, width: 16 },
    device: 'cpu',
  })
  h.disable()
  clearInterval(timer)
  const p99 = h.percentile(99) / 1e6
  t.log(
    `training ${r.seconds.toFixed(1)} s, ${r.steps} steps; event-loop delay p50 ${(h.percentile(50) / 1e6).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${(h.max / 1e6).toFixed(1)} ms`,
  )
  t.true(r.seconds > 1, 'long enough to measure')
  t.true(ticks > r.seconds * 30, `a 10 ms timer fired ${ticks} times in ${r.seconds} s`)
  t.true(p99 < 50, `p99 event-loop delay ${p99} ms`)
})
