// Loads byol's native addon: a local build first, then the platform package. When neither
// loads, throws one error that says what was looked for, what failed, and how to fix it.
'use strict'
const { existsSync } = require('fs')
const { join } = require('path')

function platformTriple() {
  const { platform, arch } = process
  if (platform !== 'linux') return `${platform}-${arch}`
  const glibc = process.report && process.report.getReport().header.glibcVersionRuntime
  return `linux-${arch}-${glibc ? 'gnu' : 'musl'}`
}

function load() {
  const triple = platformTriple()
  const candidates = [
    join(__dirname, `byol.${triple}.node`),
    `@byol/${triple}/byol.${triple}.node`,
  ]
  const failures = []
  for (const candidate of candidates) {
    try {
      if (candidate.startsWith('/') && !existsSync(candidate)) {
        failures.push(`${candidate}: not built`)
        continue
      }
      return require(candidate)
    } catch (e) {
      failures.push(`${candidate}: ${e.message.split('\n')[0]}`)
    }
  }
  const message = [
    `byol could not load its native addon for ${triple}.`,
    'Tried:',
    ...failures.map((f) => `  - ${f}`),
    'Possible solutions:',
    '  1. Build it from this checkout: `npm run setup` (installs libtorch-dev and builds the addon).',
    '  2. If the addon exists but libtorch does not load, install libtorch (`apt-get install libtorch-dev`)',
    '     or point LD_LIBRARY_PATH at the libtorch the shim (libbyoltorch.so) was built against.',
  ].join('\n')
  const error = new Error(message)
  error.code = 'BYOL_NATIVE_NOT_FOUND'
  throw error
}

module.exports = load()
