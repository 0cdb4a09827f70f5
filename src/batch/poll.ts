import { AbortError, describeValue, InvalidOptionError, VolleyError } from '../errors.js'
import { type Clock, systemClock, type TimerHandle } from '../limit/clock.js'
import { type Backoff, backoffDelay } from '../limit/backoff.js'
import { sleep } from '../limit/sleep.js'
import { type Duration, parseDuration } from '../limit/units.js'
import { abortable } from './abortable.js'

export interface PollOptions<T> {
  /** True when the result is final (say, `job => job.status !== 'pending'`); required. */
  until: (result: T) => boolean
  /** The wait after the first check (ms or '500ms'); later waits grow by `backoff`. @default 1000 */
  interval?: Duration
  /** What each wait is multiplied by for the next one; 1 polls at a steady `interval`. @default 2 */
  backoff?: number
  /** The longest wait between two checks. @default 30 s, or `interval` when that is longer */
  maxInterval?: Duration
  /**
   * How long to poll in all, from the first check, before rejecting with a PollTimeoutError; a
   * check still running then is aborted. `Infinity` polls for as long as it takes. @default 5 min
   */
  timeout?: Duration
  /** Aborting it stops polling at once (the check running is aborted) with an AbortError. */
  signal?: AbortSignal
  /** Where time comes from; tests pass `createManualClock()`. @default the monotonic system clock */
  clock?: Clock
}

/** What each call of `check` is given. */
export interface PollContext {
  /** Aborts when polling stops early (timeout or the caller's signal): pass it to the request. */
  signal: AbortSignal
  /** 1 for the first check. */
  attempt: number
}

/** Polling went on for `timeout` without `until` holding. */
export class PollTimeoutError extends VolleyError {
  /** Checks that answered. */
  readonly attempts: number
  /** Ms from the first check to giving up. */
  readonly elapsed: number
  /** The last answer `until` rejected (undefined when no check answered). */
  readonly lastResult: unknown

  constructor(elapsed: number, attempts: number, lastResult: unknown) {
    const last = attempts === 0 ? 'no check had answered' : `the last result was ${describeValue(lastResult)}`
    super('POLL_TIMEOUT', `poll: gave up after ${elapsed} ms and ${attempts} check(s); ${last}`)
    this.attempts = attempts
    this.elapsed = elapsed
    this.lastResult = lastResult
  }
}

const DEFAULT_TIMEOUT = 5 * 60_000
const DEFAULT_MAX_INTERVAL = 30_000

/**
 * Calls `check` until `until(result)` holds and resolves with that result, waiting `interval`,
 * then `interval * backoff`, ... (at most `maxInterval`) between checks: for batch APIs that
 * answer with a job id and "pending". A check that throws ends polling with its error.
 *
 * ```ts
 * const job = await poll(({ signal }) => api.get(`/jobs/${id}`, { signal }).then((r) => r.json()),
 *   { until: (job) => job.status === 'done', interval: '500ms', timeout: '2m' })
 * ```
 */
export function poll<T>(
  check: (context: PollContext) => T | PromiseLike<T>,
  options: PollOptions<T>,
): Promise<T> {
  // Bad options throw here, before anything runs, rather than as a rejection later.
  return pollUntil(check, resolvePollOptions(check, options))
}

async function pollUntil<T>(
  check: (context: PollContext) => T | PromiseLike<T>,
  o: ResolvedPollOptions<T>,
): Promise<T> {
  const { clock } = o
  // One signal for the checks and the waits, aborted with the error that ends polling early.
  const stop = new AbortController()
  const signal = stop.signal
  const started = clock.now()
  let attempts = 0
  let lastResult: T | undefined
  const onCallerAbort = () => stop.abort(AbortError.from(o.signal!))
  o.signal?.addEventListener('abort', onCallerAbort, { once: true })
  let deadline: TimerHandle | undefined
  if (o.timeout !== Number.POSITIVE_INFINITY) {
    deadline = clock.setTimer(() => {
      stop.abort(new PollTimeoutError(Math.round(clock.now() - started), attempts, lastResult))
    }, o.timeout)
  }
  try {
    if (o.signal?.aborted) throw AbortError.from(o.signal)
    for (let attempt = 1; ; attempt++) {
      const result = await abortable(Promise.resolve(check({ signal, attempt })), signal)
      attempts = attempt
      lastResult = result
      if (o.until(result)) return result
      await sleep(clock, backoffDelay(o.waits, attempt, 0), signal)
    }
  } catch (error) {
    // Stopped early: the reason (timeout or the caller's abort) is the error, whatever the check threw.
    throw signal.aborted ? signal.reason : error
  } finally {
    if (deadline !== undefined) clock.clearTimer(deadline)
    o.signal?.removeEventListener('abort', onCallerAbort)
  }
}

interface ResolvedPollOptions<T> {
  until: (result: T) => boolean
  /** The waits between checks: no jitter, so a job's checks come on a schedule the caller can predict. */
  waits: Backoff
  timeout: number
  signal: AbortSignal | undefined
  clock: Clock
}

function resolvePollOptions<T>(check: unknown, options: PollOptions<T>): ResolvedPollOptions<T> {
  const name = (option: string) => `poll: option \`${option}\``
  if (typeof check !== 'function') {
    throw new InvalidOptionError(
      `poll: check must be a function ({ signal, attempt }) => result, got ${describeValue(check)}`,
    )
  }
  if (typeof options !== 'object' || options === null || typeof options.until !== 'function') {
    throw new InvalidOptionError(
      `${name('until')} must be a function result => boolean (true when done), got ${describeValue(options?.until)}`,
    )
  }
  const interval = parseDuration(options.interval ?? 1000, name('interval'))
  if (interval <= 0)
    throw new InvalidOptionError(`${name('interval')} must be > 0, got ${describeValue(options.interval)}`)
  const backoff = options.backoff ?? 2
  if (typeof backoff !== 'number' || !Number.isFinite(backoff) || backoff < 1) {
    throw new InvalidOptionError(
      `${name('backoff')} must be a factor >= 1 (1: a steady interval), got ${describeValue(backoff)}`,
    )
  }
  const maxInterval = parseDuration(
    options.maxInterval ?? Math.max(interval, DEFAULT_MAX_INTERVAL),
    name('maxInterval'),
  )
  if (maxInterval < interval) {
    throw new InvalidOptionError(
      `${name('maxInterval')} must be >= interval (${interval} ms), got ${describeValue(options.maxInterval)}`,
    )
  }
  const timeout =
    options.timeout === Number.POSITIVE_INFINITY
      ? Number.POSITIVE_INFINITY
      : parseDuration(options.timeout ?? DEFAULT_TIMEOUT, name('timeout'))
  return {
    until: options.until,
    waits: { base: interval, max: maxInterval, factor: backoff, jitter: 'none' },
    timeout,
    signal: options.signal,
    clock: options.clock ?? systemClock,
  }
}
