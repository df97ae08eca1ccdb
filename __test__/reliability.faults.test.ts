// Faults during `byol train` (RELIABILITY.md): SIGKILL at random moments (some inside a
// checkpoint write), a full disk during a checkpoint or cache write, SIGTERM and SIGINT. Nothing
// is lost: a valid checkpoint always exists, and resuming ends exactly where an uninterrupted
// run ends.
import test from 'ava'
import { ChildProcess, spawn, spawnSync } from 'child_process'
import fs = require('fs')
import path = require('path')
import { CHECKPOINT_FILE, loadImageFolder, readCheckpoint, readSafetensors } from '../src'
import { tmpDir, writeImageFolder } from './data.fixtures'

const CLI = path.resolve(__dirname, '..', 'src', 'cli', 'index.js')
const ENOSPC = path.resolve(__dirname, 'helpers', 'enospc.js')
// 16 images of 8x8, batch 4: four steps an epoch, a checkpoint after each epoch.
const TINY = ['--width', '8', '--image-size', '8', '--batch-size', '4', '--device', 'cpu', '--no-cache', '--quiet']
const ENV = { ...process.env, OMP_NUM_THREADS: '1' }

let folder: Promise<string> | undefined
const images = () =>
  (folder ??= (async () => {
    const root = tmpDir('faults-data')
    await writeImageFolder(root, 16, 8, 2)
    return root
  })())

function start(args: string[], env: NodeJS.ProcessEnv = ENV, preload: string[] = []) {
  const child = spawn(process.execPath, [...preload, CLI, 'train', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  child.stdout!.resume()
  const exited = new Promise<number | NodeJS.Signals>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal!)))
  return { child, exited, stderr: () => stderr }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const temporaryFiles = (dir: string) => fs.readdirSync(dir).filter((f) => f.includes('.tmp-'))

/** Resolves when `dir` has a checkpoint, or when the process ends first. */
const firstCheckpoint = (dir: string, exited: Promise<unknown>) => freshCheckpoint(dir, 0, exited)

/** Kills `child` the moment a temporary checkpoint file appears in `dir`. */
function killInsideNextWrite(dir: string, child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): fs.FSWatcher {
  const watcher = fs.watch(dir, (_event, name) => {
    if (name && String(name).startsWith(`${CHECKPOINT_FILE}.tmp-`)) {
      child.kill(signal)
      watcher.close()
    }
  })
  return watcher
}

/** Epoch losses of a run directory and the tensors of its exported backbone. */
async function outcome(dir: string) {
  const losses = fs
    .readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).loss as number)
  const { tensors } = await readSafetensors(path.join(dir, 'backbone.safetensors'))
  return { losses, backbone: Object.fromEntries([...tensors].map(([k, v]) => [k, Array.from(v.data as Float32Array, Number)])) }
}

// A deterministic stream of delays, so a failure can be replayed.
function delays(seed: number) {
  let x = seed
  return (max: number) => {
    x = (x * 1103515245 + 12345) % 2 ** 31
    return Math.floor((x / 2 ** 31) * max)
  }
}

/** Resolves once `dir` holds a checkpoint written after `since` (ms), or when the process ends. */
async function freshCheckpoint(dir: string, since: number, exited: Promise<unknown>): Promise<void> {
  let done = false
  void exited.then(() => (done = true))
  const mtime = () =>
    fs.promises.stat(path.join(dir, CHECKPOINT_FILE)).then(
      (s) => s.mtimeMs,
      () => 0,
    )
  while (!done && (await mtime()) <= since) await sleep(5)
}

// Where each kill lands, in turn: during training (after this process wrote a checkpoint, then
// a random delay), inside a checkpoint write, and at a random moment from the process start
// (loading, restoring, or training).
const KILLS = ['training', 'write', 'start', 'training'] as const

test.serial(
  'SIGKILL at 12 moments, 3 of them inside a checkpoint write: a valid checkpoint always exists and --resume ends identical to an uninterrupted run',
  async (t) => {
    const data = await images()
    const epochs = ['--epochs', '16']
    const reference = path.join(tmpDir('faults-ref'), 'run')
    const ref = spawnSync(process.execPath, [CLI, 'train', '--data', data, '--out', reference, ...epochs, ...TINY], { env: ENV, encoding: 'utf8' })
    t.is(ref.status, 0, ref.stderr)

    const dir = path.join(tmpDir('faults-kill'), 'run')
    const delay = delays(7)
    let started = Date.now()
    let run = start(['--data', data, '--out', dir, ...epochs, ...TINY])
    let kills = 0
    let insideWrite = 0
    for (; kills < 12; kills++) {
      const where = KILLS[kills % KILLS.length]
      let watcher: fs.FSWatcher | undefined
      if (where === 'write') watcher = killInsideNextWrite(dir, run.child)
      else if (where === 'start') await sleep(delay(2000)).then(() => run.child.kill('SIGKILL'))
      else
        await freshCheckpoint(dir, started, run.exited)
          .then(() => sleep(delay(400)))
          .then(() => run.child.kill('SIGKILL'))
      const status = await run.exited
      watcher?.close()
      if (status === 0) break // it finished before the kill landed
      t.is(status, 'SIGKILL', run.stderr())
      if (where === 'write' && temporaryFiles(dir).length > 0) insideWrite++
      // What the kill left must be a checkpoint that loads.
      t.true((await readCheckpoint(dir)).state.steps > 0)
      started = Date.now()
      run = start(['--resume', dir, ...TINY])
    }
    t.is(await run.exited, 0, run.stderr())
    t.is(kills, 12, 'every kill landed before the run ended')
    t.true(insideWrite >= 1, `at least one kill landed inside a checkpoint write (${insideWrite} of 3 did)`)
    t.deepEqual(temporaryFiles(dir), [], 'the resumed runs removed what the killed writes left')
    const [got, want] = [await outcome(dir), await outcome(reference)]
    t.is(got.losses.length, 16)
    t.deepEqual(got.losses, want.losses, 'the loss curve is identical')
    t.deepEqual(got.backbone, want.backbone, 'the final weights are identical')
  },
)

for (const [signal, status] of [
  ['SIGTERM', 143],
  ['SIGINT', 130],
] as const) {
  test.serial(`${signal} stops after the current step, writes a checkpoint and exits ${status}; the run resumes`, async (t) => {
    const dir = path.join(tmpDir('faults-signal'), 'run')
    const run = start(['--data', await images(), '--out', dir, '--epochs', '200', ...TINY])
    await firstCheckpoint(dir, run.exited)
    await sleep(300)
    run.child.kill(signal)
    t.is(await run.exited, status, run.stderr())
    t.regex(run.stderr(), new RegExp(`byol: ${signal}: stopping after the current step and writing a checkpoint`))
    t.regex(run.stderr(), /resume with: byol train --resume /)
    const { state } = await readCheckpoint(dir)
    t.true(state.position.batch > 0 || state.position.epoch > 0)
    t.deepEqual(temporaryFiles(dir), [])
    const resumed = spawnSync(process.execPath, [CLI, 'train', '--resume', dir, '--epochs', String(state.position.epoch + 2), ...TINY], {
      env: ENV,
      encoding: 'utf8',
    })
    t.is(resumed.status, 0, resumed.stderr)
  })
}

test.serial('a second SIGTERM during the checkpoint write exits at once, leaving the previous checkpoint whole and no partial file', async (t) => {
  const dir = path.join(tmpDir('faults-twice'), 'run')
  const run = start(['--data', await images(), '--out', dir, '--epochs', '200', ...TINY])
  await firstCheckpoint(dir, run.exited)
  const before = (await readCheckpoint(dir)).state.steps
  // The first signal asks for the stop; the second lands as its checkpoint write begins.
  const watcher = killInsideNextWrite(dir, run.child, 'SIGTERM')
  run.child.kill('SIGTERM')
  t.is(await run.exited, 143, run.stderr())
  watcher.close()
  t.deepEqual(temporaryFiles(dir), [], 'no partial file')
  // Whole: it loads, and it is the previous checkpoint or a later complete one.
  t.true((await readCheckpoint(dir)).state.steps >= before)
})

test.serial('a full disk during a checkpoint write: a clear error, the previous checkpoint intact, and the run resumes', async (t) => {
  const dir = path.join(tmpDir('faults-enospc'), 'run')
  const env = { ...ENV, BYOL_TEST_ENOSPC_MATCH: `${CHECKPOINT_FILE}.tmp-`, BYOL_TEST_ENOSPC_AT: '3' }
  const run = start(['--data', await images(), '--out', dir, '--epochs', '5', ...TINY], env, ['--require', ENOSPC])
  t.is(await run.exited, 1, run.stderr())
  t.regex(run.stderr(), new RegExp(`byol train: cannot write ${dir.replace(/[.]/g, '\\.')}/checkpoint\\.safetensors: ENOSPC: no space left on device`))
  t.deepEqual(temporaryFiles(dir), [])
  const { state } = await readCheckpoint(dir)
  t.deepEqual(state.position, { epoch: 2, batch: 0 }, 'the checkpoint of epoch 2 (the third write failed)')
  const resumed = spawnSync(process.execPath, [CLI, 'train', '--resume', dir, ...TINY], { env: ENV, encoding: 'utf8' })
  t.is(resumed.status, 0, resumed.stderr)
  t.is((await readCheckpoint(dir)).state.position.epoch, 5)
})

test.serial('a full disk during the decoded-image cache write: a clear error naming the cache, and the next run rebuilds it', async (t) => {
  const data = await images()
  const cacheDir = tmpDir('faults-cache')
  const script = `require(${JSON.stringify(path.resolve(__dirname, '..', 'src'))})
    .loadImageFolder(${JSON.stringify(data)}, { imageSize: 8, cacheDir: ${JSON.stringify(cacheDir)} })
    .then(() => console.log('loaded'), (e) => { console.log(e.message); process.exit(1) })`
  const env = { ...ENV, BYOL_TEST_ENOSPC_MATCH: path.join(cacheDir, 'images-') }
  const r = spawnSync(process.execPath, ['--require', ENOSPC, '-e', script], { env, encoding: 'utf8' })
  t.is(r.status, 1, r.stderr)
  t.regex(
    r.stdout,
    /^cannot write .*images-[0-9a-f]+\.bin: ENOSPC: no space left on device, write \(the decoded-image cache; free space there, or pass cacheDir: false \/ --no-cache\)/,
  )
  t.deepEqual(fs.readdirSync(cacheDir), [], 'no cache and no partial file')
  const ds = await loadImageFolder(data, { imageSize: 8, cacheDir })
  t.true(ds.meta.cache!.built, 'rebuilt')
  t.is(ds.length, 16)
})
