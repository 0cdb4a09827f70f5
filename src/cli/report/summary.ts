import { formatMs, throughput } from './format.js'
import type { Budget } from './costs.js'
import type { RunStats } from './stats.js'

/** The end-of-run report; `--json` prints this object as one JSON line. */
export interface Summary {
  exitCode: number
  ok: number
  failed: number
  /** Lines of this job not in the output: cancelled by a stop, unwritten, or never read (a file's; stdin's are not counted). --resume runs them. */
  notRun: number
  /** Already in the output before this run (--resume). */
  previouslyDone: number
  previouslyFailed: number
  /** --paginate only: `ok`, `failed`, `notRun` and the previous counts are lists; these, what this run wrote. */
  pages?: { pages: number; items: number }
  elapsedMs: number
  perSecond: number
  latencyMs: { p50: number; p90: number; p99: number; max: number }
  statuses: Record<string, number>
  retries: number
  rateLimited: number
  pausedMs: number
  /** Only when a request had a cost in another unit than requests, or such a budget was in force. */
  costs?: {
    /** Per unit, the estimated cost of the requests sent: their lines' `cost` (or --cost-field), once each. */
    estimated: Record<string, number>
    /** Tokens the responses' `usage` reported, summed; null when no response reported any. */
    usageTokens: number | null
    /** Budgets in other units than requests in force at the end: given (--rate) or learned. */
    budgets: Budget[]
  }
  out: string
  interrupted: boolean
  stopped: string | undefined
}

export function summarize(
  stats: RunStats,
  extra: { exitCode: number; out: string; interrupted: boolean; stopped: string | undefined },
): Summary {
  return {
    ...extra,
    ok: stats.ok,
    failed: stats.failed,
    notRun: stats.notRun,
    previouslyDone: stats.previouslyDone,
    previouslyFailed: stats.previouslyFailed,
    ...(stats.paginated ? { pages: { pages: stats.pages, items: stats.items } } : {}),
    elapsedMs: Math.round(stats.elapsedMs()),
    perSecond: Math.round(throughput(stats) * 10) / 10,
    latencyMs: {
      p50: stats.percentile(50),
      p90: stats.percentile(90),
      p99: stats.percentile(99),
      max: stats.maxLatency(),
    },
    statuses: Object.fromEntries([...stats.statuses].sort(([a], [b]) => a.localeCompare(b))),
    retries: stats.retries,
    rateLimited: stats.rateLimited,
    pausedMs: Math.round(stats.pausedMs),
    ...(stats.costs.tracking ? { costs: costsOf(stats) } : {}),
    out: extra.out,
  }
}

function costsOf({ costs }: RunStats): NonNullable<Summary['costs']> {
  const estimated = Object.fromEntries(
    [...costs.estimated].map(([unit, amount]) => [unit, Math.round(amount)] as const),
  )
  return { estimated, usageTokens: costs.reportedTokens ?? null, budgets: costs.inForce }
}

/** The summary for humans: a few short lines. */
export function formatSummary(s: Summary): string {
  const total = s.ok + s.failed
  const what = s.pages ? 'list' : 'request'
  const lines = [
    `volley: ${total} ${what}${total === 1 ? '' : 's'} in ${formatMs(s.elapsedMs)} (${s.perSecond}/s): ${s.ok} ok, ${s.failed} failed${s.notRun ? `, ${s.notRun} not run` : ''}${s.previouslyDone ? ` (+${s.previouslyDone} done before, ${s.previouslyFailed} of them failed)` : ''}`,
  ]
  if (total > 0) {
    const l = s.latencyMs
    lines.push(`  latency   p50 ${l.p50}ms · p90 ${l.p90}ms · p99 ${l.p99}ms · max ${l.max}ms`)
    const statuses = Object.entries(s.statuses).map(([status, n]) => `${status} ×${n}`)
    lines.push(`  statuses  ${statuses.join(', ')}`)
  }
  if (s.pages) lines.push(`  pages     ${s.pages.pages} written, ${s.pages.items} items`)
  lines.push(`  retries ${s.retries} · 429s ${s.rateLimited} · paused by the server ${formatMs(s.pausedMs)}`)
  if (s.costs) lines.push(`  tokens    ${costsText(s.costs)}`)
  lines.push(`  output    ${s.out}`)
  if (s.stopped) lines.push(`  stopped   ${s.stopped}`)
  return lines.join('\n')
}

/** "41200 estimated (the lines' costs) · 35210 used per the responses' usage · budget 3000 tokens/1.0s (learned)". */
function costsText(costs: NonNullable<Summary['costs']>): string {
  // The line says tokens: other units are named.
  const estimated = Object.entries(costs.estimated).map(([unit, n]) =>
    unit === 'tokens' ? `${n}` : `${n} ${unit}`,
  )
  const parts = [
    estimated.length > 0
      ? `${estimated.join(' + ')} estimated (the lines' costs)`
      : "none estimated: no line gave its cost ('cost' in the line, or --cost-field)",
  ]
  if (costs.usageTokens !== null) parts.push(`${costs.usageTokens} used per the responses' usage`)
  for (const b of costs.budgets)
    parts.push(`budget ${b.limit} ${b.unit}/${formatMs(b.interval)} (${b.source})`)
  return parts.join(' · ')
}
