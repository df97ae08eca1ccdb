// A one-line progress bar on a terminal (stderr), redrawn at most a few times a second.

export class ProgressBar {
  private last = 0
  private shown = false

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  get enabled(): boolean {
    return Boolean(this.stream.isTTY)
  }

  /** Draws `label [#####.....] done/total suffix`. */
  update(label: string, done: number, total: number, suffix = '', force = false): void {
    if (!this.enabled) return
    const now = Date.now()
    if (!force && now - this.last < 100 && done < total) return
    this.last = now
    const columns = this.stream.columns || 80
    const counter = `${done}/${total}`
    const room = Math.max(10, Math.min(40, columns - label.length - counter.length - suffix.length - 8))
    const filled = total > 0 ? Math.round((room * done) / total) : 0
    const bar = '#'.repeat(filled) + '.'.repeat(room - filled)
    const line = `${label} [${bar}] ${counter} ${suffix}`.slice(0, columns - 1)
    this.stream.write(`\r${line}\x1b[K`)
    this.shown = true
  }

  /** Removes the bar so that ordinary lines can be printed. */
  clear(): void {
    if (this.shown) this.stream.write('\r\x1b[K')
    this.shown = false
  }
}

/** `m:ss` or `h:mm:ss`. */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?'
  const s = Math.round(seconds)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const ss = String(s % 60).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`
}
