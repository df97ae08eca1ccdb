// oneDNN's instruction set on the CPU. libtorch 1.13's oneDNN (2.6.3) makes bf16 training diverge
// on AMX CPUs, so byol keeps oneDNN 2.x off AMX there, before oneDNN's first kernel; elsewhere it
// leaves oneDNN alone, and a cap set by the user always wins. The decision is made once per
// process, so each case runs in a fresh one.
import test from 'ava'
import { execFileSync } from 'child_process'
import fs = require('fs')
import path = require('path')
import { runtimeInfo, type OnednnInfo } from '../src'

const cpuFlags = new Set((/^flags\s*:\s*(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '').split(/\s+/))
const hasAmx = cpuFlags.has('amx_bf16') && cpuFlags.has('amx_tile')
const here = runtimeInfo().onednn
const major = Number(here.version?.split('.')[0])
const userVariables = ['ONEDNN_MAX_CPU_ISA', 'DNNL_MAX_CPU_ISA']

function child(args: string[], env: Record<string, string> = {}): { onednn: OnednnInfo; losses: number[] } {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !userVariables.includes(k)))
  const out = execFileSync(process.execPath, [path.join(__dirname, 'helpers', 'onednn-child.js'), ...args], {
    encoding: 'utf8',
    env: { ...clean, BYOL_NO_BLAS_WARNING: '1', ...env },
  })
  return JSON.parse(out.trim().split('\n').pop()!)
}

test("runtimeInfo names oneDNN's version and instruction set, and why byol chose it", (t) => {
  const { onednn } = child([])
  t.regex(onednn.version ?? '', /^\d+\.\d+\.\d+/)
  t.is(typeof onednn.isa, 'string', "Debian's libtorch exposes oneDNN's API")
  if (hasAmx && major < 3) {
    t.true(onednn.capped)
    t.is(onednn.isa, 'avx512_core_bf16')
    t.regex(onednn.reason, /AMX bf16 kernels make training diverge/)
  } else if (hasAmx) {
    t.false(onednn.capped)
    t.is(onednn.isa, 'avx512_core_amx')
  } else {
    t.false(onednn.capped)
    t.regex(onednn.reason, /no AMX-BF16/)
    t.not(onednn.isa, 'avx512_core_amx')
    if (cpuFlags.has('avx512_bf16')) t.is(onednn.isa, 'avx512_core_bf16')
  }
})

test('a cap the user sets with ONEDNN_MAX_CPU_ISA is left alone', (t) => {
  const { onednn } = child([], { ONEDNN_MAX_CPU_ISA: 'AVX2' })
  t.is(onednn.isa, 'avx2')
  t.false(onednn.capped)
  t.regex(onednn.reason, /ONEDNN_MAX_CPU_ISA=AVX2, set in the environment/)
})

const amxTitle = 'on an AMX CPU, bf16 + channels-last training stays finite and learns'
if (!hasAmx) {
  test.skip(`${amxTitle} [skipped: this CPU has no AMX-BF16]`, () => {})
} else {
  // Where oneDNN's AMX kernels are sound the run uses them (forced, in case the default changes);
  // where they are not, it runs as a user's would: byol's cap in force.
  test(`${amxTitle} (oneDNN ${here.version}: ${major >= 3 ? 'on AMX' : 'AMX capped by byol'})`, (t) => {
    const run = child(['train'], major >= 3 ? { ONEDNN_MAX_CPU_ISA: 'AVX512_CORE_AMX' } : {})
    t.is(run.onednn.isa, major >= 3 ? 'avx512_core_amx' : 'avx512_core_bf16')
    t.true(run.losses.every(Number.isFinite), `losses ${run.losses}`)
    t.true(run.losses[3] < run.losses[0] - 0.05, `bf16 losses ${run.losses.map((l) => l.toFixed(3))}`)
  })
}
