import type { Clock } from '../../src/limit/clock.js'

/** Resolves after `ms` of the given clock's time. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimer(resolve, ms))
}

/**
 * Differences below this are float noise, not time: paced starts fall on fractional ms (whole
 * microseconds such as 3.6 are not exact binary fractions), so a tester's b - a and a store's
 * a + interval - b can round differently.
 */
const FLOAT_NOISE_MS = 1e-9

/** The most starts inside any half-open window [t, t + interval) of the sorted start times. */
export function maxInWindow(starts: readonly number[], interval: number): number {
  let best = 0
  let first = 0
  for (let last = 0; last < starts.length; last++) {
    while (starts[last]! - starts[first]! >= interval - FLOAT_NOISE_MS) first++
    best = Math.max(best, last - first + 1)
  }
  return best
}

/**
 * How far paced starts ran ahead of their schedule: the most, over every pair of starts i < j, of
 * the units started from i up to (not including) j minus the spacings between them. Pacing with
 * catch-up keeps this under CATCH_UP; strict spacing keeps it at or under 0.
 */
export function paceExcess(starts: readonly { at: number; cost: number }[], spacing: number): number {
  let most = Number.NEGATIVE_INFINITY
  for (let i = 0; i < starts.length; i++) {
    let units = 0
    for (let j = i + 1; j < starts.length; j++) {
      units += starts[j - 1]!.cost
      most = Math.max(most, units - (starts[j]!.at - starts[i]!.at + FLOAT_NOISE_MS) / spacing)
    }
  }
  return most
}
