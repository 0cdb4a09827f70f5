/** One attempt of a request: when it asked for its turn, how long it waited, how long it took. */
export interface AttemptTiming {
  /** Ms from the call to when this attempt asked its origin's limiter for its turn. */
  readonly at: number
  /** Ms it waited there: for a slot, the rate or a pause. */
  readonly wait: number
  /** Of `wait`, the ms the limiter waited for a rate or a pause (the rest: every slot was taken). */
  readonly rate: number
  /** Ms from its turn to its answer's end (body read), or to its failure. */
  readonly ms: number
  /** The status it was answered with, when it was. */
  readonly status?: number
  /** Its error's code when it failed without an answer ('TIMEOUT', 'NETWORK'...). */
  readonly error?: string
}

/** Where a request's time went: when it was made, and each attempt (retries are the later ones). */
export interface Timings {
  /** When the request was made (epoch ms): the call, before any wait. */
  readonly start: number
  readonly attempts: readonly AttemptTiming[]
}

/** An attempt's timing while it runs: the client fills in its end. */
export interface OpenAttemptTiming {
  at: number
  wait: number
  rate: number
  ms: number
  status?: number
  error?: string
}
