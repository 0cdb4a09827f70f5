import { Buckets, Occupancy } from './buckets.js'
import { LatencyHistogram } from './histogram.js'
import { type LiveEvents, startsPerSecond } from './live.js'
import { attemptsOf, type ReportRecord } from './records.js'

/** What an attempt's answer was, as the statuses chart groups them. */
export const ANSWER_CLASSES = ['2xx', '3xx', '4xx', '429', '5xx', 'errors'] as const
export type AnswerClass = (typeof ANSWER_CLASSES)[number]

/** The report's time series, one value per bucket; rates per second, nulls where nothing happened. */
export interface ReportSeries {
  /** Each bucket's start, epoch seconds. */
  t: number[]
  widthMs: number
  /** New requests per second (by their start). */
  requests: number[]
  /** Attempts sent per second (past the limiter): what a rate limit counts. */
  sent: number[]
  /** Of those, retries (attempts after a request's first). */
  retries: number[]
  /** Attempts answered 429 per second (by their answer's end). */
  refused: number[]
  /** Mean attempts in flight (sent, not answered) and waiting at the limiter. */
  inFlight: number[]
  waiting: number[]
  /** Attempt latency percentiles of the attempts sent in the bucket, ms. */
  p50: (number | null)[]
  p90: (number | null)[]
  p99: (number | null)[]
  /** Answers per second by class (by their end). */
  answers: Record<AnswerClass, number[]>
  /** Share of the bucket some origin was paused by the server (live runs only). */
  paused: number[] | undefined
  /** The limit in force, starts per second: given (--rate), learned (sum over origins of each one's tightest). */
  given: number | undefined
  learned: (number | null)[] | undefined
}

/**
 * Aggregates records into time buckets as they are read (second pass over the file, once the span
 * is known): memory is the buckets, whatever the number of records.
 */
export class Timeline {
  readonly #buckets: Buckets
  readonly #requests: Float64Array
  readonly #sent: Float64Array
  readonly #retries: Float64Array
  readonly #refused: Float64Array
  readonly #answers: Record<AnswerClass, Float64Array>
  readonly #inFlight: Occupancy
  readonly #waiting: Occupancy
  /** One per bucket, made when the bucket's first attempt is sent. */
  readonly #latency: (LatencyHistogram | undefined)[]

  constructor(span: { from: number; to: number }) {
    const buckets = new Buckets(span)
    this.#buckets = buckets
    const zeros = () => new Float64Array(buckets.count)
    this.#requests = zeros()
    this.#sent = zeros()
    this.#retries = zeros()
    this.#refused = zeros()
    this.#answers = Object.fromEntries(ANSWER_CLASSES.map((c) => [c, zeros()])) as Record<
      AnswerClass,
      Float64Array
    >
    this.#inFlight = new Occupancy(buckets)
    this.#waiting = new Occupancy(buckets)
    this.#latency = new Array<LatencyHistogram | undefined>(buckets.count)
  }

  add(record: ReportRecord): void {
    const attempts = attemptsOf(record)
    if (attempts === undefined) return
    const b = this.#buckets
    this.#requests[b.of(record.start!)]!++
    attempts.forEach((a, i) => {
      const sent = a.at + a.wait
      const end = sent + a.ms
      const at = b.of(sent)
      this.#sent[at]!++
      if (i > 0) this.#retries[at]!++
      this.#waiting.add(a.at, sent)
      this.#inFlight.add(sent, end)
      ;(this.#latency[at] ??= new LatencyHistogram()).record(a.ms)
      this.#answers[answerClass(a.status)][b.of(end)]!++
      if (a.status === 429) this.#refused[b.of(end)]!++
    })
  }

  series(live: LiveEvents | undefined, given: number | undefined): ReportSeries {
    const b = this.#buckets
    const perSecond = (counts: Float64Array) => Array.from(counts, (n) => round((n * 1000) / b.width))
    const percentile = (p: number) => Array.from(this.#latency, (h) => (h ? h.percentile(p) : null))
    return {
      t: b.starts(),
      widthMs: b.width,
      requests: perSecond(this.#requests),
      sent: perSecond(this.#sent),
      retries: perSecond(this.#retries),
      refused: perSecond(this.#refused),
      inFlight: this.#inFlight.means().map(round),
      waiting: this.#waiting.means().map(round),
      p50: percentile(50),
      p90: percentile(90),
      p99: percentile(99),
      answers: Object.fromEntries(ANSWER_CLASSES.map((c) => [c, perSecond(this.#answers[c])])) as Record<
        AnswerClass,
        number[]
      >,
      paused: live && live.pauses.length > 0 ? this.#paused(live) : undefined,
      given,
      learned: live && live.quotas.length > 0 ? this.#learned(live) : undefined,
    }
  }

  #paused(live: LiveEvents): number[] {
    const paused = new Occupancy(this.#buckets)
    for (const p of live.pauses) paused.add(p.at, p.at + p.ms)
    // Two origins paused at once are not "twice paused": the share is of the bucket.
    return paused.means().map((share) => round(Math.min(1, share)))
  }

  /** At each bucket's end, the sum over origins of the tightest request rate learned so far. */
  #learned(live: LiveEvents): (number | null)[] {
    const b = this.#buckets
    const quotas = [...live.quotas].sort((x, y) => x.at - y.at)
    const byOrigin = new Map<string, number>()
    const out: (number | null)[] = []
    let next = 0
    for (let i = 0; i < b.count; i++) {
      const end = b.from + (i + 1) * b.width
      for (; next < quotas.length && quotas[next]!.at < end; next++) {
        const q = quotas[next]!
        const perSecond = startsPerSecond(q.rates)
        if (perSecond === undefined) byOrigin.delete(q.origin)
        else byOrigin.set(q.origin, perSecond)
      }
      out.push(byOrigin.size === 0 ? null : round([...byOrigin.values()].reduce((s, v) => s + v, 0)))
    }
    return out
  }
}

export function answerClass(status: number | undefined): AnswerClass {
  if (status === undefined) return 'errors'
  if (status === 429) return '429'
  if (status >= 500) return '5xx'
  if (status >= 400) return '4xx'
  if (status >= 300) return '3xx'
  return '2xx'
}

/** Two decimals: the page inlines every value, and more digits are noise. */
function round(n: number): number {
  return Math.round(n * 100) / 100
}
