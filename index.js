// Loads byol's native addon: a local build first, then the platform package (byol-<platform>).
// The addon needs the libtorch shim (libbyoltorch.so, compiled at install time against the
// libtorch found: see lib/libtorch.js and scripts/install.js) next to it. When no addon loads,
// throws one error that names the platform, everything looked for, and the commands that fix it.
'use strict'
const fs = require('fs')
const path = require('path')
const { addonCandidates, platformTriple } = require('./lib/addon')
const libtorch = require('./lib/libtorch')
const blas = require('./lib/blas')

const SUPPORTED = ['linux-x64-gnu']

function load() {
  const triple = platformTriple()
  const failures = []
  let libtorchProblem = false
  for (const c of addonCandidates(triple)) {
    if (!c.found) {
      failures.push(`${c.where}: not ${c.pkg ? 'installed' : 'built'}`)
      continue
    }
    const shim = path.join(path.dirname(c.file), libtorch.SHIM)
    if (!fs.existsSync(shim)) {
      failures.push(`${c.where}: found, but the libtorch shim ${shim} was not built`)
      libtorchProblem = true
      continue
    }
    let native
    try {
      native = require(c.file)
    } catch (e) {
      const first = String(e.message).split('\n')[0]
      failures.push(`${c.file}: ${first}`)
      if (/lib(torch|c10|byoltorch)[\w.-]*\.so/.test(first)) libtorchProblem = true
      continue
    }
    warnOnReferenceBlas(native)
    return native
  }
  let message
  let code
  if (libtorchProblem) {
    const { libtorch: found, tried } = libtorch.findLibtorch()
    code = 'BYOL_LIBTORCH_NOT_FOUND'
    message = [
      `byol could not load libtorch for its native addon (platform ${triple}).`,
      'Addon:',
      ...failures.map((f) => `  - ${f}`),
      found
        ? libtorch.missingMessage(tried, `libtorch is there now (${found.foundBy}, ${found.libDir}): rebuild the shim against it with \`npm rebuild byol\`.`)
        : libtorch.missingMessage(tried, 'No libtorch was found.'),
    ].join('\n')
  } else {
    code = 'BYOL_NATIVE_NOT_FOUND'
    message = [
      `byol has no native addon for this platform: ${triple} (prebuilt: ${SUPPORTED.join(', ')}).`,
      'Looked for:',
      ...failures.map((f) => `  - ${f}`),
      'Possible solutions:',
      `  1. Install the optional platform package: npm install byol --include=optional${SUPPORTED.includes(triple) ? '' : ' (only on a supported platform)'}`,
      '  2. Build from source (needs Rust, g++ and libtorch): npm run build in a byol checkout',
      '  3. Run `npx byol doctor` for what byol sees.',
    ].join('\n')
  }
  const error = new Error(message)
  error.code = code
  throw error
}

/** Once per process: a reference BLAS halves CPU training speed, and the fix is one command. */
function warnOnReferenceBlas(native) {
  if (process.env.BYOL_NO_BLAS_WARNING === '1') return
  const message = blas.advice(native.blasInfo())
  if (message) process.emitWarning(`${message} (BYOL_NO_BLAS_WARNING=1 silences this)`, { code: 'BYOL_REFERENCE_BLAS' })
}

module.exports = load()
