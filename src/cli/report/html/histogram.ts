/**
 * A compact latency histogram: whole milliseconds exact below EXACT, then bins growing by GROWTH
 * (2% wide), up to an hour. A report keeps one per time bucket (up to ~2,000 of them), so it must
 * be small: ~620 counters, where an HDR histogram of the same range holds tens of thousands.
 */
const EXACT = 64
const GROWTH = 1.02
const LOG_GROWTH = Math.log(GROWTH)
/** Longer latencies are counted as an hour: an attempt that long is a hang, its exact length moot. */
const MAX_MS = 3_600_000
const BINS = binOf(MAX_MS) + 1

function binOf(ms: number): number {
  const v = Math.min(Math.max(0, Math.round(ms)), MAX_MS)
  return v < EXACT ? v : EXACT + Math.floor(Math.log(v / EXACT) / LOG_GROWTH)
}

/** The largest whole ms a bin holds (an answer never under-reports the latency it stands for). */
function binTop(bin: number): number {
  return bin < EXACT ? bin : Math.min(MAX_MS, Math.ceil(EXACT * GROWTH ** (bin - EXACT + 1)) - 1)
}

export class LatencyHistogram {
  readonly #counts = new Uint32Array(BINS)
  #total = 0
  #max = 0

  get count(): number {
    return this.#total
  }

  /** The largest value recorded, exact (not a bin's top); 0 when empty. */
  get max(): number {
    return this.#max
  }

  record(ms: number): void {
    this.#counts[binOf(ms)]!++
    this.#total++
    this.#max = Math.max(this.#max, Math.round(ms))
  }

  /** The value at or under which `p` percent of the recorded values lie (to 2%); 0 when empty. */
  percentile(p: number): number {
    if (this.#total === 0) return 0
    const rank = Math.max(1, Math.ceil((p / 100) * this.#total))
    let seen = 0
    for (let bin = 0; bin < BINS; bin++) {
      seen += this.#counts[bin]!
      if (seen >= rank) return Math.min(binTop(bin), this.#max)
    }
    return this.#max
  }
}
