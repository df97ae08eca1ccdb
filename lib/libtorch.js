// Finds libtorch and compiles byol's C++ shim (libbyoltorch.so) against it: the one place that
// does either. Plain CommonJS with no dependencies: the install script, the addon loader
// (index.js) and `byol doctor` use it, including when the addon itself cannot load, and cargo's
// build script (crates/torch-sys/build.rs) runs it as a command:
//   node lib/libtorch.js --build DIR   builds DIR/libbyoltorch.so; prints key=value lines
//   node lib/libtorch.js --json        prints what the search found and everywhere it looked
//
// Search order (as tch's torch-sys, plus the automatic Python PyTorch):
//   1. LIBTORCH (an unpacked libtorch), or LIBTORCH_INCLUDE + LIBTORCH_LIB
//   2. a Python PyTorch: LIBTORCH_USE_PYTORCH=1, or found automatically when `python3 -c "import
//      torch"` works and that install ships its C++ headers
//   3. the system libtorch (Debian's libtorch-dev: /usr/include/ATen, /usr/lib/<multiarch>)
'use strict'
const fs = require('fs')
const os = require('os')
const path = require('path')
const { spawn, spawnSync } = require('child_process')

const SHIM = 'libbyoltorch.so'
const SHIM_INFO = 'libbyoltorch.json'
const SHIM_SOURCES = path.join(__dirname, '..', 'crates', 'torch-sys', 'libtch')
const SYSTEM_LIB_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib']
const SYSTEM_INCLUDE_DIRS = ['/usr/include', '/usr/local/include']

/** The commands that fix a missing libtorch, shown in every error. */
const FIXES = [
  'Install a CPU libtorch (Debian/Ubuntu): sudo apt-get install -y libtorch-dev g++, then: npm rebuild byol',
  'Or use an unpacked libtorch from pytorch.org (CPU or CUDA): LIBTORCH=/path/to/libtorch npm rebuild byol',
  'Or use PyTorch from pip (CUDA when it has it): pip install torch, then: LIBTORCH_USE_PYTORCH=1 npm rebuild byol',
]

function exists(p) {
  try {
    fs.accessSync(p)
    return true
  } catch {
    return false
  }
}

function fromRoot(root, foundBy) {
  return {
    foundBy,
    root,
    includes: [path.join(root, 'include'), path.join(root, 'include', 'torch', 'csrc', 'api', 'include')],
    libDir: path.join(root, 'lib'),
    cxx11Abi: true,
  }
}

/** Why `lt` is not a usable libtorch, or undefined when it is. */
function problem(lt) {
  const header = path.join(lt.includes[0], 'ATen', 'ATen.h')
  const lib = path.join(lt.libDir, 'libtorch_cpu.so')
  const missing = [header, lib].filter((p) => !exists(p))
  return missing.length ? `not found: ${missing.join(', ')}` : undefined
}

function fromPython(env) {
  const python = env.PYTHON || 'python3'
  const script = 'import torch, os; print(os.path.dirname(torch.__file__)); ' + 'print(int(torch._C._GLIBCXX_USE_CXX11_ABI)); print(torch.__version__)'
  const r = spawnSync(python, ['-c', script], { encoding: 'utf8', env, timeout: 60000 })
  if (r.error) return { error: `${python}: ${r.error.code || r.error.message}` }
  if (r.status !== 0) {
    const last = (r.stderr || '').trim().split('\n').pop()
    return { error: `${python} could not import torch (${last})` }
  }
  const [root, abi, version] = r.stdout.trim().split('\n')
  const lt = fromRoot(root, `Python PyTorch (${python})`)
  lt.cxx11Abi = abi === '1'
  lt.version = version
  return { lt }
}

function system() {
  for (const inc of SYSTEM_INCLUDE_DIRS) {
    for (const libDir of SYSTEM_LIB_DIRS) {
      const lt = {
        foundBy: 'system libtorch',
        includes: [inc, path.join(inc, 'torch', 'csrc', 'api', 'include')],
        libDir,
        cxx11Abi: true,
      }
      if (!problem(lt)) return lt
    }
  }
  return undefined
}

/** libtorch's version from what it installs, when it says (undefined otherwise). */
function libtorchVersion(lt) {
  if (lt.version) return lt.version
  const candidates = [lt.root && path.join(lt.root, 'build-version'), ...lt.includes.map((inc) => path.join(inc, 'torch', 'version.h'))].filter(Boolean)
  for (const file of candidates) {
    try {
      const text = fs.readFileSync(file, 'utf8')
      const m = /TORCH_VERSION\s+"([^"]+)"/.exec(text) || /^(\d+\.\d+\.\d+\S*)/.exec(text)
      if (m) return m[1]
    } catch {}
  }
  try {
    // Debian: libtorch_cpu.so -> libtorch_cpu.so.1.13 -> libtorch_cpu.so.1.13.0
    const m = /libtorch_cpu\.so\.(\d+\.\d+(\.\d+)?)$/.exec(fs.realpathSync(path.join(lt.libDir, 'libtorch_cpu.so')))
    if (m) return m[1]
  } catch {}
  return undefined
}

/**
 * Looks for libtorch in the documented order. Returns `{ libtorch, tried }`: `libtorch` is
 * undefined when nothing usable was found; `tried` lists every place looked at, with the outcome.
 */
function findLibtorch(env = process.env) {
  const tried = []
  const done = (lt) => {
    lt.version = libtorchVersion(lt)
    lt.cuda = exists(path.join(lt.libDir, 'libtorch_cuda.so'))
    tried.push(`${lt.foundBy}: found (${lt.libDir})`)
    return { libtorch: lt, tried }
  }
  if (env.LIBTORCH) {
    const lt = fromRoot(env.LIBTORCH, `LIBTORCH=${env.LIBTORCH}`)
    const why = problem(lt)
    if (!why) return done(lt)
    tried.push(`LIBTORCH=${env.LIBTORCH}: ${why}`)
  } else {
    tried.push('LIBTORCH: not set')
  }
  if (env.LIBTORCH_INCLUDE && env.LIBTORCH_LIB) {
    const lt = fromRoot(env.LIBTORCH_INCLUDE, `LIBTORCH_INCLUDE=${env.LIBTORCH_INCLUDE} + LIBTORCH_LIB=${env.LIBTORCH_LIB}`)
    lt.libDir = path.join(env.LIBTORCH_LIB, 'lib')
    const why = problem(lt)
    if (!why) return done(lt)
    tried.push(`${lt.foundBy}: ${why}`)
  } else {
    tried.push('LIBTORCH_INCLUDE + LIBTORCH_LIB: not set')
  }
  const wantPython = env.LIBTORCH_USE_PYTORCH === '1'
  if (env.LIBTORCH_USE_PYTORCH !== '0') {
    const label = wantPython ? 'LIBTORCH_USE_PYTORCH=1' : 'Python PyTorch (automatic; LIBTORCH_USE_PYTORCH=0 skips it)'
    const { lt, error } = fromPython(env)
    const why = lt ? problem(lt) : error
    if (lt && !why) return done(lt)
    tried.push(`${label}: ${lt ? `${lt.root}: ${why} (this PyTorch has no C++ headers)` : why}`)
  } else {
    tried.push('Python PyTorch: skipped (LIBTORCH_USE_PYTORCH=0)')
  }
  if (env.BYOL_NO_SYSTEM_LIBTORCH !== '1') {
    const lt = system()
    if (lt) return done(lt)
    tried.push(`system libtorch: no ATen/ATen.h under ${SYSTEM_INCLUDE_DIRS.join(' or ')} with libtorch_cpu.so in ${SYSTEM_LIB_DIRS.join(', ')}`)
  } else {
    tried.push('system libtorch: skipped (BYOL_NO_SYSTEM_LIBTORCH=1)')
  }
  return { libtorch: undefined, tried }
}

/** The message for "no libtorch": every place searched and the commands that fix it. */
function missingMessage(tried, headline = 'byol could not find libtorch.') {
  return [headline, 'Searched, in order:', ...tried.map((t) => `  - ${t}`), 'Fix (any one):', ...FIXES.map((f, i) => `  ${i + 1}. ${f}`)].join('\n')
}

function run(cmd, args, env) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', (e) => resolve({ code: -1, stderr: `${cmd}: ${e.message}` }))
    child.on('close', (code) => resolve({ code, stderr }))
  })
}

/** The CUDA runtime library in the first of `dirs` that has one (wheels ship only libcudart.so.N). */
function findCudart(dirs) {
  for (const dir of dirs) {
    const files = exists(dir)
      ? fs
          .readdirSync(dir)
          .filter((f) => /^libcudart\.so(\.\d+)*$/.test(f))
          .sort()
      : []
    if (files.length) return { dir: path.resolve(dir), file: files[files.length - 1] }
  }
  return undefined
}

/**
 * Compiles the shim against `lt` into `dir/libbyoltorch.so` (one compiler per source file, in
 * parallel, then a link), and writes `dir/libbyoltorch.json` describing the libtorch it used.
 */
async function buildShim(lt, dir, env = process.env) {
  const cxx = env.CXX || 'g++'
  const sources = fs
    .readdirSync(SHIM_SOURCES)
    .filter((f) => f.endsWith('.cpp'))
    .sort()
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'byol-shim-'))
  const flags = ['-std=c++17', '-O2', '-fPIC', '-w', `-D_GLIBCXX_USE_CXX11_ABI=${lt.cxx11Abi ? 1 : 0}`]
  for (const inc of lt.includes) flags.push(`-I${inc}`)
  const libs = ['-ltorch', '-ltorch_cpu', '-lc10']
  const rpaths = [lt.libDir]
  // c10d (data-parallel training, libtch/byol_dist.cpp): libtorch exports the process groups
  // when built with USE_DISTRIBUTED, but their headers compile to nothing without these macros,
  // and Gloo's own headers come separately (Debian: libgloo-dev).
  const glooInclude = [...lt.includes, ...SYSTEM_INCLUDE_DIRS].find((d) => exists(path.join(d, 'gloo', 'config.h')))
  if (glooInclude) {
    flags.push('-DUSE_DISTRIBUTED', '-DUSE_C10D_GLOO', '-DBYOL_WITH_GLOO')
    if (!lt.includes.includes(glooInclude)) flags.push(`-I${glooInclude}`)
  }
  // Services decode uploaded JPEGs with the system's libjpeg-turbo (libtch/byol_jpeg.cpp; Debian:
  // libjpeg-dev); without it they decode with sharp alone.
  const jpegLib = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib'].some((d) =>
    exists(path.join(d, 'libjpeg.so')),
  )
  const jpegInclude = jpegLib && SYSTEM_INCLUDE_DIRS.find((d) => exists(path.join(d, 'jpeglib.h')))
  if (jpegInclude) {
    flags.push('-DBYOL_WITH_JPEG')
    libs.push('-ljpeg')
  }
  if (lt.cuda) {
    libs.push('-ltorch_cuda', '-lc10_cuda')
    // PyTorch wheels ship the CUDA runtime under site-packages/nvidia/<cuXY>/lib.
    const nvidia = path.join(lt.libDir, '..', '..', 'nvidia')
    for (const sub of exists(nvidia) ? fs.readdirSync(nvidia) : []) {
      if (exists(path.join(nvidia, sub, 'lib'))) rpaths.push(path.resolve(nvidia, sub, 'lib'))
    }
    const cudart = findCudart([...rpaths.slice(1), path.join(env.CUDA_HOME || '/usr/local/cuda', 'lib64')])
    const include = [path.join(env.CUDA_HOME || '/usr/local/cuda', 'include'), ...rpaths.slice(1).map((r) => path.join(r, '..', 'include'))].find((d) =>
      exists(path.join(d, 'cuda_runtime_api.h')),
    )
    if (include && cudart) {
      // CUDA graphs, side streams and memory statistics (libtch/byol_cuda.cpp).
      flags.push(`-I${include}`, '-DBYOL_WITH_CUDA')
      // NCCL's process group, when libtorch has it and nccl.h is found (pip wheels: nvidia/nccl).
      const nccl = [include, ...rpaths.slice(1).map((r) => path.join(r, '..', 'include'))].find((d) => exists(path.join(d, 'nccl.h')))
      if (glooInclude && nccl) {
        flags.push('-DUSE_C10D_NCCL', '-DBYOL_WITH_NCCL')
        if (nccl !== include) flags.push(`-I${nccl}`)
      }
      libs.push(`-L${cudart.dir}`, `-l:${cudart.file}`)
      if (!rpaths.includes(cudart.dir)) rpaths.push(cudart.dir)
    } else {
      console.warn(`byol: CUDA headers (cuda_runtime_api.h) or libcudart not found; the shim is built without CUDA graphs (set CUDA_HOME)`)
    }
  }
  try {
    const objects = sources.map((s) => path.join(work, s.replace(/\.cpp$/, '.o')))
    const results = await Promise.all(sources.map((s, i) => run(cxx, [...flags, '-c', path.join(SHIM_SOURCES, s), '-o', objects[i]], env)))
    const failed = results.find((r) => r.code !== 0)
    if (failed) throw new Error(`compiling the shim with ${cxx} failed:\n${failed.stderr.trim().split('\n').slice(0, 20).join('\n')}`)
    const tmp = path.join(work, SHIM)
    const link = await run(
      cxx,
      [
        '-shared',
        ...objects,
        '-o',
        tmp,
        `-L${lt.libDir}`,
        ...rpaths.map((r) => `-Wl,-rpath,${r}`),
        '-Wl,-z,nodelete',
        '-Wl,--no-as-needed',
        ...libs,
        '-Wl,--as-needed',
      ],
      env,
    )
    if (link.code !== 0) throw new Error(`linking the shim with ${cxx} failed:\n${link.stderr.trim().split('\n').slice(0, 20).join('\n')}`)
    fs.copyFileSync(tmp, path.join(dir, `${SHIM}.tmp`))
    fs.renameSync(path.join(dir, `${SHIM}.tmp`), path.join(dir, SHIM))
    const distributed = flags.includes('-DBYOL_WITH_NCCL') ? ['gloo', 'nccl'] : glooInclude ? ['gloo'] : []
    const info = {
      foundBy: lt.foundBy,
      libDir: lt.libDir,
      version: lt.version,
      cuda: lt.cuda,
      distributed,
      jpeg: Boolean(jpegInclude),
      builtAt: new Date().toISOString(),
    }
    fs.writeFileSync(path.join(dir, SHIM_INFO), `${JSON.stringify(info, null, 2)}\n`)
    return path.join(dir, SHIM)
  } finally {
    fs.rmSync(work, { recursive: true, force: true })
  }
}

/** What the shim in `dir` was built against (libbyoltorch.json), when it says. */
function shimInfo(dir) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, SHIM_INFO), 'utf8'))
  } catch {
    return undefined
  }
}

module.exports = { SHIM, SHIM_INFO, FIXES, findLibtorch, libtorchVersion, missingMessage, buildShim, shimInfo }

/** The command-line form, for cargo's build script: exit 1 with the search and the fixes when it fails. */
async function cli(args) {
  const { libtorch: lt, tried } = findLibtorch()
  if (args[0] === '--json') {
    process.stdout.write(`${JSON.stringify({ libtorch: lt, tried }, null, 2)}\n`)
    return lt ? 0 : 1
  }
  if (args[0] !== '--build' || !args[1]) {
    process.stderr.write('usage: node lib/libtorch.js --build DIR | --json\n')
    return 2
  }
  if (!lt) {
    process.stderr.write(`${missingMessage(tried)}\n`)
    return 1
  }
  fs.mkdirSync(args[1], { recursive: true })
  try {
    await buildShim(lt, args[1])
  } catch (e) {
    process.stderr.write(`byol: ${e.message}\n(libtorch: ${lt.foundBy}, ${lt.libDir})\n`)
    return 1
  }
  const lines = { found_by: lt.foundBy, lib_dir: lt.libDir, version: lt.version ?? '', cuda: lt.cuda ? 1 : 0 }
  process.stdout.write(
    Object.entries(lines)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
  )
  return 0
}

if (require.main === module) {
  cli(process.argv.slice(2)).then((code) => (process.exitCode = code))
}
