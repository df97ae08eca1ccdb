// Decoding an image folder: byol's decodeFiles (JPEGs at the wanted size with libjpeg-turbo on
// libuv's pool, the rest with sharp) against sharp alone, and against PyTorch's way, torchvision
// ImageFolder's PIL loader in one process (bench/decode_pil_ref.py), in the same run.
//   node dist/bench/decode-folder.js [--dir FOLDER] [--rounds 2]
// Default folder: CIFAR-10's 10,000 test JPEGs, extracted from ../shared/data/cifar10-jpg.tar.gz.
import { execFileSync } from 'child_process'
import fs = require('fs')
import os = require('os')
import path = require('path')
import { parseArgs } from 'util'
import { decodeImage } from '../src/data/decode-image'
import { decodeFiles } from '../src/data/folder'
import { runtimeInfo } from '../src'

const { values: args } = parseArgs({ options: { dir: { type: 'string' }, rounds: { type: 'string', default: '2' } } })
const root = path.resolve(__dirname, '..', '..')

function cifarTest(scratch: string): string {
  const archive = path.resolve(root, '..', 'shared', 'data', 'cifar10-jpg.tar.gz')
  execFileSync('tar', ['-xzf', archive, '-C', scratch, 'cifar10/test'])
  return path.join(scratch, 'cifar10', 'test')
}

function listFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(path.join(dir, e.name)) : [path.join(dir, e.name)]))
}

async function sharpAlone(files: string[]): Promise<Uint8Array> {
  // As decodeFiles schedules its work: 16 decodes in flight.
  const out = new Uint8Array(files.length * 32 * 32 * 3)
  let next = 0
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < files.length) {
        const i = next++
        out.set(await decodeImage(files[i], 32, 32), i * 32 * 32 * 3)
      }
    }),
  )
  return out
}

async function seconds<T>(f: () => Promise<T>): Promise<[number, T]> {
  const started = performance.now()
  const value = await f()
  return [(performance.now() - started) / 1000, value]
}

async function main(): Promise<void> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'byol-decode-'))
  const dir = args.dir ?? cifarTest(scratch)
  const files = listFiles(dir).sort()
  const list = path.join(scratch, 'files.txt')
  fs.writeFileSync(list, files.join('\n'))
  console.log(`decode-folder: ${files.length} files under ${dir}; ${os.cpus().length} CPUs (${os.cpus()[0].model}); native JPEG: ${runtimeInfo().jpeg}`)
  console.log('| round | byol decodeFiles s | sharp alone s | PyTorch (PIL, ImageFolder loader) s | byol vs PyTorch | byol vs sharp | identical to sharp |')
  console.log('|---:|---:|---:|---:|---:|---:|---|')
  for (let round = 1; round <= Number(args.rounds); round++) {
    const [byol, { data }] = await seconds(() => decodeFiles(files, { imageSize: 32 }))
    const [alone, reference] = await seconds(() => sharpAlone(files))
    const pil = JSON.parse(execFileSync('/usr/bin/python3', [path.join(root, 'bench', 'decode_pil_ref.py'), list], { encoding: 'utf8' })) as { seconds: number }
    const same = Buffer.from(data).equals(Buffer.from(reference))
    console.log(
      `| ${round} | ${byol.toFixed(2)} | ${alone.toFixed(2)} | ${pil.seconds.toFixed(2)} | ${(pil.seconds / byol).toFixed(2)}x | ${(alone / byol).toFixed(2)}x | ${same} |`,
    )
  }
  fs.rmSync(scratch, { recursive: true, force: true })
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
