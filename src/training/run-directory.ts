// The run directory: config.json (what ran, on what), metrics.jsonl (one line per epoch),
// plot.svg (loss and kNN accuracy per epoch), checkpoint.safetensors, backbone.safetensors.
import fs = require('fs')
import path = require('path')
import type { EpochLogs } from './checkpoint'
import { removeStaleTemporaryFiles, writeFileAtomic } from '../files/atomic-write'
import { runPlot } from '../evaluation/plot'

export const RUN_FILES = {
  config: 'config.json',
  metrics: 'metrics.jsonl',
  plot: 'plot.svg',
  backbone: 'backbone.safetensors',
}

/** A fresh run directory name under `root`: `run-YYYYMMDD-HHMMSS`. */
export function newRunDir(root = 'runs'): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)
  let dir = path.join(root, `run-${stamp}`)
  for (let i = 2; fs.existsSync(dir); i++) dir = path.join(root, `run-${stamp}-${i}`)
  return dir
}

export class RunDir {
  constructor(readonly dir: string) {}

  /**
   * Fails at once, before any data is loaded, when the folder could not be written; creates
   * nothing (the first file written creates it), so a run refused later leaves no trace.
   */
  async check(): Promise<void> {
    let at = this.dir
    for (;;) {
      const stat = await fs.promises.stat(at).catch(() => undefined)
      if (stat && !stat.isDirectory()) {
        throw new Error(
          at === this.dir ? `the run directory ${this.dir} is a file; choose another folder` : `cannot create the run directory ${this.dir}: ${at} is a file`,
        )
      }
      if (stat) break
      if (path.dirname(at) === at) break
      at = path.dirname(at)
    }
    try {
      await fs.promises.access(at, fs.constants.W_OK)
      // Root passes access() everywhere; a read-only mount or a kernel folder still refuses it.
      const probe = path.join(at, `.byol-write-${process.pid}`)
      await fs.promises.writeFile(probe, '')
      await fs.promises.rm(probe)
    } catch (e) {
      throw new Error(`cannot write the run directory ${this.dir}: ${(e as Error).message}`)
    }
    await removeStaleTemporaryFiles(this.dir)
  }

  file(name: keyof typeof RUN_FILES): string {
    return path.join(this.dir, RUN_FILES[name])
  }

  async writeConfig(config: unknown): Promise<void> {
    await writeFileAtomic(this.file('config'), [JSON.stringify(config, null, 2) + '\n'])
  }

  /** Rewrites metrics.jsonl and the plot from a history (a resume drops epochs after its checkpoint). */
  async writeHistory(history: EpochLogs[], caption?: string): Promise<void> {
    await writeFileAtomic(this.file('metrics'), [history.map((h) => JSON.stringify(h) + '\n').join('')])
    await writeFileAtomic(this.file('plot'), [runPlot(history, caption)])
  }

  /** Reads metrics.jsonl (for `byol` commands that report on a run). */
  static readMetrics(dir: string): EpochLogs[] {
    const file = path.join(dir, RUN_FILES.metrics)
    if (!fs.existsSync(file)) return []
    return fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as EpochLogs)
  }
}
