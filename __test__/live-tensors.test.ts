// runtimeInfo().liveTensors counts native tensor handles: a model adds its parameters and
// buffers, and calls that only compute (embed) leave the count as they found it, once the first
// has kept a folded copy of the network for evaluation on the CPU (which new weights replace).
import test from 'ava'
import { execFileSync } from 'child_process'
import path = require('path')

test('a model adds its tensors to liveTensors; embed() calls leave the count unchanged after the first', (t) => {
  const out = execFileSync(process.execPath, [path.join(__dirname, 'helpers', 'live-tensors-child.js')], { encoding: 'utf8' })
  const c = JSON.parse(out.trim().split('\n').pop()!) as Record<'before' | 'withModel' | 'firstEmbed' | 'moreEmbeds' | 'newWeights', number>
  t.true(c.withModel - c.before >= 2 * 62, `online and target ResNet-18 parameters and buffers at least: ${c.withModel - c.before}`)
  // Three per convolution at most: the folded weight (packed on first use), its centre tap, the bias.
  t.true(c.firstEmbed - c.withModel <= 3 * 20, `the folded copy: ${c.firstEmbed - c.withModel}`)
  t.is(c.moreEmbeds, c.firstEmbed)
  t.is(c.newWeights, c.firstEmbed, 'new weights replace the folded copy')
})
