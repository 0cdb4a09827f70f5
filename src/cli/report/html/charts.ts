import type { ReportSeries } from './timeline.js'

/** The little of `document` the chart script uses (src/ is compiled without the DOM library). */
interface ChartDocument {
  getElementById(id: string): { clientWidth: number } | null
}

/** uPlot's constructor and the path builder the limit lines use, as the inlined bundle defines them. */
interface UPlotStatic {
  new (options: object, data: (number | null)[][], target: unknown): unknown
  paths: { stepped?: (options: { align: 1 | -1 }) => unknown }
}

/**
 * Draws the report's charts with uPlot, in the browser. This function is inlined into the page as
 * source (`drawCharts.toString()`): it must use nothing from outside its parameters. Returns how
 * many charts it drew.
 */
export function drawCharts(s: ReportSeries, uPlot: UPlotStatic, doc: ChartDocument): number {
  interface Line {
    label: string
    values: (number | null)[]
    stroke: string
    dash?: number[]
    fill?: string
    scale?: string
    stepped?: boolean
  }
  const steps = uPlot.paths.stepped ? uPlot.paths.stepped({ align: 1 }) : undefined
  const same = (value: number | undefined) => s.t.map(() => (value === undefined ? null : value))
  let drawn = 0
  // uPlot copies every key over its defaults, undefined ones too: only the options given are set.
  const seriesOptions = (l: Line) => {
    const options: Record<string, unknown> = { label: l.label, stroke: l.stroke, width: 1.5, spanGaps: true }
    if (l.dash) options.dash = l.dash
    if (l.fill) options.fill = l.fill
    if (l.scale) options.scale = l.scale
    if (l.stepped && steps) options.paths = steps
    return options
  }
  const chart = (id: string, unit: string, lines: Line[], right?: { scale: string; label: string }) => {
    const target = doc.getElementById(id)
    if (!target) return
    const axes: object[] = [{}, { label: unit, size: 60 }]
    if (right) axes.push({ scale: right.scale, label: right.label, side: 1, grid: { show: false } })
    const options = {
      width: Math.max(320, target.clientWidth),
      height: 240,
      scales: { x: { time: true }, ...(right ? { [right.scale]: { range: [0, 1] } } : {}) },
      axes,
      series: [{}, ...lines.map(seriesOptions)],
    }
    new uPlot(options, [s.t, ...lines.map((l) => l.values)], target)
    drawn++
  }
  const limits: Line[] = []
  if (s.given !== undefined)
    limits.push({ label: 'limit given (--rate)', values: same(s.given), stroke: '#c0392b', dash: [6, 4] })
  if (s.learned)
    limits.push({ label: 'limit learned', values: s.learned, stroke: '#8e44ad', dash: [2, 3], stepped: true })
  chart('chart-rate', 'per second', [
    { label: 'attempts sent/s', values: s.sent, stroke: '#2c7be5', fill: 'rgba(44,123,229,0.08)' },
    { label: 'new requests/s', values: s.requests, stroke: '#7f8c8d' },
    ...limits,
  ])
  chart('chart-flight', 'requests', [
    { label: 'in flight', values: s.inFlight, stroke: '#16a085', fill: 'rgba(22,160,133,0.1)' },
    { label: 'waiting at the limiter', values: s.waiting, stroke: '#e67e22' },
  ])
  chart('chart-latency', 'ms', [
    { label: 'p50', values: s.p50, stroke: '#27ae60' },
    { label: 'p90', values: s.p90, stroke: '#f39c12' },
    { label: 'p99', values: s.p99, stroke: '#c0392b' },
  ])
  // An array, not an object's keys: those would put the integer-like '429' first.
  const classes: [keyof ReportSeries['answers'], string][] = [
    ['2xx', '#27ae60'],
    ['3xx', '#2980b9'],
    ['4xx', '#f39c12'],
    ['429', '#8e44ad'],
    ['5xx', '#c0392b'],
    ['errors', '#2c3e50'],
  ]
  chart(
    'chart-answers',
    'answers/s',
    classes.map(([label, stroke]) => ({ label, values: s.answers[label], stroke })),
  )
  const events: Line[] = [
    { label: 'retries/s', values: s.retries, stroke: '#e67e22' },
    { label: '429s/s', values: s.refused, stroke: '#8e44ad' },
  ]
  if (s.paused) {
    const fill = 'rgba(192,57,43,0.18)'
    events.push({
      label: 'paused by the server (share)',
      values: s.paused,
      stroke: '#c0392b',
      fill,
      scale: 'share',
    })
  }
  chart('chart-events', 'per second', events, s.paused ? { scale: 'share', label: 'paused' } : undefined)
  return drawn
}
