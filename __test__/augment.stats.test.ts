// Statistics of the augmenter's random parameters over many draws: rates of every random
// transform, ranges and distributions of crop boxes and jitter factors, the jitter order.
import test from 'ava'
import { Augmenter, AugmentOptions, ViewParams } from '../src'

const DRAWS = 20000

async function draw(options: AugmentOptions, height = 32, width = 32, n = DRAWS): Promise<{ view1: ViewParams; view2: ViewParams }> {
  const aug = await Augmenter.create({ seed: 7, ...options })
  return aug.params(n, height, width)
}

const mean = (a: ArrayLike<number>): number => Array.from(a).reduce((s, x) => s + x, 0) / a.length
const rate = (a: Float32Array): number => mean(a)

test('random transform rates of the byol-cifar preset: flip 0.5, jitter 0.8, gray 0.2, solarize 0 / 0.2, no blur', async (t) => {
  const p = await draw({ preset: 'byol-cifar' })
  for (const [name, v] of Object.entries({ view1: p.view1, view2: p.view2 })) {
    t.true(Math.abs(rate(v.hflip) - 0.5) <= 0.02, `${name} hflip ${rate(v.hflip)}`)
    t.true(Math.abs(rate(v.jitter) - 0.8) <= 0.02, `${name} jitter ${rate(v.jitter)}`)
    t.true(Math.abs(rate(v.grayscale) - 0.2) <= 0.02, `${name} grayscale ${rate(v.grayscale)}`)
    t.is(rate(v.vflip), 0, `${name} vflip`)
    t.is(rate(v.rotate), 0, `${name} rotate`)
    t.is(rate(v.blurSigma.map((s) => (s > 0 ? 1 : 0))), 0, `${name} blur`)
  }
  t.is(rate(p.view1.solarize), 0)
  t.true(Math.abs(rate(p.view2.solarize) - 0.2) <= 0.02, `view2 solarize ${rate(p.view2.solarize)}`)
})

test('blur rates of the byol preset: 1.0 (view 1) and 0.1 (view 2), sigma in [0.1, 2]', async (t) => {
  const p = await draw({ preset: 'byol' }, 64, 64)
  const blurred = (v: ViewParams) => v.blurSigma.map((s) => (s > 0 ? 1 : 0))
  t.is(rate(blurred(p.view1)), 1)
  t.true(Math.abs(rate(blurred(p.view2)) - 0.1) <= 0.02, `view2 blur ${rate(blurred(p.view2))}`)
  const sigmas = Array.from(p.view1.blurSigma)
  t.true(sigmas.every((s) => s >= 0.1 - 1e-6 && s <= 2 + 1e-6))
  t.true(Math.abs(mean(sigmas) - 1.05) < 0.02, `sigma mean ${mean(sigmas)}`)
})

test('overridden rates: vertical flip, quarter turns, any-angle rotations', async (t) => {
  const p = await draw({ preset: 'byol-cifar', vfProb: 0.3, view1: { rrProb: 0.5 }, view2: { rrProb: 0.25, rrDegrees: [-30, 45] } })
  t.true(Math.abs(rate(p.view1.vflip) - 0.3) <= 0.02)
  t.true(Math.abs(rate(p.view1.rotate) - 0.5) <= 0.02)
  t.true(
    Array.from(p.view1.angle).every((a, i) => a === 90 * p.view1.rotate[i]),
    'quarter turns are 90 degrees',
  )
  t.true(Math.abs(rate(p.view2.rotate) - 0.25) <= 0.02)
  const angles = Array.from(p.view2.angle).filter((_, i) => p.view2.rotate[i] === 1)
  t.true(angles.every((a) => a >= -30 && a <= 45))
  t.true(Math.abs(mean(angles) - 7.5) < 1, `angle mean ${mean(angles)}`)
})

test('jitter factors lie in their ranges and are uniform; every order is equally likely', async (t) => {
  const p = await draw({ preset: 'byol-cifar' })
  const v = p.view1
  const ranges: Array<[keyof ViewParams, number, number]> = [
    ['brightness', 0.6, 1.4],
    ['contrast', 0.6, 1.4],
    ['saturation', 0.8, 1.2],
    ['hue', -0.1, 0.1],
  ]
  for (const [key, lo, hi] of ranges) {
    const f = Array.from(v[key])
    t.true(
      f.every((x) => x >= lo - 1e-6 && x <= hi + 1e-6),
      `${key} outside [${lo}, ${hi}]`,
    )
    t.true(Math.abs(mean(f) - (lo + hi) / 2) < 0.01 * (hi - lo) * 2, `${key} mean ${mean(f)}`)
    const below = f.filter((x) => x < lo + (hi - lo) / 4).length / f.length
    t.true(Math.abs(below - 0.25) < 0.02, `${key} lower quarter ${below}`)
  }
  // cjStrength scales every range
  const half = (await draw({ preset: 'byol-cifar', cjStrength: 0.5 }, 32, 32, 2000)).view1
  t.true(Array.from(half.brightness).every((x) => x >= 0.8 - 1e-6 && x <= 1.2 + 1e-6))
  t.true(Array.from(half.hue).every((x) => Math.abs(x) <= 0.05 + 1e-6))
  // the order: a permutation of 0..3 per image, each of the 24 about 1/24 of the time
  const counts = new Map<string, number>()
  for (let i = 0; i < DRAWS; i++) {
    const o = Array.from(v.order.subarray(4 * i, 4 * i + 4))
    t.deepEqual([...o].sort(), [0, 1, 2, 3])
    counts.set(o.join(''), (counts.get(o.join('')) ?? 0) + 1)
  }
  t.is(counts.size, 24)
  for (const [order, c] of counts) t.true(Math.abs(c / DRAWS - 1 / 24) < 0.01, `order ${order}: ${c / DRAWS}`)
  // the hue comes at each of the 4 positions a quarter of the time
  for (let pos = 0; pos < 4; pos++) {
    let n = 0
    for (let i = 0; i < DRAWS; i++) if (v.order[4 * i + pos] === 3) n++
    t.true(Math.abs(n / DRAWS - 0.25) < 0.02, `hue at ${pos}: ${n / DRAWS}`)
  }
})

/** torchvision's RandomResizedCrop.get_params, with Math.random. */
function torchvisionCrop(height: number, width: number, minScale: number): [number, number, number, number] {
  const area = height * width
  const [lo, hi] = [Math.log(3 / 4), Math.log(4 / 3)]
  const roundHalfEven = (x: number) => (Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x))
  for (let k = 0; k < 10; k++) {
    const target = area * (minScale + (1 - minScale) * Math.random())
    const aspect = Math.exp(lo + (hi - lo) * Math.random())
    const w = roundHalfEven(Math.sqrt(target * aspect))
    const h = roundHalfEven(Math.sqrt(target / aspect))
    if (w > 0 && w <= width && h > 0 && h <= height) {
      return [Math.floor(Math.random() * (height - h + 1)), Math.floor(Math.random() * (width - w + 1)), h, w]
    }
  }
  const ratio = width / height
  let [h, w] = [height, width]
  if (ratio < 3 / 4) h = roundHalfEven(width / (3 / 4))
  else if (ratio > 4 / 3) w = roundHalfEven(height * (4 / 3))
  return [Math.floor((height - h) / 2), Math.floor((width - w) / 2), h, w]
}

function quantiles(values: number[], qs: number[]): number[] {
  const s = [...values].sort((a, b) => a - b)
  return qs.map((q) => s[Math.min(s.length - 1, Math.floor(q * s.length))])
}

for (const [height, width, minScale] of [
  [32, 32, 0.08],
  [375, 500, 0.08],
  [300, 120, 0.2],
] as const) {
  test(`RandomResizedCrop on ${height}x${width} (min_scale ${minScale}): boxes inside the image, area and aspect distributed as torchvision's`, async (t) => {
    const p = (await draw({ preset: 'byol', minScale }, height, width)).view1
    const area: number[] = []
    const logRatio: number[] = []
    for (let i = 0; i < DRAWS; i++) {
      const [top, left, h, w] = [p.top[i], p.left[i], p.height[i], p.width[i]]
      if (!(top >= 0 && left >= 0 && h >= 1 && w >= 1 && top + h <= height && left + w <= width)) {
        t.fail(`box ${[top, left, h, w]} outside ${height}x${width}`)
        return
      }
      t.true(Number.isInteger(top) && Number.isInteger(left) && Number.isInteger(h) && Number.isInteger(w))
      area.push((h * w) / (height * width))
      logRatio.push(Math.log(w / h))
    }
    // area fraction in [min_scale, 1], aspect in [3/4, 4/3], up to rounding to whole pixels
    const slackArea = 2.5 / Math.sqrt(minScale * height * width)
    t.true(Math.min(...area) >= minScale * (1 - slackArea), `smallest area ${Math.min(...area)}`)
    t.true(Math.max(...area) <= 1)
    const slackRatio = 2 / Math.sqrt(minScale * height * width)
    const fits = (r: number) => r >= Math.log(3 / 4) - slackRatio && r <= Math.log(4 / 3) + slackRatio
    // the centre-crop fallback (rare) may have another ratio
    t.true(logRatio.filter((r) => !fits(r)).length / DRAWS < 0.01)
    // same distribution as torchvision's draws (quantiles of area and log aspect ratio)
    const ref = Array.from({ length: DRAWS }, () => torchvisionCrop(height, width, minScale))
    const refArea = ref.map(([, , h, w]) => (h * w) / (height * width))
    const refRatio = ref.map(([, , h, w]) => Math.log(w / h))
    const qs = [0.1, 0.25, 0.5, 0.75, 0.9]
    const [a, ra] = [quantiles(area, qs), quantiles(refArea, qs)]
    const [r, rr] = [quantiles(logRatio, qs), quantiles(refRatio, qs)]
    for (let i = 0; i < qs.length; i++) {
      t.true(Math.abs(a[i] - ra[i]) < 0.02, `area quantile ${qs[i]}: ${a[i]} vs torchvision ${ra[i]}`)
      t.true(Math.abs(r[i] - rr[i]) < 0.03, `log-ratio quantile ${qs[i]}: ${r[i]} vs torchvision ${rr[i]}`)
    }
    // offsets: uniform over the free room (mean position of the box centre is the image centre)
    const cy = mean(Array.from(p.top).map((y, i) => y + p.height[i] / 2)) / height
    const cx = mean(Array.from(p.left).map((x, i) => x + p.width[i] / 2)) / width
    t.true(Math.abs(cy - 0.5) < 0.01 && Math.abs(cx - 0.5) < 0.01, `centre ${cy}, ${cx}`)
  })
}

test('different images of one batch get different parameters; the two views differ', async (t) => {
  const p = await draw({ preset: 'byol-cifar' }, 32, 32, 64)
  const boxes = new Set(Array.from({ length: 64 }, (_, i) => [p.view1.top[i], p.view1.left[i], p.view1.height[i], p.view1.width[i]].join()))
  t.true(boxes.size > 50)
  t.true(new Set(Array.from(p.view1.brightness)).size === 64)
  t.notDeepEqual(Array.from(p.view1.brightness), Array.from(p.view2.brightness))
})
