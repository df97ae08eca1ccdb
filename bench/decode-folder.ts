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

/** Wall seconds and CPU seconds (every thread of this process: libuv's pool included) of `f`. */
async function timed<T>(f: () => Promise<T>): Promise<{ seconds: number; cpuSeconds: number; value: T }> {
  const [started, cpu] = [performance.now(), process.cpuUsage()]
  const value = await f()
  const used = process.cpuUsage(cpu)
  return { seconds: (performance.now() - started) / 1000, cpuSeconds: (used.user + used.system) / 1e6, value }
}

async function main(): Promise<void> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'byol-decode-'))
  const dir = args.dir ?? cifarTest(scratch)
  const files = listFiles(dir).sort()
  const list = path.join(scratch, 'files.txt')
  fs.writeFileSync(list, files.join('\n'))
  const perImage = (cpuSeconds: number) => ((cpuSeconds / files.length) * 1e6).toFixed(0)
  console.log(`decode-folder: ${files.length} files under ${dir}; ${os.cpus().length} CPUs (${os.cpus()[0].model}); native JPEG: ${runtimeInfo().jpeg}`)
  console.log('Wall seconds for all files; CPU microseconds per image (all threads) in parentheses.')
  console.log(
    '| round | byol decodeFiles s (CPU us) | sharp alone s (CPU us) | PyTorch (PIL, ImageFolder loader) s (CPU us) | byol vs PyTorch | byol vs sharp | identical to sharp |',
  )
  console.log('|---:|---:|---:|---:|---:|---:|---|')
  for (let round = 1; round <= Number(args.rounds); round++) {
    const byol = await timed(() => decodeFiles(files, { imageSize: 32 }))
    const alone = await timed(() => sharpAlone(files))
    const pil = JSON.parse(execFileSync('/usr/bin/python3', [path.join(root, 'bench', 'decode_pil_ref.py'), list], { encoding: 'utf8' })) as {
      seconds: number
      cpuSeconds: number
    }
    const same = Buffer.from(byol.value.data).equals(Buffer.from(alone.value))
    console.log(
      `| ${round} | ${byol.seconds.toFixed(2)} (${perImage(byol.cpuSeconds)}) | ${alone.seconds.toFixed(2)} (${perImage(alone.cpuSeconds)}) | ` +
        `${pil.seconds.toFixed(2)} (${perImage(pil.cpuSeconds)}) | ${(pil.seconds / byol.seconds).toFixed(2)}x | ${(alone.seconds / byol.seconds).toFixed(2)}x | ${same} |`,
    )
  }
  fs.rmSync(scratch, { recursive: true, force: true })
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
