// The local launcher: torchrun's variables in every worker, a failed worker stopping the others
// (SIGTERM, then SIGKILL after the grace period), signals passed on exactly once, torchrun's
// environment read back, and the `byol train` launcher flags. The workers are tiny scripts: no
// training, no native addon.
import test from 'ava'
import { spawn, spawnSync } from 'child_process'
import fs = require('fs')
import net = require('net')
import os = require('os')
import path = require('path')
import { withoutOptions } from '../src/cli/args'
import { spec as trainSpec } from '../src/cli/train'
import { launch, LaunchOptions, LaunchResult, WorkerOutput } from '../src/distributed/launch'
import { distributedFromEnv } from '../src/distributed/options'

const CLI = path.resolve(__dirname, '..', 'src', 'cli', 'index.js')
const LAUNCH_MODULE = path.resolve(__dirname, '..', 'src', 'distributed', 'launch.js')

// One worker for every test; its role comes from its rank. `graceful` stops 200 ms after a signal,
// as a trainer finishing its step would, so that a second delivery of the signal is recorded too.
const WORKER = `
const fs = require('fs'), os = require('os'), path = require('path')
const [dir, plan] = process.argv.slice(2)
const rank = process.env.RANK
const role = JSON.parse(plan)[rank] || 'graceful'
const file = (name) => path.join(dir, name + '-' + rank)
fs.writeFileSync(file('env') + '.json', JSON.stringify(process.env))
process.stdout.write('hello from ' + rank + '\\n')
if (role === 'done') process.exit(0)
// Also keeps the worker alive; a worker whose launcher is gone leaves rather than linger after a failed test.
const launcher = process.ppid
setInterval(() => process.ppid !== launcher && process.exit(1), 100)
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    fs.appendFileSync(file('signals'), signal + '\\n')
    if (role !== 'stubborn') setTimeout(() => process.exit(128 + os.constants.signals[signal]), 200)
  })
}
fs.writeFileSync(file('ready'), String(process.pid))
const everyoneReady = () => fs.readdirSync(dir).filter((f) => f.startsWith('ready-')).length === Number(process.env.LOCAL_WORLD_SIZE)
const whenReady = (f) => { const t = setInterval(() => { if (everyoneReady()) { clearInterval(t); f() } }, 20) }
if (role === 'exit3') whenReady(() => process.exit(3))
if (role === 'sigkill') whenReady(() => process.kill(process.pid, 'SIGKILL'))
`

// Calls launch() in a process of its own, so that it can be signalled and its stderr read.
const RUNNER = `
const { launch } = require(process.argv[2])
const [command, options] = JSON.parse(process.argv[3])
launch(command, options).then((result) => {
  const listeners = ['SIGINT', 'SIGTERM', 'SIGHUP', 'exit'].map((event) => process.listenerCount(event))
  process.stdout.write(JSON.stringify({ result, listeners }))
  process.exitCode = result.exitCode
})
`

type Plan = Record<number, 'done' | 'graceful' | 'stubborn' | 'exit3' | 'sigkill'>

function scratch(): { dir: string; worker: string; runner: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'byol-launch-'))
  const scripts = fs.mkdtempSync(path.join(os.tmpdir(), 'byol-launch-scripts-'))
  const worker = path.join(scripts, 'worker.js')
  const runner = path.join(scripts, 'runner.js')
  fs.writeFileSync(worker, WORKER)
  fs.writeFileSync(runner, RUNNER)
  return { dir, worker, runner }
}

function read(dir: string, name: string, rank: number): string | undefined {
  const file = path.join(dir, `${name}-${rank}`)
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined
}

function workerCommand(worker: string, dir: string, plan: Plan): string[] {
  return [process.execPath, worker, dir, JSON.stringify(plan)]
}

/** Launches in-process and returns every worker's environment, by rank. */
async function launchedEnvs(options: Omit<LaunchOptions, 'onWorkerOutput'>) {
  const { dir, worker } = scratch()
  const output: WorkerOutput[] = []
  const result = await launch(workerCommand(worker, dir, { 0: 'done', 1: 'done', 2: 'done', 3: 'done', 4: 'done', 5: 'done' }), {
    ...options,
    onWorkerOutput: (o) => output.push(o),
  })
  const envs = new Map<number, NodeJS.ProcessEnv>()
  for (const f of fs.readdirSync(dir)) envs.set(Number(/^env-(\d+)\.json$/.exec(f)![1]), JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')))
  return { result, envs, output }
}

interface RunnerOutcome {
  code: number | null
  stderr: string
  result: LaunchResult
  listeners: number[]
  ms: number
}

/** Runs launch() in a child process; `whileRunning` gets that process once it has started. */
function runLauncher(runner: string, command: string[], options: LaunchOptions, whileRunning?: (pid: number) => void): Promise<RunnerOutcome> {
  const start = Date.now()
  // Its own process group, as a shell gives a foreground job: a signal to the group then stands for Ctrl-C.
  const child = spawn(process.execPath, [runner, LAUNCH_MODULE, JSON.stringify([command, options])], { detached: true })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  whileRunning?.(child.pid!)
  // Only for a launcher that hangs; generous, since a loaded CI machine starts node slowly.
  const deadline = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 60_000)
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(deadline)
      try {
        // The workers share the launcher's stdout; its result comes last, after they have all exited.
        resolve({ code, stderr, ms: Date.now() - start, ...JSON.parse(stdout.trim().split('\n').pop()!) })
      } catch {
        reject(new Error(`the launcher exited ${code} without a result: ${stderr}`))
      }
    })
  })
}

async function until(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the workers')
    await new Promise((r) => setTimeout(r, 20))
  }
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

test("every worker gets torchrun's variables: ranks offset by the node rank, the world across nodes, one master", async (t) => {
  const base: NodeJS.ProcessEnv = { ...process.env, TORCHELASTIC_USE_AGENT_STORE: 'True' }
  delete base.OMP_NUM_THREADS
  const { result, envs, output } = await launchedEnvs({ nprocPerNode: 3, nnodes: 2, nodeRank: 1, masterAddr: '10.1.2.3', masterPort: 29555, env: base })
  t.deepEqual(result, { exitCode: 0 })
  t.deepEqual([...envs.keys()].sort(), [3, 4, 5])
  const threads = String(Math.max(1, Math.floor(os.availableParallelism() / 3)))
  for (const [rank, env] of envs) {
    const localRank = rank - 3
    t.like(env, {
      RANK: String(rank),
      LOCAL_RANK: String(localRank),
      WORLD_SIZE: '6',
      LOCAL_WORLD_SIZE: '3',
      GROUP_RANK: '1',
      MASTER_ADDR: '10.1.2.3',
      MASTER_PORT: '29555',
      OMP_NUM_THREADS: threads,
      BYOL_LAUNCHED: '1',
    })
    // What the worker makes of it: no agent store, since rank 0 hosts the store here.
    t.like(distributedFromEnv(env), { rank, worldSize: 6, localRank, localWorldSize: 3, masterAddr: '10.1.2.3', masterPort: 29555, agentStore: false })
  }
  const said = output.filter((o) => o.stream === 'stdout').map((o) => `${o.rank}/${o.localRank}: ${o.data.toString().trim()}`)
  t.deepEqual(said.sort(), ['3/0: hello from 3', '4/1: hello from 4', '5/2: hello from 5'])
})

test('on one machine the master port is a free one shared by all workers; OMP_NUM_THREADS from the environment is kept', async (t) => {
  const { envs } = await launchedEnvs({ nprocPerNode: 2, env: { ...process.env, OMP_NUM_THREADS: '7' } })
  const ports = new Set([...envs.values()].map((e) => e.MASTER_PORT))
  t.is(ports.size, 1)
  const port = Number([...ports][0])
  t.true(Number.isInteger(port) && port > 0 && port < 65536)
  t.not(port, 29500)
  await new Promise<void>((resolve, reject) => {
    const server = net.createServer().once('error', reject)
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()))
  })
  t.deepEqual(
    [...envs.values()].map((e) => [e.MASTER_ADDR, e.OMP_NUM_THREADS, e.WORLD_SIZE]),
    [
      ['127.0.0.1', '7', '2'],
      ['127.0.0.1', '7', '2'],
    ],
  )
  const { envs: explicit } = await launchedEnvs({ nprocPerNode: 1, threadsPerWorker: 3, env: { ...process.env, OMP_NUM_THREADS: '7' } })
  t.is(explicit.get(0)!.OMP_NUM_THREADS, '3')
})

test('options out of range are RangeErrors that name the option', async (t) => {
  const command = [process.execPath, '-e', '']
  const cases: [Partial<LaunchOptions>, RegExp][] = [
    [{ nprocPerNode: 0 }, /nprocPerNode must be an integer >= 1, got 0/],
    [{ nprocPerNode: 1.5 }, /nprocPerNode/],
    [{ nnodes: 0 }, /nnodes must be an integer >= 1/],
    [{ nnodes: 2, nodeRank: 2 }, /nodeRank must be an integer in \[0, 1\], got 2/],
    [{ masterPort: 0 }, /masterPort must be an integer in \[1, 65535\], got 0/],
    [{ masterPort: 65536 }, /masterPort/],
    [{ threadsPerWorker: 0 }, /threadsPerWorker/],
    [{ graceSeconds: -1 }, /graceSeconds must be a number >= 0/],
  ]
  for (const [options, message] of cases) await t.throwsAsync(launch(command, { nprocPerNode: 2, ...options }), { instanceOf: RangeError, message })
  await t.throwsAsync(launch([], { nprocPerNode: 1 }), { instanceOf: RangeError, message: /command/ })
})

test('a worker exiting 3 stops the job: SIGTERM to the others, SIGKILL to one that ignores it after the grace period', async (t) => {
  const { dir, worker, runner } = scratch()
  const r = await runLauncher(runner, workerCommand(worker, dir, { 0: 'graceful', 1: 'exit3', 2: 'stubborn' }), { nprocPerNode: 3, graceSeconds: 0.5 })
  t.is(r.code, 3, r.stderr)
  t.deepEqual(r.result, { exitCode: 3, failed: { rank: 1, localRank: 1, code: 3, signal: null } })
  t.regex(r.stderr, /^byol: worker rank 1 \(local rank 1\) exited with code 3; stopped the other workers\n$/m)
  t.is(read(dir, 'signals', 0), 'SIGTERM\n')
  t.is(read(dir, 'signals', 2), 'SIGTERM\n')
  // The stubborn worker never exits by itself while its launcher lives: the launch ending at all, with
  // that worker gone, shows the SIGKILL; and it came no sooner than the grace period.
  t.false(running(Number(read(dir, 'ready', 2))))
  t.true(r.ms >= 500, `${r.ms} ms`)
  t.deepEqual(r.listeners, [0, 0, 0, 0])
})

test('a worker killed by a signal is reported by that signal, with its rank across nodes', async (t) => {
  const { dir, worker, runner } = scratch()
  const r = await runLauncher(runner, workerCommand(worker, dir, { 2: 'graceful', 3: 'sigkill' }), {
    nprocPerNode: 2,
    nnodes: 2,
    nodeRank: 1,
    masterPort: 29501,
  })
  t.is(r.code, 137, r.stderr)
  t.deepEqual(r.result, { exitCode: 137, failed: { rank: 3, localRank: 1, code: null, signal: 'SIGKILL' } })
  t.regex(r.stderr, /byol: worker rank 3 \(local rank 1\) was killed by SIGKILL; stopped the other workers/)
  t.is(read(dir, 'signals', 2), 'SIGTERM\n')
})

test('a command that cannot be started fails the launch and says why', async (t) => {
  const { runner } = scratch()
  const r = await runLauncher(runner, [path.join(os.tmpdir(), 'byol-no-such-program')], { nprocPerNode: 2 })
  t.is(r.code, 1)
  t.like(r.result.failed, { rank: 0, localRank: 0, code: null, signal: null })
  t.regex(r.stderr, /byol: worker rank 0 \(local rank 0\) could not be started \(spawn .*byol-no-such-program ENOENT\)/)
})

// `kill -INT <launcher>` reaches the launcher alone; Ctrl-C in a terminal reaches its whole process
// group, which must not deliver the signal to the workers a second time (the trainer would then quit
// without its checkpoint).
for (const [to, group] of [
  ['the launcher', false],
  ['its process group (Ctrl-C)', true],
] as const) {
  test(`SIGINT to ${to} reaches each worker exactly once; the launcher exits with the workers' 130`, async (t) => {
    const { dir, worker, runner } = scratch()
    const r = await runLauncher(runner, workerCommand(worker, dir, {}), { nprocPerNode: 2 }, (pid) => {
      until(() => read(dir, 'ready', 0) !== undefined && read(dir, 'ready', 1) !== undefined).then(
        () => process.kill(group ? -pid : pid, 'SIGINT'),
        () => process.kill(pid, 'SIGTERM'),
      )
    })
    t.is(r.code, 130, r.stderr)
    t.deepEqual(r.result, { exitCode: 130 })
    t.is(read(dir, 'signals', 0), 'SIGINT\n')
    t.is(read(dir, 'signals', 1), 'SIGINT\n')
    t.notRegex(r.stderr, /worker rank/)
    t.deepEqual(r.listeners, [0, 0, 0, 0])
  })
}

test("distributedFromEnv reads torchrun's variables and rejects inconsistent ones", (t) => {
  t.is(distributedFromEnv({}), undefined)
  const torchrun = {
    WORLD_SIZE: '4',
    RANK: '3',
    LOCAL_RANK: '1',
    LOCAL_WORLD_SIZE: '2',
    MASTER_ADDR: '10.0.0.1',
    MASTER_PORT: '29400',
    TORCHELASTIC_USE_AGENT_STORE: 'True',
    TORCHELASTIC_RESTART_COUNT: '2',
    BYOL_DIST_TIMEOUT: '60',
  }
  t.deepEqual(distributedFromEnv(torchrun), {
    rank: 3,
    worldSize: 4,
    localRank: 1,
    localWorldSize: 2,
    masterAddr: '10.0.0.1',
    masterPort: 29400,
    backend: 'auto',
    timeoutSeconds: 60,
    agentStore: true,
    restartCount: 2,
    socketInterface: undefined,
    overlap: undefined,
    bucketMegabytes: undefined,
  })
  t.like(distributedFromEnv({ WORLD_SIZE: '2', RANK: '1' }), {
    localRank: 1,
    localWorldSize: 2,
    masterAddr: '127.0.0.1',
    masterPort: 29500,
    timeoutSeconds: 300,
  })
  t.throws(() => distributedFromEnv({ WORLD_SIZE: '2', RANK: '2' }), {
    instanceOf: RangeError,
    message: /RANK must be below WORLD_SIZE, got RANK=2 and WORLD_SIZE=2/,
  })
  t.throws(() => distributedFromEnv({ WORLD_SIZE: '2' }), { instanceOf: RangeError, message: /RANK is not set/ })
  t.throws(() => distributedFromEnv({ WORLD_SIZE: 'two', RANK: '0' }), { instanceOf: RangeError, message: /WORLD_SIZE must be an integer >= 1, got 'two'/ })
  t.throws(() => distributedFromEnv({ WORLD_SIZE: '2', RANK: '-1' }), { instanceOf: RangeError, message: /RANK must be an integer >= 0/ })
  t.throws(() => distributedFromEnv({ WORLD_SIZE: '2', RANK: '0', MASTER_PORT: '70000' }), {
    instanceOf: RangeError,
    message: /MASTER_PORT must be an integer in \[1, 65535\], got '70000'/,
  })
})

test('byol train: the launcher flags need --nproc-per-node, are in --help, and are not passed on to the workers', (t) => {
  const byol = (args: string[]) => spawnSync(process.execPath, [CLI, 'train', ...args], { encoding: 'utf8' })
  for (const flag of [
    ['--nnodes', '2'],
    ['--master-port', '1234'],
  ]) {
    const r = byol(flag)
    t.is(r.status, 2, r.stderr)
    t.regex(r.stderr, new RegExp(`${flag[0]} needs --nproc-per-node`))
    t.regex(r.stderr, /Run `byol train --help`/)
  }
  const rank = byol(['--data', 'd', '--nproc-per-node', '2', '--nnodes', '2', '--node-rank', '2'])
  t.is(rank.status, 2)
  t.regex(rank.stderr, /--node-rank must be an integer in \[0, 1\], got '2'/)
  const help = byol(['--help'])
  t.is(help.status, 0)
  for (const flag of ['--nproc-per-node N', '--nnodes M', '--node-rank R', '--master-addr ADDR', '--master-port PORT', '--dist-timeout S']) {
    t.true(help.stdout.includes(flag), flag)
  }
  t.regex(help.stdout, /byol train --data d --nproc-per-node 2 +# two data-parallel processes \(torchrun-compatible\)/)
  const argv = ['--data', 'd', '--nproc-per-node', '2', '-q', '--master-port=1234', '--epochs', '3', '--dist-timeout', '60']
  t.deepEqual(withoutOptions(trainSpec, argv, ['nproc-per-node', 'master-port', 'dist-timeout']), ['--data', 'd', '-q', '--epochs', '3'])
})

test('the train command loads no native addon until it trains', (t) => {
  t.false(
    Object.keys(require.cache).some((file) => file.endsWith('.node') || file.endsWith(path.join('model', 'addon.js'))),
    'the launcher must start without libtorch',
  )
})
