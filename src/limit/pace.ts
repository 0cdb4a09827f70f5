import { type Cost, costIn } from './cost.js'
import type { ResolvedRate } from './units.js'
import type { LimitPolicy } from './store.js'

/**
 * Pacing (LimitPolicy.smooth), the same in every store (the Redis scripts follow these rules): each
 * rate keeps a schedule, the earliest time of its next start, which each start of `cost` moves on
 * by `cost` spacings (a GCRA with no burst). A start waits for the schedule of every paced rate as
 * well as for every window.
 */

/**
 * How many spacings late a start may be and still advance the schedule from where it was, not from
 * now. Timer, event-loop and round-trip delays would otherwise add up at every start and cost
 * throughput; the next start may then come sooner, by as much as this one was late. Later than
 * that (idle, or stalled), the schedule starts again from now. With 1, no two starts ever happen at
 * once: pacing stays strict enough that the API never sees a burst (a larger catch-up let bursts of
 * several through after a stall, and a loaded machine then showed the API N+1 in a window).
 */
export const CATCH_UP = 1

/**
 * Rates whose window (plus margin) is longer than this are not paced: a daily quota paced evenly
 * would space starts minutes apart, which is not what anyone asking for smoothness wants.
 */
export const LONGEST_PACED_WINDOW_MS = 60_000

/**
 * Ms between two paced starts of one unit of cost each, for one rate, or 0 when the rate is not
 * paced. Rounded up to a whole microsecond, the Redis scripts' unit, so that every store paces alike.
 */
export function paceSpacing(rate: ResolvedRate, rateMargin: number): number {
  const window = rate.interval + rateMargin
  if (window > LONGEST_PACED_WINDOW_MS) return 0
  return Math.ceil(Math.round(window * 1000) / rate.limit) / 1000
}

/** `at` plus `cost` spacings, on a whole microsecond like the Redis scripts' times. */
function after(at: number, cost: number, spacing: number): number {
  return Math.round((at + cost * spacing) * 1000) / 1000
}

/** Whether a start at `now` catches up with the schedule it waited for (less than CATCH_UP spacings late). */
function catchesUp(scheduled: number | undefined, now: number, spacing: number): scheduled is number {
  return scheduled !== undefined && now - scheduled < CATCH_UP * spacing
}

/** The schedule after a start of `cost` at `now`, given the schedule it waited for (if any). */
export function nextPace(scheduled: number | undefined, now: number, cost: number, spacing: number): number {
  return after(catchesUp(scheduled, now, spacing) ? scheduled : now, cost, spacing)
}

/** A rate's name in a schedule: rates keep their schedule across setRate, like their windows. */
export function rateName(rate: ResolvedRate): string {
  return `${rate.limit}/${rate.interval}${rate.unit === undefined ? '' : `/${rate.unit}`}`
}

/** The pace schedules of one key, in memory. */
export class PaceSchedules {
  /** Per rate (by name) of the last paced start, the earliest time of its next start. */
  readonly #next = new Map<string, number>()
  /**
   * The last paced start and its cost: a rate without a schedule yet (a new rate from setRate, a
   * learned quota) starts its schedule after it instead of allowing a start at once. `catchUpUntil`:
   * until when it still catches up with the schedule of every paced rate (see `restamp`); -Infinity
   * when it did not catch up with one at least.
   */
  #last: { at: number; cost: Cost; catchUpUntil: number } | undefined

  /** Ms until every paced rate's schedule allows a start (0: now). */
  wait(policy: LimitPolicy, now: number): number {
    let wait = 0
    for (const rate of policy.rates) {
      const spacing = paceSpacing(rate, policy.rateMargin)
      if (spacing === 0) continue
      const scheduled = this.#scheduled(rate, spacing)
      if (scheduled !== undefined && scheduled - now > wait) wait = scheduled - now
    }
    return wait
  }

  /** Moves every paced rate's schedule on by a start of `cost` (in each rate's unit) at `now`. */
  record(policy: LimitPolicy, cost: Cost, now: number): void {
    const next: [string, number][] = []
    let catchUpUntil = Number.POSITIVE_INFINITY
    for (const rate of policy.rates) {
      const spacing = paceSpacing(rate, policy.rateMargin)
      if (spacing === 0) continue
      const scheduled = this.#scheduled(rate, spacing)
      next.push([rateName(rate), nextPace(scheduled, now, costIn(cost, rate), spacing)])
      const until = catchesUp(scheduled, now, spacing)
        ? scheduled + CATCH_UP * spacing
        : Number.NEGATIVE_INFINITY
      catchUpUntil = Math.min(catchUpUntil, until)
    }
    if (next.length === 0) return
    // Only this start's rates keep a schedule: another rate (after setRate) starts again after it.
    this.#next.clear()
    for (const [name, scheduled] of next) this.#next.set(name, scheduled)
    this.#last = { at: now, cost, catchUpUntil }
  }

  /**
   * A start decided at `since` really began at `now`. The last paced start, sent while it still
   * caught up with the schedules it waited for (before `catchUpUntil`), leaves them as they are, as
   * a start decided then would have: otherwise each start's few ms between its turn and its send
   * would add up and slow the pace. Sent later, or an earlier start sent after it, every schedule
   * moves with it.
   */
  restamp(since: number, now: number): void {
    if (this.#last === undefined || this.#last.at < since) return
    if (this.#last.at === since && now < this.#last.catchUpUntil) return
    const shift = now - this.#last.at
    this.#last = { at: now, cost: this.#last.cost, catchUpUntil: Number.NEGATIVE_INFINITY }
    for (const [name, scheduled] of this.#next) this.#next.set(name, scheduled + shift)
  }

  #scheduled(rate: ResolvedRate, spacing: number): number | undefined {
    const scheduled = this.#next.get(rateName(rate))
    if (scheduled !== undefined || this.#last === undefined) return scheduled
    return after(this.#last.at, costIn(this.#last.cost, rate), spacing)
  }
}
