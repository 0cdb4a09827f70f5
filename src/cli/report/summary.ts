import { formatMs, throughput } from './format.js'
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
  elapsedMs: number
  perSecond: number
  latencyMs: { p50: number; p90: number; p99: number; max: number }
  statuses: Record<string, number>
  retries: number
  rateLimited: number
  pausedMs: number
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
    out: extra.out,
  }
}

/** The summary for humans: a few short lines. */
export function formatSummary(s: Summary): string {
  const total = s.ok + s.failed
  const lines = [
    `volley: ${total} request${total === 1 ? '' : 's'} in ${formatMs(s.elapsedMs)} (${s.perSecond}/s): ${s.ok} ok, ${s.failed} failed${s.notRun ? `, ${s.notRun} not run` : ''}${s.previouslyDone ? ` (+${s.previouslyDone} done before, ${s.previouslyFailed} of them failed)` : ''}`,
  ]
  if (total > 0) {
    const l = s.latencyMs
    lines.push(`  latency   p50 ${l.p50}ms · p90 ${l.p90}ms · p99 ${l.p99}ms · max ${l.max}ms`)
    const statuses = Object.entries(s.statuses).map(([status, n]) => `${status} ×${n}`)
    lines.push(`  statuses  ${statuses.join(', ')}`)
  }
  lines.push(`  retries ${s.retries} · 429s ${s.rateLimited} · paused by the server ${formatMs(s.pausedMs)}`)
  lines.push(`  output    ${s.out}`)
  if (s.stopped) lines.push(`  stopped   ${s.stopped}`)
  return lines.join('\n')
}
