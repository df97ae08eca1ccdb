// The byol command: help on every command, the Lightly epoch lines, --json, the run directory,
// export / eval / embed on a trained run, usage errors and the progress bar.
import test from 'ava'
import { spawnSync } from 'child_process'
import fs = require('fs')
import path = require('path')
import { ProgressBar } from '../src/cli/progress'
import { readSafetensors } from '../src'
import { tmpDir, writeSplitFolder } from './data.fixtures'

const CLI = path.resolve(__dirname, '..', 'src', 'cli', 'index.js')

function byol(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env } })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

const TINY = ['--width', '8', '--image-size', '16', '--batch-size', '8', '--device', 'cpu']
let folder: Promise<string> | undefined
const data = () => (folder ??= writeSplitFolder(tmpDir('cli-data'), 32, 16, 16))

test('--help works for byol and every command', (t) => {
  const main = byol(['--help'])
  t.is(main.code, 0)
  for (const command of ['train', 'eval', 'embed', 'export', 'preview-augmentations']) {
    t.regex(main.stdout, new RegExp(`\\n  ${command} `))
    const r = byol([command, '--help'])
    t.is(r.code, 0, command)
    t.regex(r.stdout, new RegExp(`^byol ${command}: `))
    t.regex(r.stdout, /Usage: byol /)
    t.regex(r.stdout, /-h, --help/)
  }
})

test('usage errors exit 2 and name the problem', (t) => {
  const unknown = byol(['fly'])
  t.is(unknown.code, 2)
  t.regex(unknown.stderr, /unknown command 'fly'/)
  const bad = byol(['train', '--epochs', 'ten'])
  t.is(bad.code, 2)
  t.regex(bad.stderr, /--epochs must be an integer >= 1, got 'ten'/)
  const flag = byol(['train', '--data', 'x', '--bogus'])
  t.is(flag.code, 2)
  t.regex(flag.stderr, /Unknown option '--bogus'/)
  t.regex(byol(['train']).stderr, /--data is required/)
  const precision = byol(['train', '--data', 'x', '--precision', 'fp16'])
  t.is(precision.code, 2)
  t.regex(precision.stderr, /--precision must be one of fp32, bf16, auto, got 'fp16'/)
  const missing = byol(['train', '--data', '/nonexistent/dir', ...TINY])
  t.is(missing.code, 1)
  t.regex(missing.stderr, /data folder \/nonexistent\/dir does not exist/)
})

test("train prints Lightly's epoch lines and the kNN accuracy; the run directory has config, metrics, plot, checkpoint, backbone", async (t) => {
  const out = path.join(tmpDir('cli-run'), 'run')
  const r = byol(['train', '--data', await data(), '--epochs', '2', '--out', out, '--cache-dir', tmpDir('cli-cache'), ...TINY])
  t.is(r.code, 0, r.stderr)
  const lines = r.stdout.trim().split('\n')
  t.regex(lines[0], /^epoch: 00, loss: -?\d\.\d{5}$/)
  t.regex(lines[1], /^epoch: 01, loss: -?\d\.\d{5}$/)
  t.regex(lines[lines.length - 1], /^kNN top-1 accuracy on the test split: [01]\.\d{4} \(k=200, temperature 0\.1, 16 test images, 32 train images\)$/)
  t.deepEqual(fs.readdirSync(out).sort(), ['backbone.safetensors', 'checkpoint.safetensors', 'config.json', 'metrics.jsonl', 'plot.svg'])
  const metrics = fs
    .readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
  t.deepEqual(
    metrics.map((m) => m.epoch),
    [0, 1],
  )
  t.is(metrics[0].loss.toFixed(5), lines[0].split('loss: ')[1])
  t.is(typeof metrics[1].knnTop1, 'number')
  const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'))
  t.is(config.config.preset, 'lightly-example')
  t.is(config.trainImages, 32)
  const svg = fs.readFileSync(path.join(out, 'plot.svg'), 'utf8')
  t.regex(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/)
  t.is((svg.match(/<polyline /g) ?? []).length, 2, 'a loss line and a kNN line')

  // export, eval and embed on the finished run
  const exported = path.join(out, '..', 'exported.safetensors')
  t.is(byol(['export', '--run', out, '--out', exported]).code, 0)
  const keys = [...(await readSafetensors(exported)).tensors.keys()]
  t.true(keys.includes('layer4.1.bn2.running_var') && !keys.some((k) => k.startsWith('backbone.') || k.startsWith('fc.')))
  const onnx = path.join(out, '..', 'exported.onnx')
  t.is(byol(['export', '--run', out, '--format', 'onnx', '--out', onnx]).code, 0)
  t.deepEqual([...fs.readFileSync(onnx).subarray(0, 2)], [0x08, 0x07], 'an ONNX ModelProto starts with its IR version (7)')
  t.is(byol(['export', '--run', out, '--format', 'tflite']).code, 2)
  const ev = byol(['eval', '--run', out, '--data', await data(), '--json', '--device', 'cpu'])
  t.is(ev.code, 0, ev.stderr)
  const report = JSON.parse(ev.stdout)
  t.is(report.total, 16)
  t.is(report.top1, metrics[1].knnTop1, 'eval reproduces the accuracy measured after training')
  const ev2 = byol(['eval', '--weights', exported, '--data', await data(), '--device', 'cpu', '--image-size', '16'])
  t.regex(ev2.stdout, new RegExp(`^kNN top-1 accuracy: ${report.top1.toFixed(4)} \\(`))
  const embedded = byol(['embed', '--run', out, path.join(await data(), 'test', 'class1'), '--device', 'cpu'])
  t.is(embedded.code, 0, embedded.stderr)
  const rows = embedded.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
  t.is(rows.length, 4)
  t.is(rows[0].embedding.length, 64)
  t.regex(rows[0].file, /class1\/\d{4}\.png$/)
})

test('train --json prints one JSON object per epoch and a result', async (t) => {
  const out = path.join(tmpDir('cli-json'), 'run')
  const r = byol([
    'train',
    '--data',
    await data(),
    '--epochs',
    '2',
    '--out',
    out,
    '--json',
    '--no-cache',
    '--preset',
    'cifar10-benchmark',
    '--loss-every',
    '3',
    '--no-channels-last',
    ...TINY,
  ])
  t.is(r.code, 0, r.stderr)
  const objects = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
  t.deepEqual(
    objects.map((o) => o.type),
    ['start', 'epoch', 'epoch', 'result'],
  )
  t.is(objects[0].config.preset, 'cifar10-benchmark')
  t.deepEqual(objects[0].step, { precision: 'fp32', cudaGraph: false, channelsLast: false, targetStream: false, jointViews: false, lossEvery: 3 })
  t.deepEqual(
    objects.slice(1, 3).map((o) => o.epoch),
    [0, 1],
  )
  t.is(objects[1].lr, (0.06 * 8) / 128)
  t.is(objects[3].epochs, 2)
  t.is(typeof objects[3].knnTop1, 'number')
})

test('the progress bar draws on a terminal and stays silent otherwise', (t) => {
  let written = ''
  const tty = { isTTY: true, columns: 60, write: (s: string) => ((written += s), true) } as unknown as NodeJS.WriteStream
  const bar = new ProgressBar(tty)
  bar.update('epoch 00', 5, 10, 'loss -0.10000', true)
  t.regex(written, /^\repoch 00 \[#+\.+\] 5\/10 loss -0\.10000/)
  t.true(written.length < 70)
  bar.clear()
  t.true(written.endsWith('\r\x1b[K'))
  let silent = ''
  new ProgressBar({ isTTY: false, write: (s: string) => ((silent += s), true) } as unknown as NodeJS.WriteStream).update('x', 1, 2, '', true)
  t.is(silent, '')
})
