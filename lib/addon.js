// Where byol's native addon is: a local build at the package root first (`npm run build` in a
// checkout), then the platform package (`byol-linux-x64-gnu`, an optionalDependency). The C++
// shim (libbyoltorch.so) must sit next to the addon: the addon finds it through rpath $ORIGIN.
'use strict'
const fs = require('fs')
const path = require('path')

const ROOT = path.join(__dirname, '..')

function platformTriple() {
  const { platform, arch } = process
  if (platform !== 'linux') return `${platform}-${arch}`
  const report = process.report && process.report.getReport()
  const glibc = report && report.header && report.header.glibcVersionRuntime
  return `linux-${arch}-${glibc ? 'gnu' : 'musl'}`
}

/** Every place the addon is looked for, in order: `{ where, file, found }`. */
function addonCandidates(triple = platformTriple()) {
  const binary = `byol.${triple}.node`
  const local = path.join(ROOT, binary)
  const pkg = `byol-${triple}`
  let file
  try {
    file = path.join(path.dirname(require.resolve(`${pkg}/package.json`, { paths: [ROOT] })), binary)
  } catch {
    file = undefined
  }
  return [
    { where: `local build ${local}`, file: local, found: fs.existsSync(local) },
    { where: `platform package ${pkg}${file ? ` (${file})` : ''}`, file, found: !!file && fs.existsSync(file), pkg },
  ]
}

module.exports = { ROOT, platformTriple, addonCandidates }
