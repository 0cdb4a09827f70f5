/** Bucket widths a person reads easily (ms); past the last, whole days. */
const NICE = [
  500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000,
  3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000,
]
const DAY = 86_400_000

/**
 * Buckets a run's span is cut into, at most: enough to see a few minutes' trouble in a day-long
 * run, few enough that each bucket of a short run holds several starts (a rate read from 0 or 1
 * start per bucket would only show the bucketing).
 */
export const MAX_BUCKETS = 500

/** The narrowest nice width that cuts `spanMs` into at most MAX_BUCKETS buckets (500 ms at least). */
export function bucketWidth(spanMs: number): number {
  const least = spanMs / MAX_BUCKETS
  return NICE.find((width) => width >= least) ?? Math.ceil(least / DAY) * DAY
}

/** A span of time cut into equal buckets, the first starting at a multiple of the width. */
export class Buckets {
  readonly from: number
  readonly width: number
  readonly count: number

  constructor(span: { from: number; to: number }) {
    this.width = bucketWidth(span.to - span.from)
    this.from = Math.floor(span.from / this.width) * this.width
    this.count = Math.floor((span.to - this.from) / this.width) + 1
  }

  /** The bucket holding epoch ms `t` (clamped to the span: a live event may fall just outside it). */
  of(t: number): number {
    return Math.min(this.count - 1, Math.max(0, Math.floor((t - this.from) / this.width)))
  }

  /** Each bucket's start, in epoch seconds (uPlot's time axis). */
  starts(): number[] {
    return Array.from({ length: this.count }, (_, i) => (this.from + i * this.width) / 1000)
  }
}

/**
 * How many intervals were open, on average, in each bucket: each interval adds its overlap with
 * each bucket. O(1) per interval whatever its length: the buckets it covers whole go into a
 * difference array, summed once at the end (a day-long hang must not cost a loop over the day).
 */
export class Occupancy {
  readonly #buckets: Buckets
  readonly #partial: Float64Array
  readonly #whole: Int32Array

  constructor(buckets: Buckets) {
    this.#buckets = buckets
    this.#partial = new Float64Array(buckets.count)
    this.#whole = new Int32Array(buckets.count + 1)
  }

  add(start: number, end: number): void {
    const b = this.#buckets
    const s = Math.max(start, b.from)
    const e = Math.min(end, b.from + b.count * b.width)
    if (e <= s) return
    const first = b.of(s)
    const last = Math.min(b.count - 1, Math.floor((e - b.from) / b.width))
    if (first === last) {
      this.#partial[first]! += e - s
      return
    }
    this.#partial[first]! += b.from + (first + 1) * b.width - s
    this.#partial[last]! += e - (b.from + last * b.width)
    this.#whole[first + 1]!++
    this.#whole[last]!--
  }

  /** The mean number open in each bucket. */
  means(): number[] {
    const { width, count } = this.#buckets
    const out = new Array<number>(count)
    let whole = 0
    for (let i = 0; i < count; i++) {
      whole += this.#whole[i]!
      out[i] = whole + this.#partial[i]! / width
    }
    return out
  }
}
