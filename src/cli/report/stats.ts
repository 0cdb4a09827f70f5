import hdr from 'hdr-histogram-js'
import type { Clock } from '../../limit/clock.js'
import type { ResultRecord } from '../output/record.js'
import { CostTally } from './costs.js'

/** Counters of one run, fed by results and the client's events; read by the reporters and the summary. */
export class RunStats {
  readonly #clock: Clock
  readonly #started: number
  /** Input requests expected in all (this shard), when known: for the bar's total and the ETA. */
  total: number | undefined
  /** Results already in the output before this run (--resume). */
  previouslyDone = 0
  /** Of those, the failed ones (the exit code counts them: the output as a whole is what it reports on). */
  previouslyFailed = 0
  /** --paginate: `ok` and `failed` count lists (ended this run); these, the pages and items written. */
  paginated = false
  pages = 0
  items = 0
  ok = 0
  failed = 0
  /** Lines of this job not in the output when the run ends (set then): --resume runs them. */
  notRun = 0
  /** Requests handed to the client and not settled yet (queued in the limiter or in flight). */
  active = 0
  retries = 0
  rateLimited = 0
  readonly statuses = new Map<string, number>()
  /** Tokens (and other units) the requests cost, and the budgets in force. */
  readonly costs = new CostTally()
  readonly #latency = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000,
    numberOfSignificantValueDigits: 3,
  })
  /** Paused time of the pauses before the current one; the current one runs from #pauseFrom. */
  #pausedBefore = 0
  #pauseFrom = 0
  #pausedUntil = 0

  constructor(clock: Clock) {
    this.#clock = clock
    this.#started = clock.now()
  }

  get done(): number {
    return this.ok + this.failed
  }

  elapsedMs(): number {
    return this.#clock.now() - this.#started
  }

  result(record: ResultRecord): void {
    if (record.ok) this.ok++
    else this.failed++
    const key = record.status !== null ? String(record.status) : record.error!.code
    this.statuses.set(key, (this.statuses.get(key) ?? 0) + 1)
  }

  /**
   * One attempt's answer time, from sending to the end of the body: the server's latency, not the
   * time spent queued for the rate limit or backing off (a result's `ms` includes those).
   */
  attempt(ms: number): void {
    this.#latency.recordValue(Math.min(Math.max(1, Math.round(ms)), 3_600_000))
  }

  /** The server paused us for `ms` from now; a pause that overlaps the current one extends it. */
  pause(ms: number): void {
    const now = this.#clock.now()
    const until = now + ms
    if (now >= this.#pausedUntil) {
      this.#pausedBefore += this.#pausedUntil - this.#pauseFrom
      this.#pauseFrom = now
    }
    this.#pausedUntil = Math.max(this.#pausedUntil, until)
  }

  /** Ms during which the server has paused us so far (overlapping pauses counted once, none ahead). */
  get pausedMs(): number {
    return this.#pausedBefore + Math.max(0, Math.min(this.#clock.now(), this.#pausedUntil) - this.#pauseFrom)
  }

  /** Ms until the current pause ends (0 when not paused), and its end as wall time. */
  pauseLeft(): { ms: number; endsAt: Date } | undefined {
    const left = this.#pausedUntil - this.#clock.now()
    return left > 0 ? { ms: left, endsAt: new Date(this.#clock.wallTime() + left) } : undefined
  }

  percentile(p: number): number {
    return this.#latency.totalCount === 0 ? 0 : this.#latency.getValueAtPercentile(p)
  }

  maxLatency(): number {
    return this.#latency.totalCount === 0 ? 0 : this.#latency.maxValue
  }
}
