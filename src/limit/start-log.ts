/**
 * The starts of one key in one unit, oldest first, each with its weight (its cost in that unit: 1
 * for a plain request, 1200 for a call of 1,200 tokens), kept as long as the longest rate's
 * interval needs them, in a ring that grows with the starts actually made (a '100000/s' rate costs
 * nothing until used). Every rate of the unit reads the same log, so rates can change
 * (Limiter.setRate) without forgetting the starts already made.
 *
 * A start at `now` is allowed by rate N per T when, counting it, the weights in the last T ms add
 * up to at most N: then no half-open window of length T ever holds more than N. This is an exact
 * sliding window, not fixed buckets (which allow 2N across a bucket edge). Running sums of the
 * weights make every question a binary search, however heavy the starts.
 */
export class StartLog {
  #times = new Float64Array(16)
  /** The running sum of weights up to and including each start. */
  #sums = new Float64Array(16)
  /** The running sum before the oldest start kept. */
  #base = 0
  #oldest = 0
  #size = 0

  /** Ms until `cost` more fits under `limit` per `interval`; 0 if it fits now. */
  waitFor(limit: number, interval: number, cost: number, now: number): number {
    const first = this.#firstAfter(now - interval)
    const before = this.#sumBefore(first)
    const excess = this.#sumBefore(this.#size) - before + cost - limit
    if (excess <= 0) return 0
    // The oldest starts of the window weighing `excess` must leave it; the newest of those decides when.
    return this.#timeAt(this.#firstReaching(first, before + excess)) + interval - now
  }

  /** The weight of the starts in the last `interval` ms. */
  sum(interval: number, now: number): number {
    return this.#sumBefore(this.#size) - this.#sumBefore(this.#firstAfter(now - interval))
  }

  record(weight: number, now: number): void {
    if (this.#size === this.#times.length) this.#grow()
    const index = (this.#oldest + this.#size) % this.#times.length
    this.#times[index] = now
    this.#sums[index] = this.#sumBefore(this.#size) + weight
    this.#size++
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

  /**
   * Takes `amount` of weight back from the starts made at or after `since`, oldest first: a start
   * that cost less than its estimate. The start itself may have moved later (restamps), but never
   * before `since`, so the weight taken back leaves the window no later than the start's would: the
   * log never counts less than what is truly in a window.
   */
  refund(since: number, amount: number): void {
    let first = this.#firstAfter(since)
    while (first > 0 && this.#timeAt(first - 1) === since) first--
    let taken = 0
    for (let position = first; position < this.#size; position++) {
      const index = (this.#oldest + position) % this.#sums.length
      if (taken < amount) {
        const weight = this.#sums[index]! - taken - this.#sumBefore(position)
        taken += Math.min(weight, amount - taken)
      }
      this.#sums[index] = this.#sums[index]! - taken
    }
  }

  /** Drops starts at or before `cutoff`: no rate's window reaches back to them any more. */
  forgetUntil(cutoff: number): void {
    const times = this.#times
    while (this.#size > 0 && times[this.#oldest]! <= cutoff) {
      this.#base = this.#sums[this.#oldest]!
      this.#oldest = this.#oldest + 1 === times.length ? 0 : this.#oldest + 1
      this.#size--
    }
    // Empty: start the sums again, so they never grow past what floats count exactly.
    if (this.#size === 0) this.#base = 0
  }

  /** The position (0 = oldest) of the first start after `cutoff`: starts are in time order. */
  #firstAfter(cutoff: number): number {
    let low = 0
    let high = this.#size
    while (low < high) {
      const middle = (low + high) >>> 1
      if (this.#timeAt(middle) <= cutoff) low = middle + 1
      else high = middle
    }
    return low
  }

  /** The first position from `from` whose running sum reaches `sum` (one exists: the caller checked). */
  #firstReaching(from: number, sum: number): number {
    let low = from
    let high = this.#size - 1
    while (low < high) {
      const middle = (low + high) >>> 1
      if (this.#sums[(this.#oldest + middle) % this.#sums.length]! < sum) low = middle + 1
      else high = middle
    }
    return low
  }

  /** The weights of the starts before `position`, on the running-sum scale. */
  #sumBefore(position: number): number {
    return position === 0 ? this.#base : this.#sums[(this.#oldest + position - 1) % this.#sums.length]!
  }

  #timeAt(position: number): number {
    return this.#times[(this.#oldest + position) % this.#times.length]!
  }

  #grow(): void {
    const length = this.#times.length * 2
    const times = new Float64Array(length)
    const sums = new Float64Array(length)
    for (let i = 0; i < this.#size; i++) {
      const index = (this.#oldest + i) % this.#times.length
      times[i] = this.#times[index]!
      sums[i] = this.#sums[index]!
    }
    this.#times = times
    this.#sums = sums
    this.#oldest = 0
  }
}
