import { createSecureContext } from 'node:tls'
import { describeValue, InvalidOptionError } from '../errors.js'
import {
  type Duration,
  parseBoolean,
  parseConcurrency,
  parseDuration,
  parseRates,
  type Rate,
  type ResolvedRate,
} from '../limit/units.js'
import {
  type MockProfile,
  profileInterval,
  type ResolvedProfile,
  resolveProfile,
} from './profiles/options.js'

/** A way the mock can misbehave on purpose. */
export type FaultKind = '500' | '502' | '503' | '429' | 'reset' | 'hang' | 'malformed'

export const FAULT_KINDS: readonly FaultKind[] = ['500', '502', '503', '429', 'reset', 'hang', 'malformed']

/**
 * How the mock server behaves. Every field is a plain JSON value, so `volley mock` flags and config
 * files map onto it directly.
 */
export interface MockServerOptions {
  /** TCP port; 0 lets the system pick a free one (read it from `server.port`). @default 0 */
  port?: number
  /** Interface to listen on. @default '127.0.0.1' (loopback only) */
  host?: string
  /**
   * Serve HTTPS with this PEM key and certificate (`url` starts with https://). Clients must trust
   * the certificate: volley's `tls: { ca: cert }` for a self-signed one.
   * @default plain HTTP
   */
  tls?: { key: string | Buffer; cert: string | Buffer }
  /**
   * With `tls`, also serve HTTP/2 (negotiated by ALPN; HTTP/1.1 clients are still served). A
   * `reset` fault then resets the stream (RST_STREAM), not the connection.
   * @default false
   */
  http2?: boolean
  /**
   * Server-side rate limit, like a real API's quota: '50/s', '600/min', '5/2s', `{ limit, interval }`,
   * or an array that must all hold. Exact sliding windows. Over it: 429 with Retry-After (seconds),
   * RateLimit-Policy / RateLimit and X-RateLimit-*; those quota headers come on admitted responses too.
   * Requests answered 429 do not count against the window. This is the `ietf` profile's quota:
   * the other profiles take their limits in `profile`.
   * @default no rate limit
   */
  rate?: Rate | Rate[]
  /**
   * Speak a real API's rate-limit dialect and enforce its kind of limit: 'ietf' (the RateLimit
   * headers of `rate`, as without a profile), 'openai' and 'anthropic' (requests and tokens per
   * window, their x-ratelimit-* / anthropic-ratelimit-* headers, POST /v1/chat/completions and
   * /v1/messages), 'github' (a fixed window, 403s, a secondary limit), 'shopify' (a leaky bucket).
   * A name takes that profile's documented defaults; `{ name, ...limits }` sets them, e.g.
   * `{ name: 'openai', requests: '5/s', tokens: '2000/s' }`. See docs/mock.md.
   * @default 'ietf'
   */
  profile?: MockProfile
  /** Most requests in flight at once; one more is answered 503 with `Retry-After: 1`. @default no cap */
  maxInFlight?: number
  /**
   * Delay before answering each admitted request: ms or a duration string ('20ms'), or `{ min, max }`
   * for a uniform (seeded) draw between them. The `x-mock-delay: <ms>` request header overrides it.
   * @default 0
   */
  latency?: Duration | { min: Duration; max: Duration }
  /**
   * Probability (0 to 1) of each fault per admitted request, e.g. `{ "500": 0.02, reset: 0.01 }`;
   * they must add up to at most 1. `reset` destroys the connection without a response, `hang` never
   * answers, `malformed` answers 200 with a truncated JSON body. The `x-mock-fault: <kind>` request
   * header forces one for that request.
   * @default no faults
   */
  faults?: Partial<Record<FaultKind, number>>
  /** Seed for the fault and latency draws: the same seed and request order give the same choices. @default random (see `server.seed`) */
  seed?: number
  /** A bearer token every request must carry (`Authorization: Bearer <token>`); otherwise 401. @default no auth */
  auth?: string
  /** Most addresses accepted by one POST /batch/geocode call; more is a 400. @default 100 */
  batchMax?: number
  /** How long a job from POST /jobs stays "pending" before GET /jobs/:id answers "done" (ms or duration). @default 1000 */
  jobDuration?: Duration
  /** Window, in ms or a duration, of `maxWindowAdmitted` / `maxWindowArrivals`. @default the profile's request interval, or the first rate's, else 1000 */
  statsWindow?: Duration
  /**
   * Hold every new connection this long (ms or a duration) before serving it, like a far API's
   * TCP+TLS handshake. With `tls` the client's handshake waits, so the client sees it as a real far
   * API's handshake; over plain http the client's socket is connected at once and only its first
   * request is late. Works with `http2` too. The connection counts in `connections` from the moment
   * it is accepted.
   * @default 0
   */
  connectDelay?: Duration
  /**
   * Keep the arrival time of every request, read by `server.arrivals()`: for a benchmark or test
   * that judges a client by its arrivals (how much of the quota it used). Off by default, since the
   * list grows with every request.
   * @default false
   */
  recordArrivals?: boolean
}

/** MockServerOptions validated and filled in. */
export interface ResolvedMockOptions {
  readonly port: number
  readonly host: string
  readonly tls: { readonly key: string | Buffer; readonly cert: string | Buffer } | undefined
  readonly http2: boolean
  readonly rates: readonly ResolvedRate[]
  /** The dialect and its limits (`rates` above are the ietf profile's). */
  readonly profile: ResolvedProfile
  readonly maxInFlight: number
  /** Uniform latency between `min` and `max` ms (equal for a fixed latency). */
  readonly latency: { readonly min: number; readonly max: number }
  /** Fault probabilities, only those above 0. */
  readonly faults: ReadonlyMap<FaultKind, number>
  readonly seed: number
  readonly auth: string | undefined
  readonly batchMax: number
  readonly jobDuration: number
  readonly statsWindow: number
  /** Ms each new connection is held before it is served. */
  readonly connectDelay: number
  readonly recordArrivals: boolean
}

const OPTION_NAMES = new Set([
  'port',
  'host',
  'tls',
  'http2',
  'rate',
  'profile',
  'maxInFlight',
  'latency',
  'faults',
  'seed',
  'auth',
  'batchMax',
  'jobDuration',
  'statsWindow',
  'connectDelay',
  'recordArrivals',
])

const CALLER = 'startMockServer'

/** Validates every option once, naming the option and the bad value in the error. */
export function resolveMockOptions(options: MockServerOptions | undefined): ResolvedMockOptions {
  const opts = options ?? {}
  if (typeof opts !== 'object' || Array.isArray(opts)) {
    throw new InvalidOptionError(`${CALLER}: options must be an object, got ${describeValue(opts)}`)
  }
  for (const name of Object.keys(opts)) {
    if (!OPTION_NAMES.has(name)) {
      throw new InvalidOptionError(
        `${CALLER}: unknown option \`${name}\` (known: ${[...OPTION_NAMES].join(', ')})`,
      )
    }
  }
  const rates = parseRates(opts.rate, `${CALLER}: option \`rate\``)
  const profile = resolveProfile(opts.profile, opts.rate !== undefined)
  const tls = resolveTls(opts.tls)
  return {
    port: resolvePort(opts.port),
    host: resolveHost(opts.host),
    tls,
    http2: resolveHttp2(opts.http2, tls !== undefined),
    rates,
    profile,
    maxInFlight: parseConcurrency(opts.maxInFlight, `${CALLER}: option \`maxInFlight\``),
    latency: resolveLatency(opts.latency),
    faults: resolveFaults(opts.faults),
    seed: resolveSeed(opts.seed),
    auth: resolveAuth(opts.auth),
    batchMax: parseConcurrency(opts.batchMax ?? 100, `${CALLER}: option \`batchMax\``),
    jobDuration: parseDuration(opts.jobDuration ?? 1000, `${CALLER}: option \`jobDuration\``),
    statsWindow: resolveStatsWindow(opts.statsWindow, profileInterval(profile) ?? rates[0]?.interval),
    connectDelay: parseDuration(opts.connectDelay ?? 0, `${CALLER}: option \`connectDelay\``),
    recordArrivals: parseBoolean(opts.recordArrivals, `${CALLER}: option \`recordArrivals\``, false),
  }
}

function resolvePort(port: unknown): number {
  if (port === undefined) return 0
  if (typeof port === 'number' && Number.isInteger(port) && port >= 0 && port <= 65_535) return port
  throw new InvalidOptionError(
    `${CALLER}: option \`port\` must be a whole number from 0 to 65535, got ${describeValue(port)}`,
  )
}

function resolveHost(host: unknown): string {
  if (host === undefined) return '127.0.0.1'
  if (typeof host === 'string' && host.trim() !== '') return host
  throw new InvalidOptionError(
    `${CALLER}: option \`host\` must be a host name or address, got ${describeValue(host)}`,
  )
}

const PEM_FIELDS = ['key', 'cert'] as const

function resolveTls(tls: unknown): ResolvedMockOptions['tls'] {
  if (tls === undefined) return undefined
  // Values are never shown in errors: a key is a secret.
  const fields = typeof tls === 'object' && tls !== null ? (tls as Record<string, unknown>) : undefined
  const unknown =
    fields && Object.keys(fields).find((name) => !(PEM_FIELDS as readonly string[]).includes(name))
  if (!fields || unknown !== undefined) {
    throw new InvalidOptionError(
      `${CALLER}: option \`tls\` must be { key, cert } (PEM strings or Buffers), got ${fields ? `a field \`${unknown}\`` : describeSecret(tls)}`,
    )
  }
  for (const name of PEM_FIELDS) {
    const value = fields[name]
    if (!(typeof value === 'string' || Buffer.isBuffer(value)) || value.length === 0) {
      throw new InvalidOptionError(
        `${CALLER}: option \`tls.${name}\` must be a non-empty PEM string or Buffer, got ${describeSecret(value)}`,
      )
    }
  }
  const pem = { key: fields.key as string | Buffer, cert: fields.cert as string | Buffer }
  try {
    // Told now, naming the option, rather than as an OpenSSL error from deep inside listen().
    createSecureContext(pem)
  } catch (error) {
    throw new InvalidOptionError(
      `${CALLER}: option \`tls\` is not a usable key and certificate pair: ${(error as Error).message}`,
    )
  }
  return pem
}

/** What a value is, without showing it (it may be a private key). */
function describeSecret(value: unknown): string {
  if (value === undefined || value === null) return String(value)
  if ((typeof value === 'string' || Buffer.isBuffer(value)) && value.length === 0) return 'an empty one'
  return Buffer.isBuffer(value) ? 'a Buffer' : `a ${typeof value}`
}

function resolveHttp2(http2: unknown, hasTls: boolean): boolean {
  if (!parseBoolean(http2, `${CALLER}: option \`http2\``, false)) return false
  if (!hasTls) {
    throw new InvalidOptionError(
      `${CALLER}: option \`http2\` needs \`tls\`: clients negotiate HTTP/2 by ALPN, over TLS only`,
    )
  }
  return true
}

function resolveLatency(latency: unknown): { min: number; max: number } {
  if (latency === undefined) return { min: 0, max: 0 }
  if (typeof latency === 'object' && latency !== null && 'min' in latency && 'max' in latency) {
    const min = parseDuration(latency.min, `${CALLER}: option \`latency.min\``)
    const max = parseDuration(latency.max, `${CALLER}: option \`latency.max\``)
    if (min > max) {
      throw new InvalidOptionError(
        `${CALLER}: option \`latency\` must have min <= max, got ${describeValue(latency)}`,
      )
    }
    return { min, max }
  }
  const fixed = parseDuration(latency, `${CALLER}: option \`latency\``)
  return { min: fixed, max: fixed }
}

function resolveFaults(faults: unknown): Map<FaultKind, number> {
  const resolved = new Map<FaultKind, number>()
  if (faults === undefined) return resolved
  if (typeof faults !== 'object' || faults === null || Array.isArray(faults)) {
    throw new InvalidOptionError(
      `${CALLER}: option \`faults\` must be an object of probabilities such as { "500": 0.02, "reset": 0.01 }, got ${describeValue(faults)}`,
    )
  }
  let total = 0
  for (const [kind, probability] of Object.entries(faults)) {
    if (!(FAULT_KINDS as readonly string[]).includes(kind)) {
      throw new InvalidOptionError(
        `${CALLER}: option \`faults\` has an unknown fault ${describeValue(kind)} (known: ${FAULT_KINDS.join(', ')})`,
      )
    }
    if (typeof probability !== 'number' || !(probability >= 0 && probability <= 1)) {
      throw new InvalidOptionError(
        `${CALLER}: option \`faults.${kind}\` must be a probability from 0 to 1, got ${describeValue(probability)}`,
      )
    }
    total += probability
    if (probability > 0) resolved.set(kind as FaultKind, probability)
  }
  // A little slack for sums such as 0.1 + 0.2 + 0.7 that float arithmetic puts just above 1.
  if (total > 1 + 1e-9) {
    throw new InvalidOptionError(
      `${CALLER}: option \`faults\` probabilities must add up to at most 1, got ${total} from ${describeValue(faults)}`,
    )
  }
  return resolved
}

function resolveSeed(seed: unknown): number {
  if (seed === undefined) return Math.floor(Math.random() * 4_294_967_296)
  if (typeof seed === 'number' && Number.isSafeInteger(seed)) return seed
  throw new InvalidOptionError(
    `${CALLER}: option \`seed\` must be a whole number, got ${describeValue(seed)}`,
  )
}

function resolveAuth(auth: unknown): string | undefined {
  if (auth === undefined) return undefined
  if (typeof auth === 'string' && auth !== '' && !/\s/.test(auth)) return auth
  // Never put the token itself in the message: it may be a real secret.
  throw new InvalidOptionError(
    `${CALLER}: option \`auth\` must be a non-empty bearer token without spaces, got ${typeof auth === 'string' ? 'a string that is empty or has spaces' : describeValue(auth)}`,
  )
}

function resolveStatsWindow(statsWindow: unknown, quotaInterval: number | undefined): number {
  if (statsWindow === undefined) return quotaInterval ?? 1000
  const ms = parseDuration(statsWindow, `${CALLER}: option \`statsWindow\``)
  if (ms > 0) return ms
  throw new InvalidOptionError(
    `${CALLER}: option \`statsWindow\` must be > 0, got ${describeValue(statsWindow)}`,
  )
}
