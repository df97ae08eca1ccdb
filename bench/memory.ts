// Memory over time: the process's RSS and the native tensor count (runtimeInfo().liveTensors)
//   1. during `--minutes` of embed() calls on a ResNet-18 (in-memory pixels and JPEG files in
//      turn, the two ways a service hands images over), sampled every `--every` seconds;
//   2. during a 10-epoch training run on a CIFAR-10 subset, sampled after every epoch.
// After the warm-up (the first `--warmup` minutes; the first epoch) RSS should grow by at most 5%
// and the tensor count stay flat. Prints the curves as tables and one JSON line.
//   node dist/bench/memory.js [--minutes 30] [--every 60] [--warmup 3] [--images 2000] [--epochs 10] [--batch 256]
import { execFileSync } from 'child_process'
import fs = require('fs')
import os = require('os')
import path = require('path')
import { parseArgs } from 'util'
import { Byol, decodeFiles, embed, runtimeInfo, train } from '../src'

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    every: { type: 'string', default: '60' },
    warmup: { type: 'string', default: '3' },
    images: { type: 'string', default: '2000' },
    epochs: { type: 'string', default: '10' },
    batch: { type: 'string', default: '256' },
    skip: { type: 'string', default: '' },
  },
})
const root = path.resolve(__dirname, '..', '..')
const archive = path.resolve(root, '..', 'shared', 'data', 'cifar10-jpg.tar.gz')
const MiB = 2 ** 20

interface Sample {
  at: number
  rss: number
  tensors: number
  work: number
}

const sample = (start: number, work: number): Sample => ({
  at: (Date.now() - start) / 1000,
  rss: process.memoryUsage().rss,
  tensors: runtimeInfo().liveTensors,
  work,
})

/** The CIFAR-10 JPEG folder, extracted from the shared archive on first use. */
function cifar(): string {
  const dir = path.join(root, 'datasets', 'cifar10')
  if (!fs.existsSync(path.join(dir, 'train'))) {
    fs.mkdirSync(path.dirname(dir), { recursive: true })
    execFileSync('tar', ['-xzf', archive, '-C', path.dirname(dir)])
  }
  return dir
}

/** `perClass` files of every class of a split, and their labels. */
function files(split: string, perClass: number): { files: string[]; labels: number[]; classes: string[] } {
  const dir = path.join(cifar(), split)
  const classes = fs.readdirSync(dir).sort()
  const out = { files: [] as string[], labels: [] as number[], classes }
  classes.forEach((c, label) => {
    for (const f of fs.readdirSync(path.join(dir, c)).sort().slice(0, perClass)) {
      out.files.push(path.join(dir, c, f))
      out.labels.push(label)
    }
  })
  return out
}

/** Growth after the warm-up: the last sample against the first one past `warm`. */
function summary(samples: Sample[], warm: (s: Sample) => boolean) {
  const after = samples.filter(warm)
  const first = after[0]
  const last = after[after.length - 1]
  const tensors = after.map((s) => s.tensors)
  return {
    rssAfterWarmupMiB: +(first.rss / MiB).toFixed(1),
    rssEndMiB: +(last.rss / MiB).toFixed(1),
    rssMaxMiB: +(Math.max(...after.map((s) => s.rss)) / MiB).toFixed(1),
    rssGrowthPercent: +((100 * (last.rss - first.rss)) / first.rss).toFixed(2),
    tensorsMin: Math.min(...tensors),
    tensorsMax: Math.max(...tensors),
  }
}

function table(title: string, unit: string, samples: Sample[]): void {
  console.log(`\n${title}\n  seconds  ${unit.padStart(8)}  RSS MiB  live tensors`)
  for (const s of samples) {
    console.log(`  ${s.at.toFixed(0).padStart(7)}  ${String(s.work).padStart(8)}  ${(s.rss / MiB).toFixed(1).padStart(7)}  ${String(s.tensors).padStart(12)}`)
  }
}

async function embedding(minutes: number, every: number, warmup: number) {
  const model = await Byol.create({ device: 'cpu', seed: 0 })
  const test = files('test', 10)
  const pixels = await decodeFiles(test.files.slice(0, 64))
  const start = Date.now()
  const samples = [sample(start, 0)]
  let calls = 0
  let next = every
  while ((Date.now() - start) / 1000 < minutes * 60) {
    // In turn: 64 in-memory images, and 16 JPEG files decoded on libuv's pool.
    if (calls % 2 === 0) await embed(model, pixels, { batchSize: 64 })
    else await embed(model, test.files.slice((calls * 16) % 80, ((calls * 16) % 80) + 16))
    calls++
    if ((Date.now() - start) / 1000 >= next) {
      samples.push(sample(start, calls))
      next += every
    }
  }
  samples.push(sample(start, calls))
  return { samples, calls, ...summary(samples, (s) => s.at >= warmup * 60) }
}

async function training(images: number, epochs: number, batchSize: number) {
  const subset = files('train', Math.ceil(images / 10))
  const pixels = await decodeFiles(subset.files)
  const start = Date.now()
  const samples = [sample(start, 0)]
  const result = await train({
    data: { ...pixels, labels: subset.labels, classes: subset.classes },
    testData: false,
    epochs,
    batchSize,
    device: 'cpu',
    log: () => {},
    callbacks: { onEpochEnd: (epoch) => void samples.push(sample(start, epoch + 1)) },
  })
  return { samples, images: result.train.length, ...summary(samples, (s) => s.work >= 1) }
}

async function main(): Promise<void> {
  const machine = `${os.cpus()[0].model.trim()}, ${os.cpus().length} cores, ${runtimeInfo().threads} threads, libtorch ${runtimeInfo().libtorch}`
  console.log(`memory over time on ${machine}`)
  const skip = new Set(String(args.skip).split(',').filter(Boolean))
  const report: Record<string, unknown> = { machine, date: new Date().toISOString().slice(0, 10) }
  if (!skip.has('train')) {
    const t = await training(Number(args.images), Number(args.epochs), Number(args.batch))
    table(`training: ${t.images} CIFAR-10 images, ${args.epochs} epochs (a sample after each epoch)`, 'epoch', t.samples)
    report.train = { ...t, samples: undefined }
  }
  if (!skip.has('embed')) {
    const e = await embedding(Number(args.minutes), Number(args.every), Number(args.warmup))
    table(`embed(): ${args.minutes} minutes of calls (64 in-memory images and 16 JPEG files in turn)`, 'calls', e.samples)
    report.embed = { ...e, samples: undefined }
  }
  console.log(`\n${JSON.stringify(report)}`)
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
