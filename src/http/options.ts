import type { Dispatcher } from 'undici'
import { describeValue, InvalidOptionError } from '../errors.js'
import { type Clock, systemClock } from '../limit/clock.js'
import { Limiter } from '../limit/limiter.js'
import {
  type Duration,
  parseBoolean,
  parseConcurrency,
  parseDuration,
  parseRates,
  type Rate,
  type ResolvedRate,
} from '../limit/units.js'
import type { LimiterStore } from '../limit/store.js'
import { InvalidRequestError } from './errors.js'
import { isEventName, type Listeners } from './events.js'
import type { Layer } from './pipeline.js'
import { maskUrl, redactUrl } from '../redact.js'
import { type RetryOptions, type RetryPolicy, resolveRetry } from './retry.js'
import { type HeaderValues, mergeHeaders } from './spec.js'

export interface ClientOptions {
  /** Relative request URLs are appended to it; its origin may receive `headers`. @default none (absolute URLs only) */
  baseUrl?: string | URL
  /** Sent with every request to the baseUrl's origin and `allowOrigins`, never elsewhere. */
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
   * Your own layers of the request pipeline, outermost first: each gets the next step and returns
   * its own (see Layer). They run inside the retry policy and outside the origin's limiter, so each
   * call of `next` is one more attempt, counted against the rate. @default []
   */
  layers?: readonly Layer[]
}

/** TLS settings of a client's connections (passed to undici's `connect`, then to tls.connect). */
export interface ClientTlsOptions {
  /**
   * Certificate authorities to trust (PEM), **instead of** Node's bundled ones, as tls.connect does:
   * a corporate CA, a self-signed server. To trust both: `[...tls.rootCertificates, myCa]`.
   */
  ca?: PemInput
  /** Client certificate chain (PEM) for mutual TLS; with `key`. */
  cert?: PemInput
  /** The private key (PEM) of `cert`. */
  key?: PemInput
  /** Refuse servers whose certificate does not verify. false accepts any certificate: never in production. @default true */
  rejectUnauthorized?: boolean
  /** Name sent by SNI and checked against the certificate. @default the URL's host name */
  servername?: string
}

export type PemInput = string | Buffer | (string | Buffer)[]

export interface ResolvedClientOptions {
  base: URL | undefined
  baseOrigin: string | undefined
  headers: Record<string, string | string[]>
  /** Origins requests may go to; undefined when unrestricted (no baseUrl, no allowOrigins). */
  origins: ReadonlySet<string> | undefined
  concurrency: number
  rates: ResolvedRate[]
  rateMargin: number
  smooth: boolean
  connections: number | undefined
  http2: boolean
  tls: ClientTlsOptions | undefined
  timeout: number
  retry: RetryPolicy
  adaptive: boolean
  maxRetryAfter: number
  stopOn: ReadonlySet<number>
  limiter: Limiter | undefined
  store: LimiterStore | undefined
  key: string
  dispatcher: Dispatcher | undefined
  maxBodySize: number
  maxRedirects: number
  clock: Clock
  on: Listeners
  random: () => number
  layers: readonly Layer[]
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

const TLS_FIELDS = new Set(['ca', 'cert', 'key', 'rejectUnauthorized', 'servername'])

function isPem(value: unknown): boolean {
  return (typeof value === 'string' || Buffer.isBuffer(value)) && value.length > 0
}

/** What a bad `ca`/`cert`/`key` is, without showing it. */
function describePem(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : 'an array holding something else'
  if (typeof value === 'string' || Buffer.isBuffer(value)) return 'an empty one'
  return `a ${typeof value}`
}

/** `tls`, checked field by field. Certificates and keys are never shown in an error: a key is a secret. */
function resolveTls(value: unknown): ClientTlsOptions | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(
      `${name('tls')} must be { ca, cert, key, rejectUnauthorized, servername }, got ${typeof value === 'string' ? 'a string' : describeValue(value)}`,
    )
  }
  const tls = value as Record<string, unknown>
  for (const field of Object.keys(tls)) {
    if (!TLS_FIELDS.has(field)) {
      throw new InvalidOptionError(
        `${name('tls')} has an unknown field \`${field}\` (known: ${[...TLS_FIELDS].join(', ')})`,
      )
    }
  }
  for (const field of ['ca', 'cert', 'key']) {
    const pem = tls[field]
    if (pem !== undefined && !(isPem(pem) || (Array.isArray(pem) && pem.length > 0 && pem.every(isPem)))) {
      throw new InvalidOptionError(
        `${name(`tls.${field}`)} must be a PEM string or Buffer, or a non-empty array of them, got ${describePem(pem)}`,
      )
    }
  }
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new InvalidOptionError(
      `${CALLER}: give \`tls.cert\` and \`tls.key\` together (a client certificate and its key), not one of them`,
    )
  }
  parseBoolean(tls.rejectUnauthorized, name('tls.rejectUnauthorized'), true)
  if (tls.servername !== undefined && (typeof tls.servername !== 'string' || tls.servername === '')) {
    throw new InvalidOptionError(
      `${name('tls.servername')} must be a non-empty host name, got ${describeValue(tls.servername)}`,
    )
  }
  return { ...tls }
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
  let base: URL | undefined
  if (opts.baseUrl !== undefined) {
    base = new URL(originOf(opts.baseUrl, 'baseUrl').href)
    // Relative paths are appended to the base path, so it must end in '/'.
    if (!base.pathname.endsWith('/')) base.pathname = `${base.pathname}/`
    base.hash = ''
  }
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

  if (opts.limiter !== undefined) {
    if (!(opts.limiter instanceof Limiter)) {
      throw new InvalidOptionError(
        `${name('limiter')} must be a Limiter from createLimiter(), got ${describeValue(opts.limiter)}`,
      )
    }
    for (const clash of ['concurrency', 'rate', 'rateMargin', 'smooth', 'store'] as const) {
      if (opts[clash] !== undefined) {
        throw new InvalidOptionError(
          `${CALLER}: give \`limiter\` or \`${clash}\`, not both (set it on the shared limiter)`,
        )
      }
    }
  }
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
  const stopOn = opts.stopOn ?? [401]
  if (!Array.isArray(stopOn) || stopOn.some((s) => !Number.isInteger(s) || s < 100 || s > 599)) {
    throw new InvalidOptionError(
      `${name('stopOn')} must be an array of HTTP statuses (100-599), got ${describeValue(stopOn)}`,
    )
  }
  const key = opts.key ?? 'volley'
  if (typeof key !== 'string' || key === '') {
    throw new InvalidOptionError(`${name('key')} must be a non-empty string, got ${describeValue(key)}`)
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
  const clock = opts.clock ?? systemClock
  if (typeof clock.now !== 'function' || typeof clock.setTimer !== 'function') {
    throw new InvalidOptionError(`${name('clock')} must be a Clock (now, wallTime, setTimer, clearTimer)`)
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
  return {
    base,
    baseOrigin: base?.origin,
    headers,
    origins,
    concurrency: parseConcurrency(opts.concurrency, name('concurrency')),
    rates: parseRates(opts.rate, name('rate')),
    rateMargin: parseDuration(opts.rateMargin ?? 0, name('rateMargin')),
    smooth: parseBoolean(opts.smooth, name('smooth'), false),
    connections:
      opts.connections === undefined ? undefined : wholeNumber(opts.connections, 'connections', 1, 1),
    http2: parseBoolean(opts.http2, name('http2'), false),
    tls: resolveTls(opts.tls),
    timeout,
    retry: resolveRetry(opts.retry, name('retry')),
    adaptive: parseBoolean(opts.adaptive, name('adaptive'), true),
    maxRetryAfter:
      opts.maxRetryAfter === undefined ? 120_000 : parseDuration(opts.maxRetryAfter, name('maxRetryAfter')),
    stopOn: new Set(stopOn),
    limiter: opts.limiter,
    store: opts.store,
    key,
    dispatcher: opts.dispatcher,
    maxBodySize: wholeNumber(opts.maxBodySize, 'maxBodySize', 0, 50 * 1024 * 1024),
    maxRedirects: wholeNumber(opts.maxRedirects, 'maxRedirects', 0, 5),
    clock,
    on,
    random,
    layers,
  }
}

export type { Duration }
