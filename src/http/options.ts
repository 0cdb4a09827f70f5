import type { Dispatcher } from 'undici'
import { describeValue, InvalidOptionError } from '../errors.js'
import type { Clock } from '../limit/clock.js'
import type { Cost } from '../limit/cost.js'
import type { Limiter } from '../limit/limiter.js'
import { API_RATE_MARGIN, LIMIT_FIELDS, type ResolvedLimits, resolveLimits } from '../limit/limits.js'
import { sharedLimiter } from '../limit/shared-limiter.js'
import type { LimiterStore } from '../limit/store.js'
import { type Duration, parseBoolean, parseDuration, type Rate } from '../limit/units.js'
import { InvalidRequestError } from './errors.js'
import { isEventName, type Listeners } from './events.js'
import type { BreakerPolicy } from './circuit.js'
import type { Layer } from './pipeline.js'
import type { Response } from './response.js'
import { type ClientTlsOptions, resolveTls } from './tls-options.js'
import { maskUrl, redactUrl } from '../redact.js'
import { type RetryOptions, type RetryPolicy, resolveRetry } from './retry.js'
import { type HeaderValues, mergeHeaders, type RequestSpec } from './spec.js'

/** Statuses that stop a call by default: a 401 would be the answer to every other request too. */
export const DEFAULT_STOP_ON: readonly number[] = [401]

export interface ClientOptions {
  /** Relative request URLs are appended to it; its origin may receive `headers`. @default none (absolute URLs only) */
  baseUrl?: string | URL
  /** Sent with every request to the baseUrl's origin and `allowOrigins`, never elsewhere (so one of them is required). */
  headers?: HeaderValues
  /** Most requests in flight at once, per origin. @default no cap (`all`/`stream`/`group` still run 64 at a time) */
  concurrency?: number
  /** Most requests started per window, per origin: '5/s', '600/min', `{ limit, interval }`, or an array. @default none */
  rate?: Rate | readonly Rate[]
  /** Ms (or '50ms') added to every rate's window, so the rate holds where the API counts arrivals (see createLimiter). @default 0 */
  rateMargin?: Duration
  /** Spread each origin's starts evenly instead of a window's quota at once (see createLimiter). @default false */
  smooth?: boolean
  /** undici connections per origin (keep-alive, reused). @default no cap (one per concurrent request) */
  connections?: number
  /**
   * Negotiate HTTP/2 by ALPN: over TLS (https) only; plain http, and servers that decline h2, stay
   * HTTP/1.1. Requests to an origin then share its connections as multiplexed streams. @default false
   */
  http2?: boolean
  /** TLS settings for https origins: a private CA to trust, a client certificate (mutual TLS). @default Node's */
  tls?: ClientTlsOptions
  /** Per attempt, from sending to the end of the body: ms or '30s'. Never infinite. @default '30s' */
  timeout?: Duration
  /** A number of retries (`3` = up to 4 attempts), `false`, or RetryOptions. @default { attempts: 3 } */
  retry?: number | boolean | RetryOptions
  /** Honour Retry-After and the RateLimit / X-RateLimit headers (pause the origin, learn its quota). @default true */
  adaptive?: boolean
  /** The longest Retry-After volley waits; a longer one fails the request with a RateLimitError. @default '2m' */
  maxRetryAfter?: Duration
  /** Statuses that stop an `all`/`stream` call: what has not started settles as AbortErrors. @default [401] */
  stopOn?: readonly number[]
  /** More origins (besides the baseUrl's) that requests may go to and that receive `headers`. @default [] */
  allowOrigins?: readonly (string | URL)[]
  /** A shared Limiter for the baseUrl's origin (every origin, without a baseUrl). Not with concurrency/rate/rateMargin/smooth/store. */
  limiter?: Limiter
  /** Where the origins' limiters keep their state (e.g. redisStore() to share a quota). @default memory */
  store?: LimiterStore
  /** Key of the baseUrl origin's limiter in `store`; other origins get `${key}:${origin}`. @default 'volley' */
  key?: string
  /** Your own undici dispatcher (an Agent, a MockAgent, a ProxyAgent). Not with connections/http2. */
  dispatcher?: Dispatcher
  /** Largest response body read, in bytes; a larger one fails with BODY_TOO_LARGE. @default 50 MiB */
  maxBodySize?: number
  /** Redirects followed per attempt (0: return the 3xx). @default 5 */
  maxRedirects?: number
  /** Where time comes from (tests pass createManualClock()). @default the system clock */
  clock?: Clock
  /** Event listeners by name: { retry: (e) => ..., pause: ... }. Same as calling `client.on`. */
  on?: Listeners
  /** The jitter source, a function returning [0, 1). @default Math.random */
  random?: () => number
  /**
   * Per origin: after `failures` refusals in a row (429, 500, 502, 503, 504; a burst already on the
   * wire counts once) stop sending to it for `cooldown`, then let one request probe it. An
   * `all`/`stream` call stops when its origin's circuit opens. `false` turns it off.
   * @default { failures: 5, cooldown: '30s' }
   */
  circuitBreaker?: false | { failures?: number; cooldown?: Duration }
  /**
   * Your own layers of the request pipeline, outermost first: each gets the next step and returns
   * its own (see Layer). They run inside the retry policy and outside the origin's limiter, so each
   * call of `next` is one more attempt, counted against the rate. @default []
   */
  layers?: readonly Layer[]
  /**
   * What each request costs against budgets in other units than requests (a learned or given
   * '30000 tokens/min'): `spec => ({ tokens: estimate })`, or undefined for requests only. A
   * request's own `cost` wins. @default none: every request costs 1 request
   */
  cost?: (spec: RequestSpec) => Cost | undefined
  /**
   * What a request really used, read from its 2xx response (an LLM API's `usage`): the budgets
   * count that instead of the estimate (`cost`), down or up, so the next calls get the room the
   * server really has. Undefined keeps the estimate. The Redis store counts only up: where a call
   * used less than its estimate, its windows keep the estimate.
   * @default none
   */
  usage?: (response: Response) => Cost | undefined
}

export interface ResolvedClientOptions {
  base: URL | undefined
  baseOrigin: string | undefined
  headers: Record<string, string | string[]>
  /** Origins requests may go to; undefined when unrestricted (no baseUrl, no allowOrigins). */
  origins: ReadonlySet<string> | undefined
  /** The limits of each origin's own limiter (the baseUrl origin's `key`; others `${key}:${origin}`). */
  limits: ResolvedLimits
  connections: number | undefined
  http2: boolean
  tls: ClientTlsOptions | undefined
  timeout: number
  retry: RetryPolicy
  adaptive: boolean
  maxRetryAfter: number
  stopOn: ReadonlySet<number>
  /** A shared limiter for the baseUrl's origin (every origin, without a baseUrl). */
  limiter: Limiter | undefined
  dispatcher: Dispatcher | undefined
  maxBodySize: number
  maxRedirects: number
  clock: Clock
  on: Listeners
  random: () => number
  layers: readonly Layer[]
  circuitBreaker: BreakerPolicy | undefined
  cost: ((spec: RequestSpec) => Cost | undefined) | undefined
  usage: ((response: Response) => Cost | undefined) | undefined
}

const CALLER = 'createClient'
const KNOWN = new Set([
  'baseUrl',
  'headers',
  'concurrency',
  'rate',
  'rateMargin',
  'smooth',
  'connections',
  'http2',
  'tls',
  'timeout',
  'retry',
  'adaptive',
  'maxRetryAfter',
  'stopOn',
  'allowOrigins',
  'limiter',
  'store',
  'key',
  'dispatcher',
  'maxBodySize',
  'maxRedirects',
  'clock',
  'on',
  'random',
  'layers',
  'cost',
  'usage',
  'circuitBreaker',
])

function name(option: string): string {
  return `${CALLER}: option \`${option}\``
}

function wholeNumber(value: unknown, option: string, min: number, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value === 'number' && Number.isInteger(value) && value >= min) return value
  throw new InvalidOptionError(
    `${name(option)} must be a whole number >= ${min}, got ${describeValue(value)}`,
  )
}

/**
 * The baseUrl as relative URLs resolve against it: '…/v1' and '…/v1/' are one base (relative paths
 * are appended to its path, so it ends in '/'); its query and fragment are dropped.
 */
export function resolveBaseUrl(value: string | URL): URL {
  const base = new URL(originOf(value, 'baseUrl').href)
  if (!base.pathname.endsWith('/')) base.pathname = `${base.pathname}/`
  base.hash = ''
  return base
}

function originOf(value: unknown, option: string): URL {
  let url: URL | undefined
  try {
    url = value instanceof URL ? value : typeof value === 'string' ? new URL(value) : undefined
  } catch {
    // Not a URL at all: the error below says what is expected.
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new InvalidOptionError(
      `${name(option)} must be an absolute http(s) URL, got ${describeValue(typeof value === 'string' ? maskUrl(value) : value)}`,
    )
  }
  // Neither would be sent (requests resolve against the path; Basic auth is a header): refused.
  if (url.username || url.password || url.search) {
    throw new InvalidOptionError(
      `${name(option)} must not hold a ${url.search ? 'query' : 'user name or password'} (${redactUrl(url)}): it would not be sent; give params or headers instead`,
    )
  }
  return url
}

/** Validates every option once, naming the option and the value when one is wrong, and fills in defaults. */
export function resolveClientOptions(options: ClientOptions | undefined): ResolvedClientOptions {
  const opts = (options ?? {}) as Record<string, unknown> & ClientOptions
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) {
    throw new InvalidOptionError(`${CALLER}: options must be an object, got ${describeValue(opts)}`)
  }
  for (const key of Object.keys(opts)) {
    if (!KNOWN.has(key)) throw new InvalidOptionError(`${CALLER}: unknown option \`${key}\``)
  }
  const base = opts.baseUrl === undefined ? undefined : resolveBaseUrl(opts.baseUrl)
  const allow = opts.allowOrigins ?? []
  if (!Array.isArray(allow)) {
    throw new InvalidOptionError(
      `${name('allowOrigins')} must be an array of origins, got ${describeValue(allow)}`,
    )
  }
  const listed = allow.map((o, i) => originOf(o, `allowOrigins[${i}]`).origin)
  const origins = base || listed.length > 0 ? new Set([...(base ? [base.origin] : []), ...listed]) : undefined

  let headers: Record<string, string | string[]>
  try {
    headers = mergeHeaders({}, opts.headers)
  } catch (error) {
    if (error instanceof InvalidRequestError)
      throw new InvalidOptionError(
        `${CALLER}: ${error.message.replace(/^Invalid request: /, 'option `headers`: ')}`,
      )
    throw error
  }
  // Client headers are usually credentials: with no origin named they would go to every host a
  // request names, so they need the user to say where they may go.
  if (origins === undefined && Object.keys(headers).length > 0) {
    throw new InvalidOptionError(
      `${CALLER}: \`headers\` are sent only to the baseUrl's origin and \`allowOrigins\`: give one of them (a request's own headers go with that request only)`,
    )
  }

  const limiter = sharedLimiter(opts, CALLER, LIMIT_FIELDS)
  const limits = resolveLimits(opts, CALLER, API_RATE_MARGIN)
  if (opts.dispatcher !== undefined) {
    if (typeof (opts.dispatcher as { dispatch?: unknown }).dispatch !== 'function') {
      throw new InvalidOptionError(
        `${name('dispatcher')} must be an undici Dispatcher, got ${describeValue(opts.dispatcher)}`,
      )
    }
    for (const clash of ['connections', 'http2', 'tls'] as const) {
      if (opts[clash] !== undefined) {
        throw new InvalidOptionError(
          `${CALLER}: give \`dispatcher\` or \`${clash}\`, not both (configure your dispatcher)`,
        )
      }
    }
  }
  const timeout = opts.timeout === undefined ? 30_000 : parseDuration(opts.timeout, name('timeout'))
  if (!(timeout > 0) || !Number.isFinite(timeout)) {
    throw new InvalidOptionError(
      `${name('timeout')} must be a finite duration > 0 (it is never infinite), got ${describeValue(opts.timeout)}`,
    )
  }
  const stopOn = opts.stopOn ?? DEFAULT_STOP_ON
  if (!Array.isArray(stopOn) || stopOn.some((s) => !Number.isInteger(s) || s < 100 || s > 599)) {
    throw new InvalidOptionError(
      `${name('stopOn')} must be an array of HTTP statuses (100-599), got ${describeValue(stopOn)}`,
    )
  }
  const on = opts.on ?? {}
  if (typeof on !== 'object' || on === null) {
    throw new InvalidOptionError(
      `${name('on')} must be an object of event listeners, got ${describeValue(on)}`,
    )
  }
  for (const [event, listener] of Object.entries(on)) {
    const list = Array.isArray(listener) ? listener : [listener]
    if (!isEventName(event) || list.some((l) => typeof l !== 'function')) {
      throw new InvalidOptionError(
        `${name('on')}: \`${event}\` must be one of request, response, retry, pause, quota, error, with a function (or an array of them)`,
      )
    }
  }
  const random = opts.random ?? Math.random
  if (typeof random !== 'function') {
    throw new InvalidOptionError(
      `${name('random')} must be a function returning [0, 1), got ${describeValue(random)}`,
    )
  }
  const layers = opts.layers ?? []
  if (!Array.isArray(layers) || layers.some((layer) => typeof layer !== 'function')) {
    throw new InvalidOptionError(
      `${name('layers')} must be an array of layers, functions next => send, got ${describeValue(layers)}`,
    )
  }
  for (const [option, shape] of [
    ['cost', 'spec => ({ tokens: n })'],
    ['usage', 'response => ({ tokens: n })'],
  ] as const) {
    if (opts[option] !== undefined && typeof opts[option] !== 'function') {
      throw new InvalidOptionError(
        `${name(option)} must be a function ${shape}, got ${describeValue(opts[option])}`,
      )
    }
  }
  return {
    base,
    baseOrigin: base?.origin,
    headers,
    origins,
    limits,
    connections:
      opts.connections === undefined ? undefined : wholeNumber(opts.connections, 'connections', 1, 1),
    http2: parseBoolean(opts.http2, name('http2'), false),
    tls: resolveTls(opts.tls, name, CALLER),
    timeout,
    retry: resolveRetry(opts.retry, name('retry')),
    adaptive: parseBoolean(opts.adaptive, name('adaptive'), true),
    maxRetryAfter:
      opts.maxRetryAfter === undefined ? 120_000 : parseDuration(opts.maxRetryAfter, name('maxRetryAfter')),
    stopOn: new Set(stopOn),
    limiter,
    dispatcher: opts.dispatcher,
    maxBodySize: wholeNumber(opts.maxBodySize, 'maxBodySize', 0, 50 * 1024 * 1024),
    maxRedirects: wholeNumber(opts.maxRedirects, 'maxRedirects', 0, 5),
    clock: limits.clock,
    on,
    random,
    layers,
    circuitBreaker: resolveBreaker(opts.circuitBreaker),
    cost: opts.cost,
    usage: opts.usage,
  }
}

const BREAKER_FIELDS = new Set(['failures', 'cooldown'])

function resolveBreaker(value: unknown): BreakerPolicy | undefined {
  if (value === false) return undefined
  const breaker = (value ?? {}) as Record<string, unknown>
  if (typeof breaker !== 'object' || Array.isArray(breaker)) {
    throw new InvalidOptionError(
      `${name('circuitBreaker')} must be false or { failures, cooldown }, got ${describeValue(value)}`,
    )
  }
  for (const field of Object.keys(breaker)) {
    if (!BREAKER_FIELDS.has(field)) {
      throw new InvalidOptionError(`${name('circuitBreaker')} has an unknown field \`${field}\``)
    }
  }
  return {
    failures: wholeNumber(breaker.failures, 'circuitBreaker.failures', 1, 5),
    cooldown: parseDuration(breaker.cooldown ?? 30_000, name('circuitBreaker.cooldown')),
  }
}

export type { Duration }
