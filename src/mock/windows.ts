import type { ResolvedRate } from '../limit/units.js'
import { TimeDeque } from './time-deque.js'

/**
 * Exact sliding-window admission for one rate: at most `limit` admitted starts in any half-open
 * window [a, a + interval). A start at `s` still counts at `now` while s > now - interval, so a
 * new start is admitted exactly when fewer than `limit` starts are that recent. No fixed buckets:
 * those would let 2 x limit through across a bucket edge.
 */
export class RateWindow {
  readonly rate: ResolvedRate
  readonly #starts = new TimeDeque()

  constructor(rate: ResolvedRate) {
    this.rate = rate
  }

  /** Starts that would still be admitted at `now`. */
  remaining(now: number): number {
    this.#expire(now)
    return this.rate.limit - this.#starts.size
  }

  /**
   * Ms from `now` until the oldest counted start leaves the window (so `remaining` goes up by one);
   * 0 when nothing is counted. When the window is full this is the wait before the next admission.
   */
  nextFreeIn(now: number): number {
    this.#expire(now)
    const oldest = this.#starts.oldest()
    return oldest === undefined ? 0 : oldest + this.rate.interval - now
  }

  /** Counts a start at `now`; the caller checked `remaining(now) > 0`. */
  record(now: number): void {
    this.#starts.push(now)
  }

  clear(): void {
    this.#starts.clear()
  }

  #expire(now: number): void {
    this.#starts.dropThrough(now - this.rate.interval)
  }
}

/**
 * The most events ever seen in one half-open window of `window` ms. The busiest window can always
 * be slid to end just after some event, so it is enough to count, at each event, the events in
 * (now - window, now]: the deque holds exactly those, and each time is pushed and dropped once.
 */
export class WindowPeak {
  readonly window: number
  readonly #times = new TimeDeque()
  #peak = 0

  constructor(window: number) {
    this.window = window
  }

  get peak(): number {
    return this.#peak
  }

  record(now: number): void {
    this.#times.dropThrough(now - this.window)
    this.#times.push(now)
    if (this.#times.size > this.#peak) this.#peak = this.#times.size
  }

  reset(): void {
    this.#times.clear()
    this.#peak = 0
  }
}
