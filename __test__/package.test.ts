// The npm package as a user gets it: `npm pack` of the main and the platform package, both
// tarballs installed into an empty project (the install script compiles the libtorch shim there),
// then, from TypeScript in that project: ESM and CommonJS imports with types, `byol doctor`,
// two training steps and one embedding. Also what a user sees when the shim, libtorch or the
// addon is missing: the promised errors, not a crash.
import test from 'ava'
import { execFileSync, spawnSync } from 'child_process'
import fs = require('fs')
import os = require('os')
import path = require('path')

const REPO = path.resolve(__dirname, '..', '..')
const TSC = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc')

interface Installed {
  project: string
  tarballs: { main: string; platform: Record<string, string> }
  installLog: string
  seconds: number
}

function tmp(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `byol-${prefix}-`))
}

let installed: Promise<Installed> | undefined
function install(): Promise<Installed> {
  return (installed ??= (async () => {
    const started = Date.now()
    const out = tmp('pack')
    const tarballs = JSON.parse(execFileSync(process.execPath, [path.join(REPO, 'scripts', 'pack.js'), out], { encoding: 'utf8' }))
    const project = tmp('consumer')
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }))
    const r = spawnSync(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', '--foreground-scripts', '--loglevel=error', tarballs.main, tarballs.platform['linux-x64-gnu']],
      { cwd: project, encoding: 'utf8', env: { ...process.env, BYOL_NUM_THREADS: '1' } },
    )
    const installLog = `${r.stdout}\n${r.stderr}`
    if (r.status !== 0) throw new Error(`npm install failed (${r.status}):\n${installLog}`)
    return { project, tarballs, installLog, seconds: (Date.now() - started) / 1000 }
  })())
}

function node(cwd: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env } })
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr }
}

/** A copy of the installed project's node_modules, minus `remove` (paths under node_modules). */
function copyProject(from: string, remove: string[]): string {
  const project = tmp('broken')
  fs.cpSync(from, project, { recursive: true })
  for (const p of remove) fs.rmSync(path.join(project, 'node_modules', p), { recursive: true, force: true })
  return project
}

const ESM_CONSUMER = `
import { train, embed, runtimeInfo, type TrainResult } from 'byol'
import byol from 'byol'

const n = 16, size = 16
const data = new Uint8Array(n * size * size * 3)
for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24
const result: TrainResult = await train({
  data: { data, shape: [n, size, size, 3] },
  testData: false,
  imageSize: size,
  model: { width: 4, projectionHiddenDim: 16, projectionOutputDim: 8, predictionHiddenDim: 16 },
  device: 'cpu',
  epochs: 1,
  batchSize: 8,
})
const one = await embed(result.model, { data: data.subarray(0, size * size * 3), shape: [1, size, size, 3] })
console.log(JSON.stringify({
  steps: result.steps,
  loss: result.loss,
  embedding: one.shape,
  finite: Array.from(one.data as Float32Array).every(Number.isFinite),
  libtorch: runtimeInfo().libtorch,
  names: Object.keys(byol).sort(),
}))
`

const CJS_CONSUMER = `
import byol = require('byol')
const info: byol.RuntimeInfo = byol.runtimeInfo()
console.log(JSON.stringify({ libtorch: info.libtorch, train: typeof byol.train, names: Object.keys(byol).sort() }))
`

test.serial('npm pack + install into an empty project compiles the libtorch shim next to the platform addon', async (t) => {
  const { project, installLog, seconds } = await install()
  t.log(`pack + install: ${seconds.toFixed(1)} s`)
  const platformDir = path.join(project, 'node_modules', 'byol-linux-x64-gnu')
  t.true(fs.existsSync(path.join(platformDir, 'byol.linux-x64-gnu.node')))
  t.true(fs.existsSync(path.join(platformDir, 'libbyoltorch.so')), installLog)
  t.regex(installLog, /byol: compiling the libtorch shim against /)
  const info = JSON.parse(fs.readFileSync(path.join(platformDir, 'libbyoltorch.json'), 'utf8'))
  t.truthy(info.libDir)
  // The main package carries no binaries of its own, and lists the platform package.
  const pkg = JSON.parse(fs.readFileSync(path.join(project, 'node_modules', 'byol', 'package.json'), 'utf8'))
  t.deepEqual(pkg.optionalDependencies, { 'byol-linux-x64-gnu': pkg.version })
  t.false(fs.existsSync(path.join(project, 'node_modules', 'byol', 'byol.linux-x64-gnu.node')))
  const platformPkg = JSON.parse(fs.readFileSync(path.join(platformDir, 'package.json'), 'utf8'))
  t.deepEqual([platformPkg.os, platformPkg.cpu, platformPkg.libc, platformPkg.main], [['linux'], ['x64'], ['glibc'], 'byol.linux-x64-gnu.node'])
})

test.serial('from TypeScript in that project: ESM import trains 2 steps and embeds an image; CommonJS require', async (t) => {
  const { project } = await install()
  fs.writeFileSync(path.join(project, 'esm.mts'), ESM_CONSUMER)
  fs.writeFileSync(path.join(project, 'cjs.cts'), CJS_CONSUMER)
  // A strict consumer: the published declaration files are checked too (no --skipLibCheck).
  const flags = [
    '--module',
    'nodenext',
    '--moduleResolution',
    'nodenext',
    '--target',
    'es2022',
    '--strict',
    '--types',
    'node',
    '--typeRoots',
    path.join(REPO, 'node_modules', '@types'),
  ]
  const tsc = node(project, [TSC, ...flags, 'esm.mts', 'cjs.cts'])
  t.is(tsc.code, 0, `${tsc.stdout}${tsc.stderr}`)

  const esm = node(project, ['esm.mjs'], { BYOL_NUM_THREADS: '1' })
  t.is(esm.code, 0, esm.stderr)
  const r = JSON.parse(esm.stdout.trim().split('\n').pop()!)
  t.is(r.steps, 2)
  t.true(Number.isFinite(r.loss))
  t.deepEqual(r.embedding, [1, 4 * 8])
  t.true(r.finite)
  t.regex(r.libtorch, /^\d+\.\d+/)

  const cjs = node(project, ['cjs.cjs'])
  t.is(cjs.code, 0, cjs.stderr)
  const c = JSON.parse(cjs.stdout)
  t.is(c.train, 'function')
  t.is(c.libtorch, r.libtorch)
  // ESM sees every CommonJS export (plus `default`).
  t.deepEqual(
    r.names.filter((n: string) => n !== 'default'),
    c.names,
  )
})

test.serial('npx byol doctor reports libtorch, BLAS (and the fix for a reference one), oneDNN, CUDA, threads, addon, shim and the auto device', async (t) => {
  const { project } = await install()
  const bin = path.join(project, 'node_modules', '.bin', 'byol')
  const r = spawnSync(bin, ['doctor'], { cwd: project, encoding: 'utf8' })
  t.is(r.status, 0, r.stderr)
  t.regex(r.stdout, /^byol doctor: ok/)
  t.regex(r.stdout, /addon\s+\S+node_modules\/byol-linux-x64-gnu\/byol\.linux-x64-gnu\.node \(platform package\)/)
  t.regex(r.stdout, /shim\s+\S+node_modules\/byol-linux-x64-gnu\/libbyoltorch\.so/)
  t.regex(r.stdout, /libtorch\s+\d+\.\d+\S* at \//)
  t.regex(r.stdout, /threads\s+\d+/)
  t.regex(r.stdout, /CUDA\s+(not available|available, \d+ device)/)
  t.regex(r.stdout, /CUDA graphs\s+(built into the shim|not built)/)
  t.regex(r.stdout, /device 'auto'\s+(cpu|cuda:0)/)
  t.regex(r.stdout, /data-parallel\s+(c10d over gloo|not built)/)
  t.regex(r.stdout, /JPEG decoding\s+(libjpeg-turbo for uploads|sharp only)/)
  t.regex(r.stdout, /BLAS\s+\S+/)
  t.regex(r.stdout, /oneDNN\s+\d+\.\d+\.\d+, \w+: \S+/)
  const json = JSON.parse(spawnSync(bin, ['doctor', '--json'], { cwd: project, encoding: 'utf8' }).stdout)
  t.true(json.ok)
  t.is(json.autoDevice, json.cuda.available ? 'cuda:0' : 'cpu')
  t.is(typeof json.cuda.graphs, 'boolean')
  t.true(json.libtorch.loaded)
  t.is(typeof json.blas.reference, 'boolean')
  t.is(typeof json.onednn.reason, 'string')
  t.true(Array.isArray(json.distributed))
  // With netlib's reference BLAS, doctor and the loader both name it and print the fix.
  const referenceBlas = '/usr/lib/x86_64-linux-gnu/blas'
  if (fs.existsSync(path.join(referenceBlas, 'libblas.so.3'))) {
    const ref = spawnSync(bin, ['doctor'], { cwd: project, encoding: 'utf8', env: { ...process.env, LD_LIBRARY_PATH: referenceBlas } })
    t.is(ref.status, 0, ref.stderr)
    t.regex(ref.stdout, /BLAS\s+reference BLAS/)
    t.regex(ref.stdout, /Fix: sudo apt-get install -y libopenblas0-openmp/)
    t.regex(ref.stderr, /BYOL_REFERENCE_BLAS.*reference BLAS/)
  }
})

test.serial('without the shim or libtorch: the promised error from require, doctor and the install script, no crash', async (t) => {
  const { project } = await install()
  const broken = copyProject(project, ['byol-linux-x64-gnu/libbyoltorch.so', 'byol-linux-x64-gnu/libbyoltorch.json'])
  const requireIt = 'try { require("byol"); console.log("loaded") } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })) }'

  // The shim is missing but libtorch is there: rebuild it.
  const missingShim = node(broken, ['-e', requireIt])
  t.is(missingShim.code, 0, missingShim.stderr)
  const a = JSON.parse(missingShim.stdout)
  t.is(a.code, 'BYOL_LIBTORCH_NOT_FOUND')
  t.regex(a.message, /platform linux-x64-gnu/)
  t.regex(a.message, /libbyoltorch\.so was not built/)
  t.regex(a.message, /npm rebuild byol/)

  // Nothing to be found anywhere: every place searched, and the commands that fix it.
  const nowhere = { LIBTORCH: '/nonexistent/libtorch', LIBTORCH_USE_PYTORCH: '0', BYOL_NO_SYSTEM_LIBTORCH: '1' }
  const b = JSON.parse(node(broken, ['-e', requireIt], nowhere).stdout)
  t.is(b.code, 'BYOL_LIBTORCH_NOT_FOUND')
  for (const searched of [
    /LIBTORCH=\/nonexistent\/libtorch: not found: \/nonexistent\/libtorch\/include\/ATen\/ATen\.h/,
    /LIBTORCH_INCLUDE \+ LIBTORCH_LIB: not set/,
    /Python PyTorch: skipped/,
    /system libtorch: skipped/,
  ]) {
    t.regex(b.message, searched)
  }
  t.regex(b.message, /No libtorch was found/)
  t.regex(b.message, /apt-get install -y libtorch-dev/)
  t.regex(b.message, /LIBTORCH=\/path\/to\/libtorch npm rebuild byol/)

  // doctor still runs and says the same; exit code 1, no stack trace.
  const doctor = node(broken, [path.join('node_modules', 'byol', 'dist', 'src', 'cli', 'index.js'), 'doctor'], nowhere)
  t.is(doctor.code, 1, doctor.stderr)
  t.regex(doctor.stdout, /^byol doctor: byol cannot run here yet/)
  t.regex(doctor.stdout, /shim\s+\S+libbyoltorch\.so \(not built\)/)
  t.regex(doctor.stdout, /No libtorch was found/)
  t.notRegex(`${doctor.stdout}${doctor.stderr}`, /\n\s+at /)

  // The install script does not fail the install; it prints the same search and fixes.
  const script = node(broken, [path.join('node_modules', 'byol', 'scripts', 'install.js')], nowhere)
  t.is(script.code, 0)
  t.regex(script.stderr, /no libtorch found, so its shim was not built/)
  t.regex(script.stderr, /system libtorch: skipped/)
  t.false(fs.existsSync(path.join(broken, 'node_modules', 'byol-linux-x64-gnu', 'libbyoltorch.so')))

  // No addon at all: the platform and both places looked at.
  fs.rmSync(path.join(broken, 'node_modules', 'byol-linux-x64-gnu'), { recursive: true })
  const c = JSON.parse(node(broken, ['-e', requireIt]).stdout)
  t.is(c.code, 'BYOL_NATIVE_NOT_FOUND')
  t.regex(c.message, /no native addon for this platform: linux-x64-gnu/)
  t.regex(c.message, /local build \S+byol\.linux-x64-gnu\.node: not built/)
  t.regex(c.message, /platform package byol-linux-x64-gnu: not installed/)
  t.regex(c.message, /npm install byol --include=optional/)
  fs.rmSync(broken, { recursive: true, force: true })
})

test.after.always(async () => {
  if (!installed) return
  const i = await installed.catch(() => undefined)
  if (!i) return
  fs.rmSync(i.project, { recursive: true, force: true })
  fs.rmSync(path.dirname(i.tarballs.main), { recursive: true, force: true })
})
