/**
 * Turning measurements into markdown: the figures table, volley's ratios against every other
 * contender, and the issue's targets checked against the medians.
 *
 * @typedef {import('./stats.js').Summary} Summary
 * @typedef {{ key: string, label: string, digits?: number }} Column
 * @typedef {{ key: string, label: string, better: 'higher' | 'lower' }} RatioMetric
 * @typedef {{ label: string, contender: string, scenario?: string, key: string,
 *   stat?: 'median' | 'min' | 'max', atMost?: number,
 *   atLeast?: number | { contender: string, times?: number } }} Target at least a number, or
 *   `times` (default 1) another contender's median
 * @typedef {Map<string, Map<string, Summary | undefined>>} Summaries contender -> key -> summary
 */
import { formatNumber, formatRatio, formatSummary, markdownTable } from './format.js'
import { summarize } from './stats.js'

/**
 * @param {{ contender: string, result: Record<string, any> }[]} measurements of one scenario
 * @param {string[]} keys
 * @returns {Summaries}
 */
export function summarizeByContender(measurements, keys) {
  /** @type {Summaries} */
  const summaries = new Map()
  for (const name of new Set(measurements.map((m) => m.contender))) {
    const mine = measurements.filter((m) => m.contender === name && !m.result.failed)
    summaries.set(name, new Map(keys.map((key) => [key, summarize(mine.map((m) => m.result[key]))])))
  }
  return summaries
}

/** One row per contender, one column per figure, plus failed runs when there were any. */
export function figuresTable(summaries, columns, failures) {
  const anyFailed = [...failures.values()].some((n) => n > 0)
  const headers = ['contender', ...columns.map((c) => c.label), ...(anyFailed ? ['failed runs'] : [])]
  const rows = [...summaries].map(([name, byKey]) => [
    name,
    ...columns.map((c) => formatSummary(byKey.get(c.key), c.digits ?? 0)),
    ...(anyFailed ? [String(failures.get(name) ?? 0)] : []),
  ])
  return markdownTable(headers, rows)
}

/**
 * volley ÷ each other contender, on medians: one row per volley contender and metric.
 * @param {Summaries} summaries @param {string[]} volley @param {string[]} others @param {RatioMetric[]} metrics
 */
export function ratioTable(summaries, volley, others, metrics) {
  const headers = ['volley ÷', ...others]
  const rows = volley.flatMap((mine) =>
    metrics.map((metric) => [
      `${mine}: ${metric.label} (${metric.better} is better)`,
      ...others.map((other) => {
        const a = summaries.get(mine)?.get(metric.key)?.median
        const b = summaries.get(other)?.get(metric.key)?.median
        return a === undefined || b === undefined ? '—' : formatRatio(a / b)
      }),
    ]),
  )
  return markdownTable(headers, rows)
}

/**
 * volley ÷ its `--baseline` build, on medians: one row per pair, one column per metric.
 * @param {Summaries} summaries @param {[string, string][]} pairs @param {RatioMetric[]} metrics
 */
export function baselineTable(summaries, pairs, metrics) {
  const headers = ['volley ÷ baseline', ...metrics.map((m) => `${m.label} (${m.better} is better)`)]
  const rows = pairs.map(([now, before]) => [
    now,
    ...metrics.map((metric) => {
      const a = summaries.get(now)?.get(metric.key)?.median
      const b = summaries.get(before)?.get(metric.key)?.median
      return a === undefined || b === undefined ? '—' : formatRatio(a / b)
    }),
  ])
  return markdownTable(headers, rows)
}

/** `median` scaled by `factor` (1 when unset), or undefined when not measured. */
function times(median, factor = 1) {
  return median === undefined ? undefined : median * factor
}

/** "- PASS volley-all tasks/s: median 3,000,000 >= 2,000,000" lines. @param {Target[]} targets */
export function targetLines(summaries, targets) {
  return targets.map((target) => {
    const stat = target.stat ?? 'median'
    const value = summaries.get(target.contender)?.get(target.key)?.[stat]
    const bound =
      typeof target.atLeast === 'object'
        ? times(summaries.get(target.atLeast.contender)?.get(target.key)?.median, target.atLeast.times)
        : (target.atLeast ?? target.atMost)
    if (value === undefined || bound === undefined) return `- NOT MEASURED ${target.label}`
    const pass = target.atLeast !== undefined ? value >= bound : value <= bound
    const op = target.atLeast !== undefined ? '>=' : '<='
    const factor = typeof target.atLeast === 'object' ? (target.atLeast.times ?? 1) : 1
    const of =
      typeof target.atLeast === 'object'
        ? ` (${factor === 1 ? '' : `${factor} × `}${target.atLeast.contender} median)`
        : ''
    const digits = Math.abs(value) < 100 ? 1 : 0
    return `- ${pass ? 'PASS' : 'FAIL'} ${target.label}: ${stat} ${formatNumber(value, digits)} ${op} ${formatNumber(bound, digits)}${of}`
  })
}
