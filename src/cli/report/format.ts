import type { RunStats } from './stats.js'

/** '850ms', '12.3s', '4m05s', '1h02m'. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`
  const s = Math.round(ms / 1000)
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}

/** Requests per second finished by this run so far. */
export function throughput(stats: RunStats): number {
  const s = stats.elapsedMs() / 1000
  return s > 0 ? stats.done / s : 0
}

/** What is left over the current throughput, when the total is known and things are moving. */
export function eta(stats: RunStats): string {
  const rate = throughput(stats)
  if (stats.total === undefined || rate === 0) return '?'
  const left = Math.max(0, stats.total - stats.previouslyDone - stats.done)
  return formatMs((left / rate) * 1000)
}

/** The progress line shared by the TTY bar and the plain reporter. */
export function progressText(stats: RunStats): string {
  const done = stats.previouslyDone + stats.done
  const of = stats.total !== undefined ? `/${stats.total}` : ''
  const pct = stats.total ? ` (${Math.floor((done / stats.total) * 100)}%)` : ''
  const pause = stats.pauseLeft()
  // While the server holds us, say so and until when: "in flight" and a growing ETA would mislead.
  const state = pause
    ? `paused by the server until ${pause.endsAt.toTimeString().slice(0, 8)} (${formatMs(pause.ms)} more)`
    : `in flight ${stats.active}`
  return [
    `${done}${of}${pct}`,
    `${throughput(stats).toFixed(1)}/s`,
    `ETA ${eta(stats)}`,
    `ok ${stats.ok}`,
    `failed ${stats.failed}`,
    `retries ${stats.retries}`,
    `429s ${stats.rateLimited}`,
    state,
  ].join(' · ')
}
