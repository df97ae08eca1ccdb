// A self-contained SVG of a run's loss and kNN accuracy per epoch (opens in any browser).

export interface PlotSeries {
  title: string
  yLabel: string
  points: Array<[number, number]>
  color: string
  /** Format of tick labels. */
  format?: (v: number) => string
}

const W = 480
const H = 320
const M = { left: 64, right: 20, top: 40, bottom: 48 }

function niceStep(range: number, ticks: number): number {
  const raw = range / Math.max(ticks, 1)
  const mag = 10 ** Math.floor(Math.log10(raw))
  const norm = raw / mag
  return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag
}

function ticks(lo: number, hi: number, count: number): number[] {
  const step = niceStep(hi - lo || Math.abs(hi) || 1, count)
  const out: number[] = []
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)))
  return out
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

function panel(series: PlotSeries, x0: number): string {
  const pw = W - M.left - M.right
  const ph = H - M.top - M.bottom
  const out: string[] = [`<g transform="translate(${x0},0)">`]
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escape(series.title)}</text>`)
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="#fafafa" stroke="#999"/>`)
  const pts = series.points.filter(([, y]) => Number.isFinite(y))
  if (pts.length === 0) {
    out.push(`<text x="${M.left + pw / 2}" y="${M.top + ph / 2}" text-anchor="middle" fill="#777" font-size="13">not measured</text>`)
    out.push('</g>')
    return out.join('\n')
  }
  const xs = pts.map(([x]) => x)
  const ys = pts.map(([, y]) => y)
  let [xlo, xhi] = [Math.min(...xs), Math.max(...xs)]
  if (xlo === xhi) [xlo, xhi] = [xlo - 1, xhi + 1]
  let [ylo, yhi] = [Math.min(...ys), Math.max(...ys)]
  const pad = (yhi - ylo) * 0.08 || Math.abs(yhi) * 0.05 || 0.05
  ;[ylo, yhi] = [ylo - pad, yhi + pad]
  const sx = (x: number) => M.left + ((x - xlo) / (xhi - xlo)) * pw
  const sy = (y: number) => M.top + ph - ((y - ylo) / (yhi - ylo)) * ph
  const fmt = series.format ?? ((v: number) => String(Number(v.toPrecision(4))))
  for (const t of ticks(ylo, yhi, 5)) {
    out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#e2e2e2"/>`)
    out.push(`<text x="${M.left - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end" font-size="11">${escape(fmt(t))}</text>`)
  }
  for (const t of ticks(xlo, xhi, 8).filter((v) => Number.isInteger(v))) {
    out.push(`<line x1="${sx(t).toFixed(1)}" x2="${sx(t).toFixed(1)}" y1="${M.top + ph}" y2="${M.top + ph + 4}" stroke="#555"/>`)
    out.push(`<text x="${sx(t).toFixed(1)}" y="${M.top + ph + 17}" text-anchor="middle" font-size="11">${t}</text>`)
  }
  out.push(`<text x="${M.left + pw / 2}" y="${H - 10}" text-anchor="middle" font-size="12">epoch</text>`)
  out.push(`<text transform="translate(16,${M.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="12">${escape(series.yLabel)}</text>`)
  const line = pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')
  out.push(`<polyline points="${line}" fill="none" stroke="${series.color}" stroke-width="2"/>`)
  for (const [x, y] of pts) {
    out.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3.5" fill="${series.color}"><title>epoch ${x}: ${escape(fmt(y))}</title></circle>`)
  }
  out.push('</g>')
  return out.join('\n')
}

/** An SVG with one panel per series, side by side. */
export function plotSvg(series: PlotSeries[], caption?: string): string {
  const height = H + (caption ? 24 : 0)
  const width = W * series.length
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    ...series.map((s, i) => panel(s, i * W)),
    caption ? `<text x="${width / 2}" y="${height - 8}" text-anchor="middle" font-size="12" fill="#444">${escape(caption)}</text>` : '',
    '</svg>',
    '',
  ].join('\n')
}

/** The run plot: mean loss and kNN top-1 accuracy per epoch. */
export function runPlot(history: Array<{ epoch: number; loss: number; knnTop1?: number }>, caption?: string): string {
  return plotSvg(
    [
      { title: 'BYOL loss', yLabel: 'mean loss', points: history.map((h) => [h.epoch, h.loss]), color: '#1f77b4' },
      {
        title: 'kNN top-1 accuracy (test split)',
        yLabel: 'accuracy',
        points: history.filter((h) => h.knnTop1 !== undefined).map((h) => [h.epoch, h.knnTop1 as number]),
        color: '#d62728',
        format: (v) => `${Number((v * 100).toPrecision(3))}%`,
      },
    ],
    caption,
  )
}
