// `byol doctor`: what byol sees on this machine. It works when the native addon cannot load: the
// addon and libtorch are located with the loader's own plain-JS helpers (lib/addon.js,
// lib/libtorch.js) before the addon is required, and a load failure is reported, not thrown.
import { spawnSync } from 'child_process'
import fs = require('fs')
import path = require('path')
import type { BlasInfo, OnednnInfo, RuntimeInfo } from '../model/addon-api'
import { CommandSpec, Parsed } from './args'

export const spec: CommandSpec = {
  name: 'doctor',
  summary: 'show the libtorch, BLAS, oneDNN, CUDA devices, threads, addon and shim byol uses here, and what is missing',
  usage: 'byol doctor [--json]',
  options: {
    json: { type: 'boolean', help: 'print the report as JSON' },
  },
  examples: ['npx byol doctor'],
}

interface Candidate {
  where: string
  file?: string
  found: boolean
}
interface Libtorch {
  foundBy: string
  libDir: string
  version?: string
  cuda: boolean
}
interface AddonHelpers {
  ROOT: string
  platformTriple(): string
  addonCandidates(): Candidate[]
}
interface BlasHelpers {
  describe(blas: BlasInfo): string
  advice(blas: BlasInfo): string | undefined
}
interface LibtorchHelpers {
  SHIM: string
  findLibtorch(): { libtorch?: Libtorch; tried: string[] }
  shimInfo(dir: string): (Partial<Libtorch> & { builtAt?: string }) | undefined
}

export interface DoctorReport {
  ok: boolean
  platform: string
  node: string
  addon: { path?: string; from?: string; searched: string[] }
  shim: { path?: string; exists: boolean; builtAgainst?: Partial<Libtorch> & { builtAt?: string } }
  libtorch: { version?: string; path?: string; loaded: boolean; search: string[]; found?: Libtorch }
  threads?: number
  /** With `summary` (name, threading, file) and, for the reference BLAS, the fix. */
  blas?: BlasInfo & { summary: string; advice?: string }
  onednn?: OnednnInfo
  cuda: { available: boolean; deviceCount: number; devices: string[]; graphs: boolean }
  autoDevice?: string
  /** The c10d process-group backends data-parallel training can use (`gloo`, `nccl`). */
  distributed?: string[]
  /** Model-sized JPEG uploads decode natively with libjpeg-turbo (else with sharp). */
  jpeg?: boolean
  error?: string
}

/** Paths of libtorch's libraries mapped into this process (after the addon loaded). */
function loadedLibtorch(): string | undefined {
  try {
    const maps = fs.readFileSync('/proc/self/maps', 'utf8')
    const m = /\s(\/\S*\/libtorch_cpu\.so[\w.]*)$/m.exec(maps)
    return m ? m[1] : undefined
  } catch {
    return undefined
  }
}

function cudaDeviceNames(): string[] {
  const r = spawnSync('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], { encoding: 'utf8', timeout: 10000 })
  return r.status === 0 ? r.stdout.trim().split('\n').filter(Boolean) : []
}

export function doctor(): DoctorReport {
  const root = path.resolve(__dirname, '..', '..', '..')
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const addonHelpers: AddonHelpers = require(path.join(root, 'lib', 'addon.js'))
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const lt: LibtorchHelpers = require(path.join(root, 'lib', 'libtorch.js'))
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const blasHelpers: BlasHelpers = require(path.join(root, 'lib', 'blas.js'))
  const candidates = addonHelpers.addonCandidates()
  const addon = candidates.find((c) => c.found)
  const shimPath = addon?.file ? path.join(path.dirname(addon.file), lt.SHIM) : undefined
  const search = lt.findLibtorch()
  const report: DoctorReport = {
    ok: false,
    platform: addonHelpers.platformTriple(),
    node: process.version,
    addon: { path: addon?.file, from: addon?.where, searched: candidates.map((c) => `${c.where}: ${c.found ? 'found' : 'missing'}`) },
    shim: {
      path: shimPath,
      exists: !!shimPath && fs.existsSync(shimPath),
      builtAgainst: shimPath ? lt.shimInfo(path.dirname(shimPath)) : undefined,
    },
    libtorch: { loaded: false, search: search.tried, found: search.libtorch },
    cuda: { available: false, deviceCount: 0, devices: [], graphs: false },
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const native = require(path.join(root, 'index.js'))
    const info = native.runtimeInfo() as RuntimeInfo
    const libPath = loadedLibtorch()
    report.libtorch = { ...report.libtorch, loaded: true, version: info.libtorch, path: libPath ? path.dirname(libPath) : undefined }
    report.threads = info.threads
    report.blas = { ...info.blas, summary: blasHelpers.describe(info.blas), advice: blasHelpers.advice(info.blas) }
    report.onednn = info.onednn
    report.cuda = {
      available: info.cudaAvailable,
      deviceCount: info.cudaDeviceCount,
      devices: info.cudaDeviceCount > 0 ? cudaDeviceNames() : [],
      graphs: info.cudaGraphs,
    }
    report.distributed = info.distributedBackends
    report.jpeg = info.jpeg
    report.autoDevice = info.cudaAvailable ? 'cuda:0' : 'cpu'
    report.ok = true
  } catch (e) {
    report.error = (e as Error).message
    report.libtorch.version = search.libtorch?.version
    report.libtorch.path = search.libtorch?.libDir
  }
  return report
}

export function formatReport(r: DoctorReport): string {
  const rows: [string, string][] = [
    ['platform', `${r.platform} (node ${r.node})`],
    ['addon', r.addon.path ? `${r.addon.path} (${r.addon.from?.split(' ')[0] === 'local' ? 'local build' : 'platform package'})` : 'not found'],
    ['shim', r.shim.path ? `${r.shim.path}${r.shim.exists ? '' : ' (not built)'}` : 'n/a (no addon)'],
  ]
  const built = r.shim.builtAgainst
  if (built) rows.push(['shim built for', `${built.foundBy} ${built.version ?? ''} (${built.libDir}${built.cuda ? ', CUDA' : ''})`.replace(/\s+\(/, ' (')])
  rows.push([
    'libtorch',
    r.libtorch.loaded
      ? `${r.libtorch.version} at ${r.libtorch.path ?? '?'}`
      : `not loaded${r.libtorch.found ? ` (found ${r.libtorch.found.foundBy} ${r.libtorch.version ?? ''} at ${r.libtorch.path})` : ''}`,
  ])
  if (r.threads !== undefined) rows.push(['threads', String(r.threads)])
  if (r.blas) rows.push(['BLAS', r.blas.summary])
  if (r.onednn) rows.push(['oneDNN', `${r.onednn.version ?? '?'}, ${r.onednn.isa ?? 'instruction set not reported by this libtorch'}: ${r.onednn.reason}`])
  if (r.ok) {
    rows.push([
      'CUDA',
      r.cuda.available
        ? `available, ${r.cuda.deviceCount} device(s)${r.cuda.devices.length ? `: ${r.cuda.devices.map((d, i) => `cuda:${i} ${d}`).join(', ')}` : ''}`
        : 'not available',
    ])
    rows.push([
      'CUDA graphs',
      r.cuda.graphs ? 'built into the shim' : 'not built (a CPU libtorch, or no CUDA headers at build time): steps on a GPU run eagerly',
    ])
    rows.push([
      'data-parallel',
      r.distributed?.length
        ? `c10d over ${r.distributed.join(', ')} (byol train --nproc-per-node N, or torchrun)`
        : 'not built: no c10d Gloo headers at build time (install libgloo-dev, then: node scripts/install.js --force)',
    ])
    rows.push([
      'JPEG decoding',
      r.jpeg
        ? "libjpeg-turbo for uploads at the model's size, sharp for the rest"
        : 'sharp only: no jpeglib.h at build time (install libjpeg-dev, then: node scripts/install.js --force)',
    ])
    rows.push(["device 'auto'", r.autoDevice ?? '?'])
  }
  const width = Math.max(...rows.map(([k]) => k.length)) + 2
  const lines = [`byol doctor: ${r.ok ? 'ok' : 'byol cannot run here yet'}`, ...rows.map(([k, v]) => `  ${k.padEnd(width)}${v}`)]
  lines.push('  addon search:', ...r.addon.searched.map((s) => `    - ${s}`))
  lines.push('  libtorch search (install-time order):', ...r.libtorch.search.map((s) => `    - ${s}`))
  if (r.blas?.advice) lines.push('', r.blas.advice)
  if (r.error) lines.push('', r.error)
  return lines.join('\n') + '\n'
}

export async function run(p: Parsed): Promise<number> {
  const report = doctor()
  process.stdout.write(p.values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report))
  return report.ok ? 0 : 1
}
