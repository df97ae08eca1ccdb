// The bad-input matrix, the command line (RELIABILITY.md): usage errors exit 2 naming the flag,
// a run directory that cannot be used exits 1 naming it, before any data is read.
import test from 'ava'
import { spawnSync } from 'child_process'
import fs = require('fs')
import path = require('path')
import { tmpDir, writeImageFolder } from './data.fixtures'

const CLI = path.resolve(__dirname, '..', 'src', 'cli', 'index.js')
const TINY = ['--width', '8', '--image-size', '8', '--batch-size', '4', '--epochs', '1', '--device', 'cpu', '--no-cache']

function byol(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

let folder: Promise<string> | undefined
const root = tmpDir('cli-images')
const images = () => (folder ??= writeImageFolder(root, 8, 8, 2).then(() => root))

test('an unknown flag exits 2 naming it', (t) => {
  const r = byol(['train', '--data', 'x', '--learning-rate', '0.1'])
  t.is(r.code, 2)
  t.regex(r.stderr, /^byol train: Unknown option '--learning-rate'/)
  t.regex(r.stderr, /Run `byol train --help` for the options/)
})

test('a missing --data exits 2 saying what is needed', (t) => {
  const r = byol(['train', ...TINY])
  t.is(r.code, 2)
  t.regex(r.stderr, /^byol train: --data is required \(or --resume <run dir>\)/)
})

test('--out pointing to a file exits 1 naming it, and the file is untouched', async (t) => {
  const file = path.join(tmpDir('cli-out'), 'notes.txt')
  fs.writeFileSync(file, 'keep me')
  const r = byol(['train', '--data', await images(), '--out', file, ...TINY])
  t.is(r.code, 1, r.stderr)
  t.regex(r.stderr, new RegExp(`^byol train: the run directory ${file.replace(/[.]/g, '\\.')} is a file; choose another folder`))
  t.is(fs.readFileSync(file, 'utf8'), 'keep me')
})

test('a run directory that cannot be written exits 1 naming it and the reason', async (t) => {
  // /proc refuses new files even to root, so this holds whoever runs the tests.
  const r = byol(['train', '--data', await images(), '--out', '/proc/byol-run', ...TINY])
  t.is(r.code, 1, r.stderr)
  t.regex(r.stderr, /^byol train: cannot write the run directory \/proc\/byol-run: /)
})
