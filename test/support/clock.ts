import type { Clock } from '../../src/limit/clock.js'

/** Resolves after `ms` of the given clock's time. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimer(resolve, ms))
}

/** The most starts inside any half-open window [t, t + interval) of the sorted start times. */
export function maxInWindow(starts: readonly number[], interval: number): number {
  let best = 0
  let first = 0
  for (let last = 0; last < starts.length; last++) {
    while (starts[last]! - starts[first]! >= interval) first++
    best = Math.max(best, last - first + 1)
  }
  return best
}
