// The BLAS libtorch sends its matrix products to (byol's projection and prediction heads, kNN).
// Debian's libtorch uses whatever libblas.so.3 the system points at, and on a fresh machine that
// is netlib's reference BLAS, which halves byol's CPU training speed. Plain CommonJS: the loader
// (index.js), the install script and `byol doctor` share it.
'use strict'
const fs = require('fs')
const path = require('path')
const { spawnSync } = require('child_process')

/** The one-line fix on Debian and Ubuntu (the faster of OpenBLAS's builds here, BENCHMARKS.md). */
const FIX = 'sudo apt-get install -y libopenblas0-openmp'

/** "OpenBLAS (openmp) at /usr/lib/..." from runtimeInfo().blas. */
function describe(blas) {
  const version = blas.config && /OpenBLAS\s+([\d.]+)/.exec(blas.config)
  const name = version ? `OpenBLAS ${version[1]}` : blas.name
  const extra = [blas.threading, blas.library].filter(Boolean).join(', ')
  return extra ? `${name} (${extra})` : name
}

/** The warning for a reference BLAS, or undefined. */
function advice(blas) {
  if (!blas || !blas.reference) return undefined
  return (
    `byol: libtorch computes matrix products with the reference BLAS (${blas.library || 'libblas.so.3'}), ` +
    `which makes CPU training about 2x slower. Fix: ${FIX}`
  )
}

/**
 * Before the addon can load (the install script): the libblas.so.3 that libtorch_cpu.so in
 * `libDir` resolves to, as `{ name, library, reference }`, or undefined when it links no
 * system BLAS.
 */
function linkedBlas(libDir) {
  const lib = path.join(libDir, 'libtorch_cpu.so')
  const r = spawnSync('ldd', [lib], { encoding: 'utf8', timeout: 30000 })
  const m = r.status === 0 && /^\s*libblas\.so\.3 => (\S+)/m.exec(r.stdout)
  if (!m) return undefined
  let library = m[1]
  try {
    library = fs.realpathSync(library)
  } catch {
    // keep the name ldd printed
  }
  const openblas = /openblas/i.test(library)
  const reference = !openblas && /\/blas\/libblas\.so\.3[\d.]*$/.test(library)
  const threading = openblas ? (/openmp/.test(library) ? 'openmp' : /pthread/.test(library) ? 'pthreads' : undefined) : undefined
  return { name: openblas ? 'OpenBLAS' : reference ? 'reference BLAS' : 'unknown BLAS', library, threading, reference }
}

module.exports = { FIX, describe, advice, linkedBlas }
