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

/** One charge held by a WeightedWindow: its weight can be settled down while it is still held. */
export interface WindowCharge {
  readonly at: number
  weight: number
  held: boolean
}

/**
 * Exact sliding-window admission for a budget counted in units other than requests (tokens): the
 * weights charged at starts s > now - interval add up to at most `limit`. Like RateWindow, no fixed
 * buckets; unlike it, a charge has a weight, and `settle` lowers it when the real use is known.
 */
export class WeightedWindow {
  readonly rate: ResolvedRate
  #charges: WindowCharge[] = []
  #head = 0
  #used = 0

  constructor(rate: ResolvedRate) {
    this.rate = rate
  }

  /** Units still free at `now`. */
  remaining(now: number): number {
    this.#expire(now)
    return this.rate.limit - this.#used
  }

  /** Ms from `now` until `weight` more would fit: 0 if it fits now, Infinity if it never can. */
  freeIn(now: number, weight: number): number {
    this.#expire(now)
    if (weight > this.rate.limit) return Number.POSITIVE_INFINITY
    let left = this.rate.limit - this.#used
    for (let i = this.#head; i < this.#charges.length && left < weight; i++) {
      const charge = this.#charges[i]!
      left += charge.weight
      if (left >= weight) return charge.at + this.rate.interval - now
    }
    return 0
  }

  /**
   * Ms until the budget is whole again as the LLM vendors state it: their budgets refill
   * continuously (token buckets), at limit per interval, so what is used refills in
   * used x interval / limit. A client reads the window off it (limit / (used / reset)); the window
   * here, which holds charges a whole interval, is never looser than that bucket.
   */
  resetIn(now: number): number {
    this.#expire(now)
    return (this.#used * this.rate.interval) / this.rate.limit
  }

  /** Charges `weight` at `now`; the caller checked that it fits. */
  charge(now: number, weight: number): WindowCharge {
    const charge = { at: now, weight, held: true }
    this.#charges.push(charge)
    this.#used += weight
    return charge
  }

  /** Lowers a charge to what was really used; a charge that already left the window is gone. */
  settle(charge: WindowCharge, weight: number): void {
    if (!charge.held || weight >= charge.weight) return
    this.#used -= charge.weight - weight
    charge.weight = weight
  }

  clear(): void {
    for (const charge of this.#charges) charge.held = false
    this.#charges = []
    this.#head = 0
    this.#used = 0
  }

  #expire(now: number): void {
    const cutoff = now - this.rate.interval
    while (this.#head < this.#charges.length && this.#charges[this.#head]!.at <= cutoff) {
      const charge = this.#charges[this.#head++]!
      charge.held = false
      this.#used -= charge.weight
    }
    // Compact now and then, so a long run does not keep every charge it ever made.
    if (this.#head > 1024 && this.#head * 2 > this.#charges.length) {
      this.#charges = this.#charges.slice(this.#head)
      this.#head = 0
    }
  }
}
