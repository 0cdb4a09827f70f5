import { redactText } from '../../../redact.js'
import { LatencyHistogram } from './histogram.js'
import { attemptsOf, type ReportRecord } from './records.js'

/** A few lines of one error code, to show what it looked like. */
export interface ErrorExample {
  id: string | number
  index: number
  message: string
}

export interface ErrorGroup {
  code: string
  count: number
  examples: ErrorExample[]
}

/** The figures at the top of the report: what the results file holds, counted. */
export interface ReportFigures {
  total: number
  ok: number
  failed: number
  /** Results by final status, or by error code when there was none (as the terminal summary counts them). */
  statuses: Record<string, number>
  attempts: number
  /** Attempts after each request's first. */
  retries: number
  /** Attempts answered 429 (with per-attempt timings; else results whose final status is 429). */
  rateLimited: number
  /** From the first request's start to the last answer; undefined without start times. */
  durationMs: number | undefined
  /** Requests finished per second over `durationMs`. */
  perSecond: number | undefined
  /** Per attempt when the file has per-attempt timings, else each request's `ms` (waits included). */
  latency: { p50: number; p90: number; p99: number; max: number; of: 'attempts' | 'requests' }
  /** Lines that are not results (a torn last line, a line too long to read). */
  unreadable: number
  /** Results without a start time: counted here, not on the time axis. */
  withoutStart: number
}

/** Examples kept per error code, codes kept, statuses kept, characters of a message: a page to read, not a log. */
const EXAMPLES = 3
const GROUPS = 40
const STATUSES = 200
const MESSAGE_CHARS = 300

/**
 * Counts a results file, one record at a time, in bounded memory: the summary figures, the errors
 * by code with a few examples (their messages redacted again with this run's secrets, if given),
 * and the span of time the run covered (for the time buckets).
 */
export class ResultsTally {
  readonly #secrets: readonly string[]
  readonly #statuses = new Map<string, number>()
  readonly #errors = new Map<string, ErrorGroup>()
  readonly #latency = new LatencyHistogram()
  #total = 0
  #ok = 0
  #attempts = 0
  #retries = 0
  #rateLimited = 0
  #withTries = 0
  #unreadable = 0
  #withoutStart = 0
  #from = Infinity
  #to = -Infinity

  constructor(secrets: readonly string[] = []) {
    this.#secrets = secrets
  }

  unreadable(): void {
    this.#unreadable++
  }

  add(record: ReportRecord): void {
    this.#total++
    if (record.ok) this.#ok++
    let key = record.status !== null ? String(record.status) : (record.error?.code ?? 'ERROR')
    if (!this.#statuses.has(key) && this.#statuses.size >= STATUSES) key = 'OTHER'
    this.#statuses.set(key, (this.#statuses.get(key) ?? 0) + 1)
    this.#attempts += record.attempts
    this.#retries += Math.max(0, record.attempts - 1)
    if (!record.ok) this.#error(record)
    const attempts = attemptsOf(record)
    if (attempts === undefined) this.#withoutStart++
    else {
      this.#from = Math.min(this.#from, record.start!)
      for (const a of attempts) this.#to = Math.max(this.#to, a.at + a.wait + a.ms)
      this.#to = Math.max(this.#to, record.start! + record.ms)
    }
    if (Array.isArray(record.tries) && record.tries.length > 0) {
      this.#withTries++
      for (const t of attempts ?? []) {
        this.#latency.record(t.ms)
        if (t.status === 429) this.#rateLimited++
      }
    } else {
      this.#latency.record(record.ms)
      if (record.status === 429) this.#rateLimited++
    }
  }

  /** The first start and the last answer's end (epoch ms), or undefined when no record has a start. */
  span(): { from: number; to: number } | undefined {
    return this.#from <= this.#to ? { from: this.#from, to: this.#to } : undefined
  }

  figures(): ReportFigures {
    const span = this.span()
    const durationMs = span && span.to - span.from
    const l = this.#latency
    return {
      total: this.#total,
      ok: this.#ok,
      failed: this.#total - this.#ok,
      statuses: Object.fromEntries([...this.#statuses].sort(([a], [b]) => a.localeCompare(b))),
      attempts: this.#attempts,
      retries: this.#retries,
      rateLimited: this.#rateLimited,
      durationMs,
      perSecond: durationMs ? Math.round((this.#total / durationMs) * 10_000) / 10 : undefined,
      latency: {
        p50: l.percentile(50),
        p90: l.percentile(90),
        p99: l.percentile(99),
        max: l.max,
        of: this.#withTries > 0 ? 'attempts' : 'requests',
      },
      unreadable: this.#unreadable,
      withoutStart: this.#withoutStart,
    }
  }

  /** Error codes, most frequent first. */
  errors(): ErrorGroup[] {
    return [...this.#errors.values()].sort((a, b) => b.count - a.count || a.code.localeCompare(b.code))
  }

  #error(record: ReportRecord): void {
    const code = record.error?.code ?? 'ERROR'
    let group = this.#errors.get(code)
    if (group === undefined) {
      // Past GROUPS codes, the rest share one group: a file of made-up codes cannot grow the page.
      if (this.#errors.size >= GROUPS && code !== 'OTHER')
        return this.#error({ ...record, error: { code: 'OTHER', message: '' } })
      group = { code, count: 0, examples: [] }
      this.#errors.set(code, group)
    }
    group.count++
    if (group.examples.length < EXAMPLES && record.error?.message) {
      // Redacted whole, then cut: a secret cut in two would no longer be found.
      const message = cut(redactText(String(record.error.message), this.#secrets))
      group.examples.push({
        id: typeof record.id === 'string' ? cut(record.id) : record.id,
        index: record.index,
        message,
      })
    }
  }
}

function cut(text: string): string {
  return text.length > MESSAGE_CHARS ? `${text.slice(0, MESSAGE_CHARS)}…` : text
}
