import { describeValue, InvalidOptionError, isVolleyError } from '../errors.js'
import {
  type Backoff,
  type BackoffOptions,
  backoffCeiling,
  backoffDelay,
  resolveBackoff,
} from '../limit/backoff.js'
import { causeCode, NetworkError, TimeoutError } from './errors.js'

/** How the client retries. A number is a count of retries: `retry: 2` makes up to 3 attempts. */
export interface RetryOptions {
  /** Attempts in total, the first included; 1 turns retries off. @default 3 */
  attempts?: number
  /** Methods retried. @default ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'] (idempotent ones) */
  methods?: readonly string[]
  /** Statuses retried. @default [408, 425, 429, 500, 502, 503, 504] */
  statuses?: readonly number[]
  /** Exponential backoff with full jitter: a random delay in [0, min(max, base * 2^(retry-1))). */
  backoff?: BackoffOptions
  /**
   * Retry POST and PATCH too (they may have had an effect: only for APIs that deduplicate).
   * Without it, a request carrying an Idempotency-Key header is still retried.
   * @default false
   */
  retryPost?: boolean
}

/** RetryOptions resolved once: what the retry layer and the pure functions below read; its backoff is its own. */
export interface RetryPolicy extends Backoff {
  readonly attempts: number
  readonly methods: ReadonlySet<string>
  readonly statuses: ReadonlySet<number>
  readonly retryPost: boolean
}

export const IDEMPOTENT_METHODS: readonly string[] = ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']
export const RETRY_STATUSES: readonly number[] = [408, 425, 429, 500, 502, 503, 504]

const DEFAULT_ATTEMPTS = 3
/** Full jitter: clients refused together spread their retries instead of coming back together. */
const DEFAULT_BACKOFF: Backoff = { base: 250, max: 20_000, factor: 2, jitter: 'full' }
const KEYS = new Set(['attempts', 'methods', 'statuses', 'backoff', 'retryPost'])

/** Validates `retry` (a number of retries, false, or RetryOptions); `option` names it in errors. */
export function resolveRetry(value: unknown, option = 'createClient: option `retry`'): RetryPolicy {
  if (value === undefined || value === true) return build({})
  if (value === false) return build({ attempts: 1 })
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) {
      throw new InvalidOptionError(
        `${option} must be a whole number of retries >= 0, got ${describeValue(value)}`,
      )
    }
    return build({ attempts: value + 1 })
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(
      `${option} must be a number of retries, false, or { attempts, methods, statuses, backoff, retryPost }, got ${describeValue(value)}`,
    )
  }
  for (const key of Object.keys(value)) {
    if (!KEYS.has(key)) throw new InvalidOptionError(`${option} has an unknown field \`${key}\``)
  }
  return build(value as RetryOptions, option)
}

function build(options: RetryOptions, option = 'createClient: option `retry`'): RetryPolicy {
  const attempts = options.attempts ?? DEFAULT_ATTEMPTS
  if (!Number.isInteger(attempts) || attempts < 1) {
    throw new InvalidOptionError(
      `${option}.attempts must be a whole number >= 1, got ${describeValue(attempts)}`,
    )
  }
  const methods = options.methods ?? IDEMPOTENT_METHODS
  if (!Array.isArray(methods) || methods.some((m) => typeof m !== 'string' || !/^[A-Za-z]+$/.test(m))) {
    throw new InvalidOptionError(
      `${option}.methods must be an array of method names, got ${describeValue(methods)}`,
    )
  }
  const statuses = options.statuses ?? RETRY_STATUSES
  if (!Array.isArray(statuses) || statuses.some((s) => !Number.isInteger(s) || s < 100 || s > 599)) {
    throw new InvalidOptionError(
      `${option}.statuses must be an array of HTTP statuses (100-599), got ${describeValue(statuses)}`,
    )
  }
  const backoff = resolveBackoff(options.backoff, option, 'backoff', DEFAULT_BACKOFF)
  if (options.retryPost !== undefined && typeof options.retryPost !== 'boolean') {
    throw new InvalidOptionError(
      `${option}.retryPost must be true or false, got ${describeValue(options.retryPost)}`,
    )
  }
  return {
    attempts,
    methods: new Set(methods.map((m) => m.toUpperCase())),
    statuses: new Set(statuses),
    ...backoff,
    retryPost: options.retryPost ?? false,
  }
}

/**
 * Whether a request may be sent again at all. A retried POST may act twice on the server, so
 * only idempotent methods are retried, unless the user opted in or the request carries an
 * Idempotency-Key (the server then deduplicates).
 */
export function mayRetryMethod(policy: RetryPolicy, method: string, hasIdempotencyKey: boolean): boolean {
  if (policy.methods.has(method)) return true
  return hasIdempotencyKey || (policy.retryPost && (method === 'POST' || method === 'PATCH'))
}

/** What one attempt came to, as far as retrying is concerned. */
export type AttemptOutcome =
  | { kind: 'status'; status: number }
  | { kind: 'timeout' }
  | { kind: 'network'; code: string | undefined }
  | { kind: 'fatal' }

/** Socket errors worth another try: the connection or stream broke, was refused, or timed out connecting. */
const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  // HTTP/2: the server reset the stream (RST_STREAM), the h2 form of a connection reset.
  'ERR_HTTP2_STREAM_ERROR',
  // undici's "informational" closes: an HTTP/1.1 socket reset or idle-closed under a request, an
  // HTTP/2 stream cancelled or half-closed by the server, or its session destroyed. Not the
  // caller's abort, which is an AbortError and never retried.
  'UND_ERR_INFO',
])

/**
 * What a failed attempt came to, from its public error, with the reason the `retry` event gives
 * ('TIMEOUT', 'NETWORK ECONNRESET'). Errors of any other kind (an abort, a refusal) are final.
 */
export function failureOutcome(error: unknown): { outcome: AttemptOutcome; reason: string } {
  if (error instanceof TimeoutError) return { outcome: { kind: 'timeout' }, reason: 'TIMEOUT' }
  if (error instanceof NetworkError) {
    const code = causeCode(error.cause)
    return {
      outcome: { kind: 'network', code },
      reason: `NETWORK ${code ?? (error.cause as Error).name}`,
    }
  }
  return { outcome: { kind: 'fatal' }, reason: isVolleyError(error) ? error.code : 'ERROR' }
}

/** Whether this outcome is worth retrying (the method and attempts left are checked apart). */
export function isRetryable(policy: RetryPolicy, outcome: AttemptOutcome): boolean {
  switch (outcome.kind) {
    case 'status':
      return policy.statuses.has(outcome.status)
    case 'timeout':
      return true
    case 'network':
      return outcome.code !== undefined && RETRYABLE_NETWORK_CODES.has(outcome.code)
    default:
      return false
  }
}

/**
 * The delay before a retry: exactly what the server asked (Retry-After, never jittered: the
 * server chose the moment) or else the jittered backoff. After a refusal (a 429, or a Retry-After) the wait is
 * never below a floor, half the backoff ceiling and up to all of it: a `Retry-After: 0`, a date in
 * the past or a clock ahead of the server's would otherwise send the retries at once, into the
 * same refusal. `random` is a draw in [0, 1), passed in to keep this pure.
 */
export function retryDelay(
  policy: Backoff,
  retry: number,
  retryAfter: number | undefined,
  random: number,
  refused = false,
): { delay: number; source: 'retry-after' | 'backoff' } {
  if (refused) {
    const ceiling = backoffCeiling(policy, retry)
    const floor = Math.floor(ceiling / 2 + (random * ceiling) / 2)
    if (retryAfter !== undefined && retryAfter >= floor) return { delay: retryAfter, source: 'retry-after' }
    return { delay: floor, source: 'backoff' }
  }
  if (retryAfter !== undefined) return { delay: retryAfter, source: 'retry-after' }
  return { delay: backoffDelay(policy, retry, random), source: 'backoff' }
}
