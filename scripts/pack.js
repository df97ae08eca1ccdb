#!/usr/bin/env node
// Packs byol for npm the napi-rs way: the platform package npm/linux-x64-gnu (made by
// `napi create-npm-dirs`) with the built addon copied in (what `napi artifacts` does from CI
// artifacts), and the main package with that platform package added to its optionalDependencies
// (what `napi prepublish` does before publishing) and the `install` script that compiles the
// libtorch shim on the user's machine (scripts/install.js).
//
// The checkout's package.json does not list the optional dependency: the platform package is not
// on the registry, and `npm ci` refuses a lock file that cannot resolve it. So the main package is
// packed from a staging copy with the published package.json.
//
//   node scripts/pack.js [OUT_DIR]   (default: ./.pack); prints the two tarballs' paths as JSON
'use strict'
const { execFileSync } = require('child_process')
const fs = require('fs')
const os = require('os')
const path = require('path')

const ROOT = path.join(__dirname, '..')
const TRIPLES = ['linux-x64-gnu']

function npmPack(dir, out) {
  const json = execFileSync('npm', ['pack', '--json', '--pack-destination', out], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  return path.join(out, JSON.parse(json)[0].filename)
}

function main() {
  const out = path.resolve(process.argv[2] || path.join(ROOT, '.pack'))
  fs.mkdirSync(out, { recursive: true })
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
  const tarballs = { platform: {}, main: '' }
  const optional = {}
  for (const triple of TRIPLES) {
    const dir = path.join(ROOT, 'npm', triple)
    const binary = `${pkg.napi.binaryName}.${triple}.node`
    const built = path.join(ROOT, binary)
    if (!fs.existsSync(built)) throw new Error(`${built} is not built: run npm run build first`)
    fs.copyFileSync(built, path.join(dir, binary))
    const platformPkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'))
    if (platformPkg.version !== pkg.version) {
      platformPkg.version = pkg.version
      fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(platformPkg, null, 2)}\n`)
    }
    optional[platformPkg.name] = pkg.version
    tarballs.platform[triple] = npmPack(dir, out)
  }

  // The main package: the files `npm pack` would take, copied to a staging folder.
  const listing = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'byol-pack-'))
  try {
    for (const { path: file } of listing[0].files) {
      fs.mkdirSync(path.dirname(path.join(stage, file)), { recursive: true })
      fs.copyFileSync(path.join(ROOT, file), path.join(stage, file))
    }
    const published = { ...pkg, optionalDependencies: { ...(pkg.optionalDependencies || {}), ...optional } }
    published.scripts = { install: 'node scripts/install.js' }
    delete published.devDependencies
    delete published.ava
    fs.writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(published, null, 2)}\n`)
    tarballs.main = npmPack(stage, out)
  } finally {
    fs.rmSync(stage, { recursive: true, force: true })
  }
  process.stdout.write(`${JSON.stringify(tarballs)}\n`)
}

main()
