import { WindowPeak } from './windows.js'

/**
 * What the mock server saw, from its side of the wire: how tests check that a client broke no limit
 * and lost or repeated nothing. The same JSON shape comes from `server.stats()` and `GET /__stats`
 * (which is itself never counted).
 */
export interface MockStats {
  /** Requests received (every outcome). */
  requests: number
  /** Requests by route pattern, such as "/items/:id"; "(unmatched)" for unknown paths. */
  byPath: Record<string, number>
  /** Responses written, by status ("200": 12). Resets, hangs and aborted requests have none. */
  byStatus: Record<string, number>
  /** Requests received and not yet answered (or reset, or gone). */
  inFlight: number
  /** The largest `inFlight` seen. */
  maxInFlight: number
  /** The most admitted requests (all but those answered 429) that arrived in one `statsWindow`. */
  maxWindowAdmitted: number
  /** The most requests of any outcome that arrived in one `statsWindow`. */
  maxWindowArrivals: number
  /** The sliding window, in ms, of the two counts above. */
  statsWindow: number
  /** 429 responses sent. */
  rateLimited: number
  /** Connections destroyed without a response (the `reset` fault). */
  resets: number
  /** Requests left unanswered on purpose (the `hang` fault). */
  hangs: number
  /** 200 responses sent with a broken JSON body (the `malformed` fault). */
  malformed: number
  /** Requests whose client went away before the response was written (hangs included). */
  aborted: number
  /** For requests with an Idempotency-Key header: key -> times seen. */
  idempotencyKeys: Record<string, number>
  /** Calls to POST /batch/geocode that were answered with results. */
  batchCalls: number
  /** The most addresses in one such call. */
  largestBatch: number
  /** Jobs submitted to POST /jobs. */
  jobs: number
  /** TCP connections open now: 0 after a client closes, so its tests can check it leaks none. */
  openConnections: number
  /** TCP connections accepted (a well-behaved keep-alive client opens few). */
  connections: number
  /**
   * Tokens of the LLM endpoints (any profile): `charged` up front to the requests admitted (max_tokens
   * + ceil(prompt characters / 4) each), `used` as their responses' usage reported (what the charges
   * were settled to), `refused` the charges of the requests the rate limit turned away.
   */
  tokens: { charged: number; used: number; refused: number }
}

/** When each request arrived, in ms of the server's monotonic clock (performance.now() in its process). */
export interface MockArrivals {
  /** Every request counted in `requests`, in arrival order. */
  all: number[]
  /** Those admitted by the rate limit (the ones `maxWindowAdmitted` counts), in order. */
  admitted: number[]
}

type Counter = 'rateLimited' | 'resets' | 'hangs' | 'malformed' | 'aborted' | 'jobs'
type TokenCounter = keyof MockStats['tokens']

/** Collects MockStats; the caller passes monotonic times in ms. */
export class StatsRecorder {
  readonly #arrivals: WindowPeak
  readonly #admitted: WindowPeak
  #requests = 0
  #byPath = new Map<string, number>()
  #byStatus = new Map<number, number>()
  #idempotencyKeys = new Map<string, number>()
  #inFlight = 0
  #maxInFlight = 0
  #counters: Record<Counter, number> = emptyCounters()
  #batchCalls = 0
  #largestBatch = 0
  #openConnections = 0
  #connections = 0
  #tokens = emptyTokens()
  /** Only with `recordArrivals`. */
  readonly #times: MockArrivals | undefined

  constructor(statsWindow: number, recordArrivals = false) {
    this.#arrivals = new WindowPeak(statsWindow)
    this.#admitted = new WindowPeak(statsWindow)
    this.#times = recordArrivals ? { all: [], admitted: [] } : undefined
  }

  get inFlight(): number {
    return this.#inFlight
  }

  /** A request arrived (matched to `pattern`) and is now in flight. */
  arrive(now: number, pattern: string, idempotencyKey: string | undefined): void {
    this.#requests++
    this.#byPath.set(pattern, (this.#byPath.get(pattern) ?? 0) + 1)
    if (idempotencyKey !== undefined) {
      this.#idempotencyKeys.set(idempotencyKey, (this.#idempotencyKeys.get(idempotencyKey) ?? 0) + 1)
    }
    this.#arrivals.record(now)
    this.#times?.all.push(now)
    if (++this.#inFlight > this.#maxInFlight) this.#maxInFlight = this.#inFlight
  }

  /** The request that arrived at `now` passed the rate limit. */
  admit(now: number): void {
    this.#admitted.record(now)
    this.#times?.admitted.push(now)
  }

  /** Copies of the arrival times kept so far; undefined unless recording. */
  arrivalTimes(): MockArrivals | undefined {
    return this.#times && { all: [...this.#times.all], admitted: [...this.#times.admitted] }
  }

  /** A request left flight: answered with `status`, or (undefined) reset, aborted or closed. */
  depart(status: number | undefined): void {
    this.#inFlight--
    if (status === undefined) return
    this.#byStatus.set(status, (this.#byStatus.get(status) ?? 0) + 1)
    if (status === 429) this.#counters.rateLimited++
  }

  connect(): void {
    this.#openConnections++
    this.#connections++
  }

  disconnect(): void {
    this.#openConnections--
  }

  count(counter: Counter): void {
    this.#counters[counter]++
  }

  tokens(counter: TokenCounter, tokens: number): void {
    this.#tokens[counter] += tokens
  }

  batch(size: number): void {
    this.#batchCalls++
    if (size > this.#largestBatch) this.#largestBatch = size
  }

  snapshot(): MockStats {
    return {
      requests: this.#requests,
      byPath: Object.fromEntries(this.#byPath),
      byStatus: Object.fromEntries(this.#byStatus),
      inFlight: this.#inFlight,
      maxInFlight: this.#maxInFlight,
      maxWindowAdmitted: this.#admitted.peak,
      maxWindowArrivals: this.#arrivals.peak,
      statsWindow: this.#arrivals.window,
      ...this.#counters,
      idempotencyKeys: Object.fromEntries(this.#idempotencyKeys),
      batchCalls: this.#batchCalls,
      largestBatch: this.#largestBatch,
      openConnections: this.#openConnections,
      connections: this.#connections,
      tokens: { ...this.#tokens },
    }
  }

  /** Zeroes every count; requests still in flight stay in flight (and set the new maximum). */
  reset(): void {
    this.#requests = 0
    this.#byPath.clear()
    this.#byStatus.clear()
    this.#idempotencyKeys.clear()
    this.#maxInFlight = this.#inFlight
    this.#counters = emptyCounters()
    this.#batchCalls = 0
    this.#largestBatch = 0
    this.#connections = this.#openConnections
    this.#tokens = emptyTokens()
    this.#arrivals.reset()
    this.#admitted.reset()
    if (this.#times) {
      this.#times.all.length = 0
      this.#times.admitted.length = 0
    }
  }
}

function emptyCounters(): Record<Counter, number> {
  return { rateLimited: 0, resets: 0, hangs: 0, malformed: 0, aborted: 0, jobs: 0 }
}

function emptyTokens(): MockStats['tokens'] {
  return { charged: 0, used: 0, refused: 0 }
}
