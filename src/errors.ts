/**
 * Every error volley throws or reports extends VolleyError and carries a stable string `code`,
 * so callers can `switch (err.code)` instead of guessing with `instanceof` (which fails across
 * duplicate installs of the package).
 */
const brand = Symbol.for('volley.error')

export class VolleyError extends Error {
  readonly code: string
  declare readonly [brand]: true

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.name = new.target.name
    Object.defineProperty(this, brand, { value: true })
  }
}

/** True for any volley error, even one created by another copy of the package. */
export function isVolleyError(value: unknown): value is VolleyError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true
}

/**
 * Why an `all`/`stream`/`group` call stopped starting work, carried by the AbortErrors of what it
 * did not start: a status in `stopOn` was answered, an origin's circuit opened (it refused every
 * attempt), or the caller's `stopSignal` aborted.
 */
export type StopReason =
  | { readonly code: 'STOP_ON_STATUS'; readonly status: number; readonly detail: string }
  | { readonly code: 'CIRCUIT_OPEN'; readonly origin: string; readonly detail: string }
  | { readonly code: 'STOP_SIGNAL'; readonly detail: string }

export interface AbortErrorOptions extends ErrorOptions {
  stop?: StopReason
}

/** A task was cancelled: its signal aborted, its group failed, or its batch was stopped. */
export class AbortError extends VolleyError {
  declare readonly code: 'ABORTED'
  /** Set when the task was never started because its call stopped: why it stopped. */
  readonly stop: StopReason | undefined

  constructor(message = 'The operation was aborted', options?: AbortErrorOptions) {
    super('ABORTED', message, options)
    this.stop = options?.stop
  }

  /** The AbortError of what a stopped call did not start: its message and `stop` say why. */
  static stopped(reason: StopReason): AbortError {
    return new AbortError(`Stopped: ${reason.detail}`, { stop: reason })
  }

  /** The AbortError for an aborted signal, naming its reason when there is one. */
  static from(signal: AbortSignal): AbortError {
    const reason: unknown = signal.reason
    if (reason instanceof AbortError) return reason
    if (reason instanceof Error && reason.name !== 'AbortError') {
      return new AbortError(`Aborted: ${reason.message}`, { cause: reason })
    }
    return new AbortError('The operation was aborted', reason === undefined ? undefined : { cause: reason })
  }
}

/** A limiter (or something built on one) was closed while the task was still waiting. */
export class ClosedError extends VolleyError {
  declare readonly code: 'CLOSED'
  constructor(message: string) {
    super('CLOSED', message)
  }
}

/** An option given to a volley function is invalid; the message names the option and the value. */
export class InvalidOptionError extends VolleyError {
  declare readonly code: 'INVALID_OPTION'
  constructor(message: string) {
    super('INVALID_OPTION', message)
  }
}

/** The codes of a LimiterStore's failures: the store cannot decide, so nothing is started. */
export type StoreErrorCode = 'STORE_UNAVAILABLE' | 'STORE_FAILED'

/** A shared store failed: a task is refused rather than risk going over the shared quota. */
export class StoreError extends VolleyError {
  declare readonly code: StoreErrorCode

  constructor(code: StoreErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options)
  }
}

/** The store cannot be reached (never connected, connection lost, command timed out). */
export class StoreUnavailableError extends StoreError {
  declare readonly code: 'STORE_UNAVAILABLE'
  constructor(message: string, options?: ErrorOptions) {
    super('STORE_UNAVAILABLE', message, options)
  }
}

/** The store answered with an error (a key of the wrong type, a script error). */
export class StoreFailedError extends StoreError {
  declare readonly code: 'STORE_FAILED'
  constructor(message: string, options?: ErrorOptions) {
    super('STORE_FAILED', message, options)
  }
}

/** Formats a value for an error message: short, and with its type when that helps. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value)
  if (Array.isArray(value)) return `an array of ${value.length}`
  if (typeof value === 'function') return 'a function'
  try {
    const json = JSON.stringify(value)
    return json.length > 80 ? `${json.slice(0, 77)}...` : json
  } catch {
    return `a ${typeof value}`
  }
}

/**
 * A distributed job (volley/redis's work queue) cannot go on as asked: it is not in Redis
 * (JOB_NOT_FOUND: never submitted, expired, or lost by a Redis restart without persistence), or the
 * input given to submit is not the one it already holds (JOB_MISMATCH).
 */
export class JobError extends VolleyError {
  declare readonly code: 'JOB_NOT_FOUND' | 'JOB_MISMATCH'
  constructor(code: 'JOB_NOT_FOUND' | 'JOB_MISMATCH', message: string) {
    super(code, message)
  }
}
