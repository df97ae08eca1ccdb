#!/usr/bin/env node
// npm `install` script: compiles byol's libtorch shim (libbyoltorch.so) next to the native addon,
// against the libtorch found in the order of lib/libtorch.js (LIBTORCH, LIBTORCH_INCLUDE +
// LIBTORCH_LIB, a Python PyTorch, the system libtorch). The Rust addon is prebuilt and does not
// depend on the libtorch version; only this shim does, so it is built on the user's machine.
//
// It never fails the install: when there is no addon, no libtorch or no compiler, it prints what
// it searched and the fix, and the package still loads far enough (`npx byol doctor`, or the
// error from require('byol')) to say the same. Set BYOL_SKIP_SHIM_BUILD=1 to skip it, and
// BYOL_REBUILD_SHIM=1 to rebuild a shim that is already there.
'use strict'
const fs = require('fs')
const path = require('path')
const { addonCandidates } = require('../lib/addon')
const libtorch = require('../lib/libtorch')
const blas = require('../lib/blas')

async function main() {
  if (process.env.BYOL_SKIP_SHIM_BUILD === '1') return
  const addon = addonCandidates().find((c) => c.found)
  if (!addon) {
    console.warn('byol: no prebuilt native addon for this platform, so no libtorch shim was built; `npx byol doctor` says more.')
    return
  }
  const dir = path.dirname(addon.file)
  const shim = path.join(dir, libtorch.SHIM)
  if (fs.existsSync(shim) && process.env.BYOL_REBUILD_SHIM !== '1' && !process.argv.includes('--force')) {
    console.log(`byol: libtorch shim already at ${shim} (BYOL_REBUILD_SHIM=1 rebuilds it)`)
    return
  }
  const { libtorch: found, tried } = libtorch.findLibtorch()
  if (!found) {
    console.warn(libtorch.missingMessage(tried, 'byol: no libtorch found, so its shim was not built; byol will not load until it is.'))
    return
  }
  reportBlas(found)
  const started = Date.now()
  console.log(
    `byol: compiling the libtorch shim against ${found.foundBy} (${found.libDir}${found.version ? `, libtorch ${found.version}` : ''}${found.cuda ? ', CUDA' : ''})`,
  )
  try {
    await libtorch.buildShim(found, dir)
    console.log(`byol: built ${shim} in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  } catch (e) {
    console.warn(libtorch.missingMessage(tried, `byol: ${e.message}\nThe shim was not built against ${found.foundBy}; byol will not load until it is.`))
  }
}

/** Names the BLAS libtorch will compute with, and the fix when it is the reference BLAS. */
function reportBlas(found) {
  const linked = blas.linkedBlas(found.libDir)
  if (!linked) return
  const message = blas.advice(linked)
  if (message) console.warn(message)
  else console.log(`byol: libtorch's matrix products use ${blas.describe(linked)}`)
}

main().catch((e) => {
  console.warn(`byol: install script: ${e.stack || e}`)
})
