/**
 * The start times of one key, oldest first, kept as long as the longest rate's interval needs them,
 * in a ring that grows with the starts actually made (a '100000/s' rate costs nothing until used).
 * Every rate of the key reads the same log, so rates can change (Limiter.setRate) without forgetting
 * the starts already made.
 *
 * A start at `now` is allowed by rate N per T when, counting it, at most N starts fall in the last T
 * ms: then no half-open window of length T ever holds more than N. This is an exact sliding window,
 * not fixed buckets (which allow 2N across a bucket edge).
 */
export class StartLog {
  #times = new Float64Array(16)
  #oldest = 0
  #size = 0

  /** Ms until `cost` more starts fit under `limit` per `interval`; 0 if they fit now. */
  waitFor(limit: number, interval: number, cost: number, now: number): number {
    const first = this.#firstAfter(now - interval)
    const excess = this.#size - first + cost - limit
    if (excess <= 0) return 0
    // The `excess` oldest starts of the window must leave it first; the newest of those decides when.
    return this.#at(first + excess - 1) + interval - now
  }

  record(cost: number, now: number): void {
    if (this.#size + cost > this.#times.length) this.#grow(this.#size + cost)
    const times = this.#times
    for (let i = 0; i < cost; i++) {
      times[(this.#oldest + this.#size) % times.length] = now
      this.#size++
    }
  }

  /** Moves the newest starts, those at or after `since`, to `now` (>= all of them: order is kept). */
  restamp(since: number, now: number): void {
    const times = this.#times
    for (let position = this.#size - 1; position >= 0; position--) {
      const index = (this.#oldest + position) % times.length
      if (times[index]! < since) return
      times[index] = now
    }
  }

  /** Drops starts at or before `cutoff`: no rate's window reaches back to them any more. */
  forgetUntil(cutoff: number): void {
    const times = this.#times
    while (this.#size > 0 && times[this.#oldest]! <= cutoff) {
      this.#oldest = this.#oldest + 1 === times.length ? 0 : this.#oldest + 1
      this.#size--
    }
  }

  /** The position (0 = oldest) of the first start after `cutoff`: starts are in time order. */
  #firstAfter(cutoff: number): number {
    let low = 0
    let high = this.#size
    while (low < high) {
      const middle = (low + high) >>> 1
      if (this.#at(middle) <= cutoff) low = middle + 1
      else high = middle
    }
    return low
  }

  #at(position: number): number {
    return this.#times[(this.#oldest + position) % this.#times.length]!
  }

  #grow(needed: number): void {
    const grown = new Float64Array(Math.max(needed, this.#times.length * 2))
    for (let i = 0; i < this.#size; i++) grown[i] = this.#at(i)
    this.#times = grown
    this.#oldest = 0
  }
}
