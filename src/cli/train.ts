// `byol train`: trains on a folder (or the CIFAR-10 binary release) and keeps a run directory;
// with --nproc-per-node it starts that many data-parallel workers instead, as torchrun would.
import os = require('os')
import path = require('path')
import { launch, LaunchOptions } from '../distributed/launch'
import { removeTemporaryFiles } from '../files/atomic-write'
import { PRESETS, PresetName } from '../training/presets'
import { newRunDir } from '../training/run-directory'
import type { TrainOptions } from '../training/train'
import { choiceOption, CommandSpec, intOption, numberOption, Parsed, stringOption, UsageError, withoutOptions } from './args'
import { duration, ProgressBar } from './progress'

export const spec: CommandSpec = {
  name: 'train',
  summary: "train a BYOL model (Lightly's BYOL example by default) and keep a run directory",
  usage: 'byol train --data <dir> [options]',
  options: {
    data: {
      type: 'string',
      value: 'DIR',
      help: 'training images: an ImageFolder (<dir>/<class>/*.jpg), a folder with train/ and test/, a flat folder of images, or cifar-10-batches-bin/',
    },
    'test-data': { type: 'string', value: 'DIR', help: 'labelled test images for kNN accuracy (default: the test/ split of --data)' },
    preset: { type: 'string', value: 'NAME', help: `training recipe: ${PRESETS.join(', ')}`, default: 'lightly-example' },
    epochs: { type: 'string', value: 'N', help: 'epochs', default: '10 (200 for cifar10-benchmark)' },
    'batch-size': { type: 'string', value: 'N', help: 'images per step', default: '256' },
    lr: { type: 'string', value: 'X', help: "learning rate (default: the preset's)" },
    seed: { type: 'string', value: 'N', help: 'seed of weights, data order and augmentations', default: '0' },
    'image-size': { type: 'string', value: 'N', help: 'images are stored and trained at NxN pixels', default: '32' },
    width: { type: 'string', value: 'N', help: 'channels of the first ResNet-18 stage (64 = torchvision ResNet-18)', default: '64' },
    device: { type: 'string', value: 'DEV', help: 'auto, cpu, cuda or cuda:N', default: 'auto' },
    out: { type: 'string', short: 'o', value: 'DIR', help: 'run directory', default: 'runs/run-<date>-<time>' },
    resume: { type: 'string', value: 'DIR', help: 'continue the run in this run directory from its checkpoint' },
    'eval-every': { type: 'string', value: 'N', help: 'kNN accuracy every N epochs (0: after the last epoch only)', default: '0' },
    'checkpoint-every': {
      type: 'string',
      value: 'N',
      help: 'checkpoint every N epochs (also at the end, and on Ctrl-C or SIGTERM, which then exit 130 or 143)',
      default: '1',
    },
    init: { type: 'string', value: 'FILE', help: 'start from these backbone weights (safetensors, torchvision names)' },
    'cache-dir': { type: 'string', value: 'DIR', help: 'where decoded images are cached', default: '$BYOL_CACHE_DIR or ~/.cache/byol' },
    'no-cache': { type: 'boolean', help: 'decode the images without reading or writing a cache' },
    'skip-corrupt': { type: 'boolean', help: 'skip images that fail to decode (they are listed in config.json) instead of stopping' },
    precision: {
      type: 'string',
      value: 'P',
      help: 'fp32, bf16 (autocast; float32 weights, BatchNorm statistics and loss) or auto: bf16 on CUDA',
      default: 'auto',
    },
    'no-cuda-graph': { type: 'boolean', help: 'run every step eagerly instead of replaying a captured CUDA graph (CUDA)' },
    'channels-last': { type: 'boolean', help: 'convolution weights and views in channels-last layout (the default: faster on CUDA and on the CPU)' },
    'no-channels-last': { type: 'boolean', help: 'keep convolution weights and views in NCHW layout' },
    'no-target-stream': { type: 'boolean', help: 'run the target network on the same CUDA stream as the online network' },
    'joint-views': { type: 'boolean', help: 'both views through each network as one batch: faster, but BatchNorm then mixes the views (not the reference)' },
    accumulate: {
      type: 'string',
      value: 'K',
      help: 'run each batch as K micro-batches and update once from their summed gradients (a large batch in less memory)',
      default: '1',
    },
    'loss-every': { type: 'string', value: 'N', help: 'steps queued per native call; their losses come back together', default: '50 on CUDA, 1 on the CPU' },
    json: { type: 'boolean', help: 'print one JSON object per epoch (and a final result object) instead of text' },
    quiet: { type: 'boolean', short: 'q', help: 'no progress bar' },
    'nproc-per-node': {
      type: 'string',
      value: 'N',
      help: "train with N data-parallel worker processes on this machine, started with torchrun's environment; when one fails, the others are stopped",
    },
    nnodes: {
      type: 'string',
      value: 'M',
      help: 'with --nproc-per-node: machines in the job, each running this command with its own --node-rank',
      default: '1',
    },
    'node-rank': { type: 'string', value: 'R', help: "with --nproc-per-node: this machine's place among them, 0..M-1", default: '0' },
    'master-addr': { type: 'string', value: 'ADDR', help: 'with --nproc-per-node: the host of rank 0, where the workers meet', default: '127.0.0.1' },
    'master-port': {
      type: 'string',
      value: 'PORT',
      help: 'with --nproc-per-node: the port there',
      default: 'a free port on one machine, 29500 across machines',
    },
    'dist-timeout': {
      type: 'string',
      value: 'S',
      help: 'a worker that is gone or a step the workers do not finish together fails the job after S seconds (sets BYOL_DIST_TIMEOUT)',
      default: '300',
    },
  },
  examples: [
    'byol train --data datasets/cifar10                  # the Lightly example, 10 epochs',
    'byol train --data datasets/cifar10 --epochs 1       # a quick variant',
    'byol train --data photos/ --image-size 64 --out runs/photos',
    'byol train --resume runs/photos                     # continue after Ctrl-C, SIGTERM or a crash',
    'byol train --data d --nproc-per-node 2              # two data-parallel processes (torchrun-compatible)',
  ],
}

/** Options of the launcher itself: the workers it starts get the rest of the command line. */
const LAUNCHER_FLAGS = ['nproc-per-node', 'nnodes', 'node-rank', 'master-addr', 'master-port', 'dist-timeout']

/** What `--nproc-per-node` and its companions ask of the launcher, or undefined when this process trains itself. */
function launcherOptions(v: Parsed['values']): LaunchOptions | undefined {
  const nprocPerNode = intOption(v, 'nproc-per-node', 1)
  if (nprocPerNode === undefined) {
    const orphan = ['nnodes', 'node-rank', 'master-addr', 'master-port'].find((name) => v[name] !== undefined)
    if (orphan) throw new UsageError(`--${orphan} needs --nproc-per-node`, 'train')
    return undefined
  }
  const nnodes = intOption(v, 'nnodes', 1) ?? 1
  const masterAddr = stringOption(v, 'master-addr')
  if (masterAddr === '') throw new UsageError('--master-addr must be a host name or address', 'train')
  return { nprocPerNode, nnodes, nodeRank: intOption(v, 'node-rank', 0, nnodes - 1), masterAddr, masterPort: intOption(v, 'master-port', 1, 65535) }
}

function fmtLoss(x: number): string {
  return x.toFixed(5)
}

export async function run(p: Parsed): Promise<number> {
  const v = p.values
  const resume = stringOption(v, 'resume')
  const data = stringOption(v, 'data')
  const out = resume ?? stringOption(v, 'out') ?? newRunDir()
  const json = v.json === true
  const bar = new ProgressBar()
  // In a data-parallel job rank 0 reports for everyone; the other ranks only report errors.
  const follower = !!process.env.WORLD_SIZE && Number(process.env.RANK ?? 0) > 0
  const showBar = !json && v.quiet !== true && bar.enabled && !follower
  const width = intOption(v, 'width', 1, 4096)
  const launcher = launcherOptions(v)
  const distTimeout = intOption(v, 'dist-timeout', 1)
  const controller = new AbortController()
  // SIGINT (Ctrl-C) and SIGTERM stop after the current step with a checkpoint, and the run ends
  // with 128 + the signal's number (130, 143). A second signal exits at once with that status,
  // removing the temporary file of any write in progress: the last checkpoint stays whole.
  let stopStatus: number | undefined
  const onSignal = (signal: NodeJS.Signals) => {
    const status = 128 + os.constants.signals[signal]
    if (stopStatus !== undefined) {
      removeTemporaryFiles()
      process.exit(stopStatus)
    }
    stopStatus = status
    bar.clear()
    process.stderr.write(`byol: ${signal}: stopping after the current step and writing a checkpoint (send it again to quit now)\n`)
    controller.abort()
  }
  const log = (line: string) => {
    if (follower) return
    bar.clear()
    process.stderr.write(line + '\n')
  }
  const print = (line: string) => {
    if (follower) return
    bar.clear()
    process.stdout.write(line + '\n')
  }
  let epochStart = Date.now()
  let epochLosses: number[] = []
  const options: TrainOptions = {
    data,
    testData: stringOption(v, 'test-data'),
    preset: choiceOption(v, 'preset', PRESETS) as PresetName | undefined,
    epochs: intOption(v, 'epochs', 1),
    batchSize: intOption(v, 'batch-size', 2),
    lr: numberOption(v, 'lr', 0),
    seed: intOption(v, 'seed', 0),
    imageSize: intOption(v, 'image-size', 1, 4096),
    model: width !== undefined ? { width } : undefined,
    device: (stringOption(v, 'device') ?? 'auto') as TrainOptions['device'],
    runDir: out,
    resume: resume ? true : undefined,
    evalEvery: intOption(v, 'eval-every', 0),
    checkpointEvery: intOption(v, 'checkpoint-every', 0),
    init: stringOption(v, 'init'),
    cacheDir: v['no-cache'] === true ? false : stringOption(v, 'cache-dir'),
    skipCorrupt: v['skip-corrupt'] === true,
    precision: choiceOption(v, 'precision', ['fp32', 'bf16', 'auto'] as const),
    cudaGraph: v['no-cuda-graph'] === true ? false : undefined,
    channelsLast: v['no-channels-last'] === true ? false : v['channels-last'] === true ? true : undefined,
    targetStream: v['no-target-stream'] === true ? false : undefined,
    jointViews: v['joint-views'] === true ? true : undefined,
    lossEvery: intOption(v, 'loss-every', 1),
    accumulate: intOption(v, 'accumulate', 1),
    log: (message) => log(`byol: ${message}`),
    signal: controller.signal,
    onDataProgress: showBar ? (split, done, total) => bar.update(`decoding ${split} images`, done, total) : undefined,
    callbacks: {
      onTrainBegin: ({ config, device, batchesPerEpoch: batches, startEpoch, step, worldSize }) => {
        const what = `${config.preset}, ${config.epochs} epochs of ${batches} batches of ${config.batchSize}, ${config.imageSize}x${config.imageSize}`
        const how = [
          step.precision,
          step.cudaGraph ? 'CUDA graph' : 'eager',
          step.channelsLast ? 'channels-last' : undefined,
          step.targetStream ? 'target on its own stream' : undefined,
          step.jointViews ? 'joint views' : undefined,
          worldSize > 1 ? `${worldSize} data-parallel processes, ${config.batchSize / worldSize} images each per step` : undefined,
          config.accumulate > 1 ? `${config.accumulate} micro-batches per step` : undefined,
        ]
        if (json) print(JSON.stringify({ type: 'start', config, device, step, batchesPerEpoch: batches, startEpoch, runDir: path.resolve(out) }))
        else
          log(
            `byol train: ${what}, device ${device} (${how.filter(Boolean).join(', ')})${startEpoch > 0 ? `, resuming at epoch ${startEpoch}` : ''}\nrun directory: ${path.resolve(out)}`,
          )
      },
      onEpochBegin: () => {
        epochStart = Date.now()
        epochLosses = []
      },
      onBatchEnd: (_step, logs) => {
        epochLosses.push(logs.loss)
        if (!showBar) return
        const elapsed = (Date.now() - epochStart) / 1000
        const done = logs.batch + 1
        const eta = (elapsed / Math.max(epochLosses.length, 1)) * (logs.batches - done)
        const mean = epochLosses.reduce((a, b) => a + b, 0) / epochLosses.length
        bar.update(
          `epoch ${String(logs.epoch).padStart(2, '0')}`,
          done,
          logs.batches,
          `loss ${fmtLoss(mean)} ${logs.imagesPerSecond.toFixed(0)} img/s eta ${duration(eta)}`,
        )
      },
      onEpochEnd: (epoch, logs) => {
        if (json) {
          print(JSON.stringify({ type: 'epoch', ...logs }))
          return
        }
        // The line Lightly's example prints.
        print(`epoch: ${String(epoch).padStart(2, '0')}, loss: ${fmtLoss(logs.loss)}`)
        if (logs.knnTop1 !== undefined) print(`epoch: ${String(epoch).padStart(2, '0')}, knn top-1: ${logs.knnTop1.toFixed(4)}`)
        log(`  ${logs.steps} steps in ${duration(logs.seconds)} (${logs.imagesPerSecond.toFixed(1)} images/s)`)
      },
    },
  }
  if (!data && !resume) throw new UsageError('--data is required (or --resume <run dir>)', 'train')
  // Read by the workers (distributedFromEnv), whether this launcher or torchrun started them.
  if (distTimeout !== undefined) process.env.BYOL_DIST_TIMEOUT = String(distTimeout)
  if (launcher) {
    // The workers must agree on the run directory: each would otherwise name its own after the clock.
    const pinOut = resume || stringOption(v, 'out') !== undefined ? [] : ['--out', out]
    const argv = ['train', ...withoutOptions(spec, p.argv, LAUNCHER_FLAGS), ...pinOut]
    return (await launch([process.execPath, path.join(__dirname, 'index.js'), ...argv], launcher)).exitCode
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  // Loaded here, not at the top: `byol --help` then never loads libtorch.
  const { train } = await import('../training/train')
  try {
    const result = await train(options)
    bar.clear()
    if (json) {
      const { model: _m, train: _t, test: _s, stepLosses: _l, ...rest } = result
      print(JSON.stringify({ type: 'result', ...rest }))
    } else if (result.aborted) {
      log(`stopped after ${result.steps} steps; checkpoint ${result.checkpoint ?? '(none)'}\nresume with: byol train --resume ${out}`)
    } else {
      if (result.knnTop1 !== undefined && result.test) {
        print(
          `kNN top-1 accuracy on the test split: ${result.knnTop1.toFixed(4)} (k=${result.config.knn.k}, temperature ${result.config.knn.temperature}, ` +
            `${result.test.length} test images, ${result.train.length} train images)`,
        )
      }
      log(`done in ${duration(result.seconds)}; run directory ${path.resolve(out)} (metrics.jsonl, plot.svg, checkpoint.safetensors, backbone.safetensors)`)
    }
    return result.aborted ? (stopStatus ?? 130) : 0
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}
