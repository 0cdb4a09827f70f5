import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { formatRate, type ResolvedRate } from '../../../limit/units.js'
import { formatMs } from '../format.js'
import { drawCharts } from './charts.js'
import type { LiveEvents } from './live.js'
import type { ErrorGroup, ReportFigures } from './tally.js'
import type { ReportSeries } from './timeline.js'

/** Everything the page shows. */
export interface ReportContent {
  /** The results file's name (not its path: the page may travel). */
  name: string
  job: string | undefined
  figures: ReportFigures
  errors: ErrorGroup[]
  /** Undefined when no record has a start time (an older volley's file). */
  series: ReportSeries | undefined
  given: readonly ResolvedRate[]
  live: LiveEvents | undefined
  /** Epoch ms the page was made. */
  madeAt: number
}

/** uPlot's script and styles, from the installed package, inlined: the page loads nothing. */
function uplotAssets(): { js: string; css: string } {
  const require = createRequire(import.meta.url)
  const read = (file: string) => readFileSync(require.resolve(`uplot/dist/${file}`), 'utf8')
  return { js: read('uPlot.iife.min.js'), css: read('uPlot.min.css') }
}

/** The self-contained HTML page of a run's report. */
export function reportPage(c: ReportContent): string {
  const charts = c.series ? chartsSection(c.series) : noSeries(c.figures)
  const uplot = c.series && uplotAssets()
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>volley report: ${esc(c.name)}</title>
<style>${STYLE}</style>
${uplot ? `<style>${uplot.css}</style>` : ''}
</head><body>
<header><h1>volley run report</h1><p class="meta">${esc(c.name)}${c.job ? ` · job ${esc(c.job)}` : ''}${spanText(c)} · made ${esc(new Date(c.madeAt).toISOString())}</p></header>
${figuresSection(c.figures)}
${limitsSection(c)}
${charts}
${errorsSection(c.errors)}
${c.series && uplot ? scripts(c.series, uplot.js) : ''}
</body></html>
`
}

function figuresSection(f: ReportFigures): string {
  const l = f.latency
  const figure = (key: string, label: string, value: string) =>
    `<div class="figure"><span class="label">${label}</span><span class="value" data-figure="${key}">${esc(value)}</span></div>`
  const statuses = Object.entries(f.statuses)
    .map(
      ([status, n]) => `<tr><td>${esc(status)}</td><td class="n" data-status="${esc(status)}">${n}</td></tr>`,
    )
    .join('')
  const notes = [
    f.unreadable > 0
      ? `${f.unreadable} line(s) of the file are not results (a torn last line, or too long to read): not counted.`
      : '',
    f.withoutStart > 0 && f.withoutStart < f.total
      ? `${f.withoutStart} result(s) have no start time: counted here, not on the charts.`
      : '',
  ].filter((n) => n !== '')
  return `<section><h2>Summary</h2><div class="figures">
${figure('total', 'requests', String(f.total))}
${figure('ok', 'ok', String(f.ok))}
${figure('failed', 'failed', String(f.failed))}
${figure('duration', 'duration', f.durationMs === undefined ? '—' : formatMs(f.durationMs))}
${figure('per-second', 'requests/s', f.perSecond === undefined ? '—' : String(f.perSecond))}
${figure('attempts', 'attempts', String(f.attempts))}
${figure('retries', 'retries', String(f.retries))}
${figure('rate-limited', '429s', String(f.rateLimited))}
${figure('p50', 'p50', `${l.p50} ms`)}
${figure('p90', 'p90', `${l.p90} ms`)}
${figure('p99', 'p99', `${l.p99} ms`)}
${figure('max', 'max', `${l.max} ms`)}
</div>
<p class="note">Latency ${l.of === 'attempts' ? 'of each attempt, from sending to the end of its answer' : 'of each request (its <code>ms</code>: waits and retries included; this file has no per-attempt timings)'}.</p>
${notes.map((n) => `<p class="note">${esc(n)}</p>`).join('\n')}
<table class="statuses"><thead><tr><th>status</th><th>results</th></tr></thead><tbody>${statuses}</tbody></table>
</section>`
}

function limitsSection(c: ReportContent): string {
  const items: string[] = []
  if (c.given.length > 0) items.push(`given (--rate): ${c.given.map(formatRate).join(', ')}`)
  const learned = new Map<string, ResolvedRate[]>()
  for (const q of c.live?.quotas ?? []) learned.set(q.origin, q.rates)
  for (const [origin, rates] of learned)
    items.push(`learned for ${origin} (last): ${rates.map(formatRate).join(', ')}`)
  const pauses = c.live?.pauses ?? []
  if (pauses.length > 0) {
    const total = pauses.reduce((sum, p) => sum + p.ms, 0)
    items.push(
      `${pauses.length} pause(s) asked by the server, ${formatMs(total)} in all (overlaps counted twice)`,
    )
  }
  if (items.length === 0) return ''
  return `<section><h2>Limits</h2><ul>${items.map((i) => `<li>${esc(i)}</li>`).join('')}</ul></section>`
}

function chartsSection(s: ReportSeries): string {
  const chart = (id: string, title: string, note: string) =>
    `<h3>${title}</h3><p class="note">${note}</p><div class="chart" id="${id}"></div>`
  return `<section><h2>Over time</h2><p class="note">One point per ${esc(formatMs(s.widthMs))}; hover a chart to read its values, drag to zoom, double-click to zoom out.</p>
${chart('chart-rate', 'Starts per second, against the limit in force', 'Attempts sent (past the limiter: what a rate limit counts, retries included) and new requests.')}
${chart('chart-flight', 'In flight', 'Mean attempts sent and not yet answered, and mean attempts waiting at the limiter (for a slot, the rate or a pause).')}
${chart('chart-latency', 'Latency', 'Percentiles of the attempts sent in each interval, from sending to the end of the answer.')}
${chart('chart-answers', 'Answers by status', 'Answers per second by status class; errors are attempts that got no status (timeouts, network errors).')}
${chart('chart-events', 'Retries, 429s and server pauses', 'Retries sent and 429s received per second; with --report during a run, the share of each interval the server had paused an origin.')}
</section>`
}

function noSeries(f: ReportFigures): string {
  if (f.total === 0)
    return '<section><h2>Over time</h2><p class="note">The file holds no results.</p></section>'
  return `<section><h2>Over time</h2><p class="note" id="no-series">No charts: the results in this file have no start times (<code>start</code>: files written before volley recorded them), and time series need them. The summary and the errors are complete.</p></section>`
}

function errorsSection(groups: readonly ErrorGroup[]): string {
  if (groups.length === 0) return '<section><h2>Errors</h2><p class="note">None.</p></section>'
  const rows = groups
    .map((g) => {
      const examples = g.examples
        .map((e) => `<li>line ${e.index} (id ${esc(String(e.id))}): ${esc(e.message)}</li>`)
        .join('')
      return `<tr><td><code>${esc(g.code)}</code></td><td class="n" data-error="${esc(g.code)}">${g.count}</td><td><ul>${examples}</ul></td></tr>`
    })
    .join('\n')
  return `<section><h2>Errors</h2><table class="errors"><thead><tr><th>code</th><th>results</th><th>examples</th></tr></thead><tbody>
${rows}
</tbody></table></section>`
}

/** uPlot, the data as JSON and the chart code; `data-charts` on <body> says how many were drawn. */
function scripts(series: ReportSeries, uplot: string): string {
  // '<' escaped: a "</script>" inside a value cannot end the script element.
  const data = JSON.stringify(series).replace(/</g, '\\u003c')
  return `<script>${uplot}</script>
<script>
const series = ${data};
const drawCharts = ${drawCharts.toString()};
document.body.dataset.charts = String(drawCharts(series, uPlot, document));
</script>`
}

function spanText(c: ReportContent): string {
  if (!c.series) return ''
  const from = new Date(c.series.t[0]! * 1000).toISOString()
  return ` · from ${esc(from)} for ${esc(formatMs(c.figures.durationMs ?? 0))}`
}

/** Text into HTML (element content and quoted attribute values). */
function esc(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)
}

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; margin: 24px auto; max-width: 1200px; padding: 0 16px; }
h1 { font-size: 22px; margin: 0; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; } h3 { font-size: 14px; margin: 18px 0 2px; }
.meta, .note { color: #666; margin: 4px 0; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(130px, 1fr)); gap: 8px; }
.figure { background: #f6f8fa; border-radius: 6px; padding: 8px 10px; }
.figure .label { display: block; color: #666; font-size: 12px; } .figure .value { font-size: 18px; font-weight: 600; }
table { border-collapse: collapse; margin-top: 10px; } th, td { text-align: left; padding: 3px 10px; border-bottom: 1px solid #eee; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; } td ul { margin: 0; padding-left: 16px; }
.chart { width: 100%; min-height: 240px; }
`
