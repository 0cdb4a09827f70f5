import { describeValue, InvalidOptionError } from '../errors.js'
import type { LimiterStore, LimitPolicy } from './store.js'
import { type Clock, systemClock } from './clock.js'
import {
  type Duration,
  parseBoolean,
  parseConcurrency,
  parseDuration,
  parseRates,
  type Rate,
} from './units.js'

/** The limits every volley entry point takes (createLimiter, createClient, batcher, all/stream/group). */
export interface LimitOptions {
  /** Most tasks running at once. @default Infinity (no cap) */
  concurrency?: number
  /**
   * Most task starts per time window: '5/s', '600/min', '100/10s', `{ limit, interval }`, or an array
   * of them, all of which must hold. Windows slide: no interval-long stretch of time ever holds more.
   * @default no rate limit
   */
  rate?: Rate | readonly Rate[]
  /**
   * Ms (or '50ms') added to every rate's window. The windows are exact where the limiter counts, but
   * a task's request reaches the API a little later, and not always equally late (a cold connection,
   * a busy event loop, a loaded machine): two starts exactly one window apart can land inside one
   * window as the API counts. The margin absorbs that much difference in delay, at a cost of
   * margin / (interval + margin) of the quota. `0` makes the windows exact where they are counted.
   * @default 0 for createLimiter and all/stream/group (generic tasks); API_RATE_MARGIN (20 ms) for
   * createClient and the batcher, whose tasks are API calls
   */
  rateMargin?: Duration
  /**
   * Spread the starts evenly, at most one per (interval + rateMargin) / limit per unit of cost,
   * instead of letting a whole window's quota start at once: the API gets no bursts, whose last
   * requests arrive bunched and late. Costs the burst at the start of a run; keep it for per-second
   * and per-minute quotas (a daily quota would be paced hours apart). @default false
   */
  smooth?: boolean
  /** Where the limiter's state lives; share a store and `key` to share limits. @default a private memory store */
  store?: LimiterStore
  /** The name of this limiter's state in `store`. @default 'volley' */
  key?: string
  /** Where time comes from; tests pass `createManualClock()`. @default the monotonic system clock */
  clock?: Clock
}

/** LimitOptions checked once and filled in: what a Limiter is built from, as it is. */
export interface ResolvedLimits {
  readonly policy: LimitPolicy
  /** Undefined: a private memory store. */
  readonly store: LimiterStore | undefined
  readonly key: string
  readonly clock: Clock
}

/**
 * The default rateMargin of the limits that count API calls (createClient, the batcher). A call
 * counts from when it goes out on a connected socket (RunOptions.countsFrom), so connection setup
 * and TLS are already out of the count; what is left is the jitter between sending and arriving (a
 * busy event loop at either end, a loaded network), measured at 5-15 ms on a loaded loopback. 20 ms
 * costs 2% of a per-second quota and 0.03% of a per-minute one.
 */
export const API_RATE_MARGIN = 20

/** Names of the options that make up a limit (as opposed to where its state lives, or its clock). */
export const LIMIT_FIELDS = ['concurrency', 'rate', 'rateMargin', 'smooth', 'store'] as const

/**
 * Validates the limit options, naming `caller` and the option in every error, and fills in defaults
 * (`rateMargin`: `defaultRateMargin`, 0 unless the caller's tasks are API calls).
 */
export function resolveLimits(options: LimitOptions, caller: string, defaultRateMargin = 0): ResolvedLimits {
  const name = (option: string) => `${caller}: option \`${option}\``
  const key = options.key ?? 'volley'
  if (typeof key !== 'string' || key === '') {
    throw new InvalidOptionError(`${name('key')} must be a non-empty string, got ${describeValue(key)}`)
  }
  const clock = options.clock ?? systemClock
  if (typeof clock?.now !== 'function' || typeof clock.setTimer !== 'function') {
    throw new InvalidOptionError(
      `${name('clock')} must be a Clock (now, wallTime, setTimer, clearTimer), got ${describeValue(clock)}`,
    )
  }
  const store = options.store
  if (store !== undefined && typeof (store as { acquire?: unknown })?.acquire !== 'function') {
    throw new InvalidOptionError(
      `${name('store')} must be a LimiterStore (memoryStore(), redisStore()), got ${describeValue(store)}`,
    )
  }
  return {
    policy: {
      concurrency: parseConcurrency(options.concurrency, name('concurrency')),
      rates: parseRates(options.rate, name('rate')),
      rateMargin: parseDuration(options.rateMargin ?? defaultRateMargin, name('rateMargin')),
      smooth: parseBoolean(options.smooth, name('smooth'), false),
    },
    store,
    key,
    clock,
  }
}

/** Whether the limits hold anything a limiter would have to enforce. */
export function limitsAnything(limits: ResolvedLimits): boolean {
  const { policy } = limits
  return limits.store !== undefined || policy.rates.length > 0 || Number.isFinite(policy.concurrency)
}
