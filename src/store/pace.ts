import type { ResolvedRate } from '../limit/units.js'

/**
 * Pacing (LimitPolicy.smooth), the same in every store: each rate keeps a schedule, the earliest
 * time of its next start, which each start of `cost` moves on by `cost` spacings (a GCRA with no
 * burst). A start waits for the schedule of every rate as well as for every window.
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
 * Ms between two paced starts of one unit of cost each, for one rate: rounded up to a whole
 * microsecond, the Redis scripts' unit, so that every store paces alike.
 */
export function paceSpacing(rate: ResolvedRate, rateMargin: number): number {
  return Math.ceil(Math.round((rate.interval + rateMargin) * 1000) / rate.limit) / 1000
}

/**
 * The schedule after a start of `cost` at `now`, given the schedule it waited for; on whole
 * microseconds like the Redis scripts' (a sum of fractional spacings would drift by float noise).
 */
export function nextPace(scheduled: number, now: number, cost: number, spacing: number): number {
  const base = now - scheduled >= CATCH_UP * spacing ? now : scheduled
  return Math.round((base + cost * spacing) * 1000) / 1000
}
