// Data-parallel training over c10d's Gloo on loopback: identical replicas, exactness against
// gradient accumulation, and every failure ending in bounded time with a message that names its
// cause. Each rank is its own process (helpers/dp-worker.ts) started with torchrun's environment.
import test from 'ava'
import fs = require('fs')
import net = require('net')
import path = require('path')
import { spawn, spawnSync } from 'child_process'
import { readCheckpoint, runtimeInfo } from '../src'
import { resolveDistributed } from '../src/distributed/job'
import { tmpDir, writeImageFolder } from './data.fixtures'
import { differingNames, freePort, largestDifference, RankSpec, runRanks, startRanks, WORKER } from './helpers/ranks'

const gloo = runtimeInfo().distributedBackends.includes('gloo')
const distributedTest = gloo ? test.serial : test.serial.skip
if (!gloo) console.warn('distributed tests skipped: this build of byol has no Gloo (install libgloo-dev and rebuild)')

/** One thread per process everywhere, so that ranks and the single process compute alike. */
const ONE_THREAD = { BYOL_NUM_THREADS: '1' }

const ranks = (n: number, options: Record<string, unknown>, env: Record<string, string> = ONE_THREAD): RankSpec[] =>
  Array.from({ length: n }, () => ({ options, env }))

/** One process, no job: the reference the ranks are compared with. */
async function single(options: Record<string, unknown>) {
  const [r] = await runRanks([{ options, env: { ...ONE_THREAD, WORLD_SIZE: '' } }])
  return r
}

distributedTest('after every step all ranks hold bit-identical weights, BatchNorm statistics and momentum buffers', async (t) => {
  // Augmented (each rank draws its own views), SGD with momentum, 2 epochs of 4 steps.
  const options = { epochs: 2, batchSize: 8, images: 32, optimizer: { momentum: 0.9, weightDecay: 5e-4 } }
  const [a, b] = await runRanks(ranks(2, options))
  t.is(a.code, 0, a.stderr)
  t.is(b.code, 0, b.stderr)
  t.is(a.out!.steps, 8)
  t.deepEqual(differingNames(a.out!.state, b.out!.state), [])
  t.true(Object.keys(a.out!.state).some((n) => n.startsWith('momentum/')))
  // Both report the mean loss over the ranks.
  t.deepEqual(a.out!.stepLosses, b.out!.stepLosses)
  // Buckets sent during backward (the CUDA default) carry the same sums as buckets sent after it.
  const [c, d] = await runRanks(ranks(2, { ...options, overlap: true }))
  t.is(c.code, 0, c.stderr)
  t.is(d.code, 0, d.stderr)
  t.deepEqual(differingNames(c.out!.state, d.out!.state), [])
  t.deepEqual(differingNames(c.out!.state, a.out!.state), [])
})

distributedTest('2 ranks of batch B train exactly as one process accumulating two micro-batches of B (within 1e-5)', async (t) => {
  const options = { epochs: 1, batchSize: 8, images: 48, augmenter: 'none', optimizer: { momentum: 0.9 } }
  const [[a], one] = await Promise.all([runRanks(ranks(2, options)), single({ ...options, accumulate: 2 })])
  t.is(a.code, 0, a.stderr)
  t.is(one.code, 0, one.stderr)
  t.is(a.out!.stepLosses.length, 6)
  const losses = a.out!.stepLosses.map((l, i) => Math.abs(l - one.out!.stepLosses[i]))
  t.true(Math.max(...losses) <= 1e-5, `loss differences ${losses}`)
  // BatchNorm statistics differ by design: the ranks keep rank 0's, the single process saw both halves.
  const weights = largestDifference(a.out!.state, one.out!.state, /running_|num_batches_tracked/)
  t.true(weights.difference <= 1e-5, `${weights.name} differs by ${weights.difference}`)
})

distributedTest('a rank that dies mid-epoch stops the others within the timeout, naming it; the run resumes from its checkpoint', async (t) => {
  const dir = tmpDir('dp-kill')
  const options = { epochs: 3, batchSize: 8, images: 256, augmenter: 'none', runDir: dir }
  const started = startRanks(ranks(2, options), await freePort(), { timeoutSeconds: 30 })
  // Kill rank 1 once the first epoch's checkpoint is there.
  const checkpoint = path.join(dir, 'checkpoint.safetensors')
  for (let i = 0; i < 600 && !fs.existsSync(checkpoint); i++) await new Promise((r) => setTimeout(r, 100))
  t.true(fs.existsSync(checkpoint), 'no checkpoint after the first epoch')
  const killedAt = Date.now()
  started[1].child.kill('SIGKILL')
  const [zero, one] = await Promise.all(started.map((r) => r.done))
  t.is(one.signal, 'SIGKILL')
  t.not(zero.code, 0)
  t.regex(zero.stderr, /stopped on rank 0 of 2 .*rank 1 is gone/)
  t.true((Date.now() - killedAt) / 1000 < 30, `rank 0 took ${(Date.now() - killedAt) / 1000} s`)
  // The checkpoint stayed whole: both ranks resume from it and finish the run.
  const resumed = await runRanks(ranks(2, { ...options, resume: true }))
  for (const r of resumed) t.is(r.code, 0, r.stderr)
  t.is(resumed[0].out!.steps, 96)
  t.true(resumed[0].out!.stepLosses.length < 96, 'the resumed run started over')
  t.deepEqual(differingNames(resumed[0].out!.state, resumed[1].out!.state), [])
})

distributedTest('when rank 0 dies, the others say so', async (t) => {
  const dir = tmpDir('dp-kill0')
  const started = startRanks(ranks(2, { epochs: 20, batchSize: 8, images: 64, augmenter: 'none', runDir: dir }), await freePort(), { timeoutSeconds: 30 })
  // Once training is under way (the first epoch's checkpoint): a rank 0 killed before it hosts the
  // rendezvous store is a store that never answered, which the port test covers.
  const checkpoint = path.join(dir, 'checkpoint.safetensors')
  for (let i = 0; i < 600 && !fs.existsSync(checkpoint); i++) await new Promise((r) => setTimeout(r, 100))
  t.true(fs.existsSync(checkpoint), 'no checkpoint after the first epoch')
  const killedAt = Date.now()
  started[0].child.kill('SIGKILL')
  const one = await started[1].done
  t.not(one.code, 0)
  t.regex(one.stderr, /stopped on rank 1 of 2 .*rank 0 is gone/)
  t.true((Date.now() - killedAt) / 1000 < 30, `rank 1 took ${(Date.now() - killedAt) / 1000} s`)
})

distributedTest('ranks started with different WORLD_SIZE both stop at once, saying so', async (t) => {
  const port = await freePort()
  const specs: RankSpec[] = [
    { options: { epochs: 1, batchSize: 8 }, env: { ...ONE_THREAD, WORLD_SIZE: '2', RANK: '0' } },
    { options: { epochs: 1, batchSize: 8 }, env: { ...ONE_THREAD, WORLD_SIZE: '3', RANK: '1' } },
  ]
  const outcomes = await Promise.all(startRanks(specs, port, { timeoutSeconds: 30 }).map((r) => r.done))
  for (const o of outcomes) {
    t.not(o.code, 0)
    t.regex(o.stderr, /the ranks disagree on WORLD_SIZE: rank \d was started with \d, rank \d with \d/)
    t.true(o.seconds < 25, `${o.seconds} s`)
  }
})

distributedTest('a MASTER_PORT already in use, an unreachable master and bad variables fail with clear errors', async (t) => {
  const port = await freePort()
  const blocker = net.createServer().listen(port, '0.0.0.0')
  await new Promise((r) => blocker.once('listening', r))
  try {
    const [taken] = await runRanks([{ options: { epochs: 1, batchSize: 8 }, env: { ...ONE_THREAD, WORLD_SIZE: '2', RANK: '0' } }], { port })
    t.not(taken.code, 0)
    t.regex(taken.stderr, new RegExp(`rank 0 could not host the rendezvous store on port ${port}.*Address already in use.*--master-port`, 's'))
  } finally {
    blocker.close()
  }
  // Rank 1 alone: rank 0 never comes.
  const [lonely] = await runRanks([{ options: { epochs: 1, batchSize: 8 }, env: { ...ONE_THREAD, WORLD_SIZE: '2', RANK: '1' } }], { timeoutSeconds: 5 })
  t.not(lonely.code, 0)
  t.regex(lonely.stderr, /rank 1 could not reach the rendezvous store at 127\.0\.0\.1:\d+ \(rank 0\) within 5 s/)
  t.true(lonely.seconds < 20)
  const [bad] = await runRanks([{ options: { epochs: 1, batchSize: 8 }, env: { WORLD_SIZE: '2', RANK: '2' } }])
  t.not(bad.code, 0)
  t.regex(bad.stderr, /RANK must be below WORLD_SIZE, got RANK=2 and WORLD_SIZE=2/)
})

distributedTest('a checkpoint of 2 ranks resumes only with 2; batchSize must split among the ranks', async (t) => {
  const dir = tmpDir('dp-world')
  const options = { epochs: 1, batchSize: 8, images: 16, augmenter: 'none', runDir: dir }
  for (const r of await runRanks(ranks(2, options))) t.is(r.code, 0, r.stderr)
  const alone = await single({ ...options, epochs: 2, resume: true })
  t.not(alone.code, 0)
  t.regex(alone.stderr, /written by a job of 2 process\(es\).*resume it with 2 process\(es\) \(--nproc-per-node 2, or WORLD_SIZE=2\)/)
  const [odd] = await runRanks(ranks(2, { epochs: 1, batchSize: 6, accumulate: 2, images: 16 }))
  t.regex(odd.stderr, /batchSize 6 must split into 2 process\(es\) x 2 micro-batch\(es\) of at least 2 equal parts; choose a batchSize that is a multiple of 8/)
})

const torchrun = spawnSync('/usr/bin/python3', ['-c', 'import torch.distributed.run'], { encoding: 'utf8' }).status === 0
;(torchrun && gloo ? test.serial : test.serial.skip)("PyTorch's launcher (python3 -m torch.distributed.run --no_python) runs byol's ranks", async (t) => {
  const port = await freePort()
  const out = tmpDir('dp-torchrun')
  const r = spawnSync(
    '/usr/bin/python3',
    // Debian's launcher (PyTorch 1.13 on Python 3.11) cannot parse its own default `--redirects 0`
    // (an IntFlag's 0 is not iterable there); a mapping for an absent local rank means the same.
    [
      '-m',
      'torch.distributed.run',
      '--no_python',
      '--nproc_per_node',
      '2',
      '--master_port',
      String(port),
      '--redirects',
      '9:0',
      '--tee',
      '9:0',
      process.execPath,
      WORKER,
    ],
    {
      encoding: 'utf8',
      timeout: 240_000,
      env: {
        ...process.env,
        ...ONE_THREAD,
        BYOL_TEST_OPTIONS: JSON.stringify({ epochs: 1, batchSize: 8, images: 32, augmenter: 'none' }),
        // Each rank writes its own file: the launcher gives every worker the same environment.
        BYOL_TEST_OUT: path.join(out, 'rank.json'),
        BYOL_TEST_OUT_PER_RANK: '1',
      },
    },
  )
  t.is(r.status, 0, r.stderr)
  const [a, b] = [0, 1].map((rank) => JSON.parse(fs.readFileSync(path.join(out, `rank.json.${rank}`), 'utf8')))
  t.is(a.steps, 4)
  t.deepEqual(differingNames(a.state, b.state), [])
})

/** Two network namespaces joined by a veth pair: two machines, as far as the ranks can tell. */
function twoHosts(): { hosts: [string, string]; addresses: [string, string]; remove: () => void } | string {
  if (process.getuid?.() !== 0) return 'making network namespaces needs root'
  const tag = `${process.pid % 10000}`
  const hosts: [string, string] = [`byol-a${tag}`, `byol-b${tag}`]
  const net24 = `10.231.${process.pid % 250}`
  const addresses: [string, string] = [`${net24}.1`, `${net24}.2`]
  const ip = (...args: string[]) => spawnSync('ip', args, { encoding: 'utf8' })
  const remove = () => hosts.forEach((h) => ip('netns', 'del', h))
  const steps = [
    ['netns', 'add', hosts[0]],
    ['netns', 'add', hosts[1]],
    ['link', 'add', `bva${tag}`, 'netns', hosts[0], 'type', 'veth', 'peer', 'name', `bvb${tag}`, 'netns', hosts[1]],
    ['-n', hosts[0], 'addr', 'add', `${addresses[0]}/24`, 'dev', `bva${tag}`],
    ['-n', hosts[1], 'addr', 'add', `${addresses[1]}/24`, 'dev', `bvb${tag}`],
    ['-n', hosts[0], 'link', 'set', `bva${tag}`, 'up'],
    ['-n', hosts[1], 'link', 'set', `bvb${tag}`, 'up'],
    ['-n', hosts[0], 'link', 'set', 'lo', 'up'],
    ['-n', hosts[1], 'link', 'set', 'lo', 'up'],
  ]
  for (const step of steps) {
    const r = ip(...step)
    if (r.error || r.status !== 0) {
      remove()
      return `ip ${step.join(' ')} failed: ${(r.error?.message ?? r.stderr).trim()}`
    }
  }
  return { hosts, addresses, remove }
}

/** Why two machines cannot be made here, or undefined when they can (a probe namespace, removed at once). */
function noNamespaces(): string | undefined {
  if (!gloo) return 'no Gloo in this build'
  const probe = twoHosts()
  if (typeof probe === 'string') return probe
  probe.remove()
  return undefined
}

const cannot = noNamespaces()
if (cannot) console.warn(`two-machine test skipped: ${cannot}`)
;(cannot ? test.serial.skip : test.serial)('two machines (network namespaces joined by a veth pair) train one job over their own addresses', async (t) => {
  const network = twoHosts()
  if (typeof network === 'string') return t.fail(network)
  try {
    const options = { epochs: 1, batchSize: 8, images: 32, augmenter: 'none' }
    const env = { ...ONE_THREAD, MASTER_ADDR: network.addresses[0], LOCAL_RANK: '0', LOCAL_WORLD_SIZE: '1' }
    const [a, b] = await runRanks(
      network.hosts.map((host) => ({ options, env, prefix: ['ip', 'netns', 'exec', host] })),
      { timeoutSeconds: 60 },
    )
    t.is(a.code, 0, a.stderr)
    t.is(b.code, 0, b.stderr)
    t.is(a.out!.steps, 4)
    t.deepEqual(differingNames(a.out!.state, b.out!.state), [])
  } finally {
    network.remove()
  }
})

test('Gloo is built into the shim wherever its headers are installed', (t) => {
  if (!fs.existsSync('/usr/include/gloo/config.h')) return t.pass('no system Gloo headers on this machine')
  t.true(gloo, 'libgloo-dev is installed but the shim was built without c10d: rebuild it (node scripts/install.js --force)')
})

const CIFAR_ARCHIVE = path.resolve(__dirname, '..', '..', '..', 'shared', 'data', 'cifar10-jpg.tar.gz')
;(gloo && fs.existsSync(CIFAR_ARCHIVE) ? test.serial : test.serial.skip)(
  '2 processes learn on a CIFAR-10 subset as 1 process does at the same global batch: mean final kNN of two seeds within 2 points',
  async (t) => {
    // 500 training images per class, all 10,000 test images (a smaller test set alone moves kNN
    // accuracy by more than a point).
    const dir = tmpDir('dp-cifar')
    const tar = spawnSync('tar', ['-xzf', CIFAR_ARCHIVE, '-C', dir, '--wildcards', 'cifar10/train/*/0[0-4]??.jpg', 'cifar10/test/*'])
    t.is(tar.status, 0, String(tar.stderr))
    const data = path.join(dir, 'cifar10')
    const options = { data, testData: data, cacheDir: path.join(dir, 'cache'), epochs: 6, batchSize: 128, model: { width: 16 } }
    // Six short epochs leave about 1.5 points of seed-to-seed spread in either setup: compare means of two seeds.
    const runs: Array<{ seed: number; ranks: number; loss: number; knn: number }> = []
    for (const seed of [0, 1]) {
      // A loaded machine takes minutes over each run: the guard is for a hung run only.
      const [a, b] = await runRanks(ranks(2, { ...options, seed }), { killAfterSeconds: 900 })
      const [one] = await runRanks([{ options: { ...options, seed }, env: { BYOL_NUM_THREADS: '2', WORLD_SIZE: '' } }], { killAfterSeconds: 900 })
      for (const r of [a, b, one]) t.is(r.code, 0, r.stderr)
      // Only rank 0 evaluates; the other rank reports rank 0's figures.
      t.deepEqual(b.out!.history, a.out!.history)
      for (const [n, r] of [
        [2, a],
        [1, one],
      ] as const) {
        const last = r.out!.history[r.out!.history.length - 1]
        runs.push({ seed, ranks: n, loss: last.loss, knn: last.knnTop1! })
      }
    }
    t.log(runs.map((r) => `seed ${r.seed}, ${r.ranks} process(es): loss ${r.loss.toFixed(4)}, kNN ${r.knn}`).join('\n'))
    // Learning: the BYOL loss falls from about 0 to below -0.5.
    for (const r of runs) t.true(r.loss < -0.5, `seed ${r.seed}, ${r.ranks} process(es): loss ${r.loss}`)
    const mean = (n: number) => runs.filter((r) => r.ranks === n).reduce((s, r) => s + r.knn, 0) / 2
    t.true(Math.abs(mean(2) - mean(1)) <= 0.02, `mean kNN top-1 ${mean(2)} (2 processes) vs ${mean(1)} (1 process)`)
  },
)

distributedTest('a rank that fails with an error stops the others with its message', async (t) => {
  const options = { epochs: 1, batchSize: 8, images: 32, augmenter: 'none' }
  const specs: RankSpec[] = [
    { options, env: ONE_THREAD },
    { options: { ...options, data: '/nonexistent/images' }, env: ONE_THREAD },
  ]
  const [zero, one] = await runRanks(specs, { timeoutSeconds: 30 })
  t.not(one.code, 0)
  t.regex(one.stderr, /\/nonexistent\/images/)
  t.not(zero.code, 0)
  t.regex(zero.stderr, /stopped on rank 0 of 2 .*rank 1 failed: .*\/nonexistent\/images/)
})

distributedTest('Ctrl-C to byol train --nproc-per-node: every rank stops after the same step, rank 0 checkpoints, exit 130, and the run resumes', async (t) => {
  const data = tmpDir('dp-sigint')
  await writeImageFolder(data, 128, 16)
  const out = path.join(tmpDir('dp-sigint-run'), 'run')
  const cli = path.join(__dirname, '..', 'src', 'cli', 'index.js')
  const common = ['--batch-size', '8', '--image-size', '16', '--width', '8', '--no-cache', '--quiet', '--nproc-per-node', '2', '--dist-timeout', '60']
  const child = spawn(process.execPath, [cli, 'train', '--data', data, '--epochs', '50', '--out', out, ...common], {
    env: { ...process.env, ...ONE_THREAD },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (d) => (stderr += d))
  const checkpoint = path.join(out, 'checkpoint.safetensors')
  for (let i = 0; i < 600 && !fs.existsSync(checkpoint); i++) await new Promise((r) => setTimeout(r, 100))
  child.kill('SIGINT')
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  t.is(code, 130, stderr)
  t.regex(stderr, /stopped after \d+ steps; checkpoint .*checkpoint\.safetensors/)
  const state = (await readCheckpoint(out)).state
  t.is(state.distributed?.worldSize, 2)
  t.is(state.distributed?.augmenters.length, 2)
  // Stopped mid-run: resume the rest with an end in sight.
  const resumed = spawnSync(process.execPath, [cli, 'train', '--resume', out, '--epochs', String(state.position.epoch + 1), ...common], {
    encoding: 'utf8',
    env: { ...process.env, ...ONE_THREAD },
    timeout: 120_000,
  })
  t.is(resumed.status, 0, resumed.stderr)
  t.regex(resumed.stderr, /resuming at epoch/)
})

test('a job comes from torchrun variables of more than one process, or from explicit options of any size', (t) => {
  const env = { ...process.env }
  try {
    delete process.env.WORLD_SIZE
    t.is(resolveDistributed(undefined), undefined)
    t.throws(() => resolveDistributed(true), { message: /distributed: true, but WORLD_SIZE is not set/ })
    Object.assign(process.env, { WORLD_SIZE: '1', RANK: '0' })
    t.is(resolveDistributed(undefined), undefined, 'torchrun with one process trains alone')
    Object.assign(process.env, { WORLD_SIZE: '2', RANK: '1' })
    t.like(resolveDistributed(undefined), { rank: 1, worldSize: 2, masterPort: 29500 })
    t.is(resolveDistributed(false), undefined)
    t.like(resolveDistributed({ rank: 0, worldSize: 1, masterPort: 1234 }), { rank: 0, worldSize: 1, masterPort: 1234, masterAddr: '127.0.0.1' })
  } finally {
    for (const k of ['WORLD_SIZE', 'RANK']) if (env[k] === undefined) delete process.env[k]
    Object.assign(process.env, env)
  }
})

distributedTest('a job of one process (explicit options) trains exactly as a single process does', async (t) => {
  const options = { epochs: 1, batchSize: 8, images: 32, augmenter: 'none', optimizer: { momentum: 0.9 } }
  // `overlap` makes the worker pass explicit distributed options, which join a job even of one.
  const [one] = await runRanks([{ options: { ...options, overlap: false }, env: { ...ONE_THREAD, WORLD_SIZE: '1', RANK: '0' } }])
  const alone = await single(options)
  t.is(one.code, 0, one.stderr)
  t.is(alone.code, 0, alone.stderr)
  t.is(one.out!.communication?.steps, 4, 'the job averaged every step')
  t.is(alone.out!.communication, undefined)
  t.deepEqual(one.out!.stepLosses, alone.out!.stepLosses)
  t.deepEqual(differingNames(one.out!.state, alone.out!.state), [])
})
