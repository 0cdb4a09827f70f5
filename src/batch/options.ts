import { describeValue, InvalidOptionError } from '../errors.js'
import { type BackoffOptions, backoffDelay, resolveBackoff } from '../limit/backoff.js'
import type { Clock } from '../limit/clock.js'
import { Limiter } from '../limit/limiter.js'
import { sharedLimiter } from '../limit/shared-limiter.js'
import { API_RATE_MARGIN, type LimitOptions, limitsAnything, resolveLimits } from '../limit/limits.js'
import { type Duration, parseConcurrency, parseDuration } from '../limit/units.js'

export interface LoadOptions {
  /**
   * Aborting it rejects the load at once with an AbortError. Before its batch is sent the key is
   * taken out of it (unless another load still wants it); once no load waits for a batch, the
   * batch function's signal aborts.
   */
  signal?: AbortSignal
}

/** What the batch function is given besides the keys. */
export interface BatchContext {
  /** Aborts when no load waits for this batch any more (every one was aborted). */
  signal: AbortSignal
  /**
   * Call it when the batch's request goes out (on a connected socket, if you can tell): its start
   * against `rate` then counts from there, as the API counts it, not from when the batch was let
   * through. Without the call it counts from then, which `rateMargin` covers for a warm connection.
   */
  sent(): void
}

/**
 * Called with up to `maxBatchSize` distinct items. Resolves to an array with one result per item,
 * in the same order, or to a Map or plain object keyed by key. An Error as a result fails only
 * that key; throwing (or rejecting) fails every key of the batch, after `retry`.
 */
export type BatchFn<K, V> = (
  items: K[],
  context: BatchContext,
) => BatchResults<V> | PromiseLike<BatchResults<V>>

/** An array aligned with the items, or a Map or plain object keyed by key; an Error fails one key. */
export type BatchResults<V> =
  ReadonlyArray<V | Error> | ReadonlyMap<unknown, V | Error> | Record<string, V | Error>

/** Where cached results live: a Map works, and so does any LRU with the same four methods. */
export interface CacheMap<C, V> {
  get(key: C): Promise<V> | undefined
  set(key: C, value: Promise<V>): unknown
  delete(key: C): unknown
  clear(): unknown
}

/** How a batch that throws is tried again. Each attempt goes through the limiter again. */
export interface BatchRetryOptions {
  /** Attempts in total, the first included: 3 means up to 2 retries. */
  attempts: number
  /**
   * The wait before retry `n` (1 for the first): `{ base, max }` waits `base * 2^(n-1)`, at most
   * `max` (no jitter: the limiter already spaces batch calls), or a function of `n` and the error
   * returning milliseconds. @default { base: 250, max: 20_000 }
   */
  backoff?: BackoffOptions | ((retry: number, error: unknown) => number)
}

/**
 * The batcher's limits on its batch calls: those of createLimiter, but for `store` and `key` (its
 * `key` maps items): to share limits through a store, pass a `limiter` built on it.
 */
type BatchLimitOptions = Pick<LimitOptions, 'concurrency' | 'rate' | 'rateMargin' | 'smooth' | 'clock'>

export interface BatcherOptions<K, V, C = K> extends BatchLimitOptions {
  /** Answers many keys in one call; see BatchFn for its contract, checked at run time. */
  batch: BatchFn<K, V>
  /** Most distinct items per batch call: a batch is sent as soon as it is full. @default Infinity */
  maxBatchSize?: number
  /**
   * How long the first key of a batch waits for company before the batch is sent (ms or '20ms').
   * 0 sends what the current tick has loaded, as DataLoader does. `'manual'`: no timer at all, a
   * batch goes when it is full or when you call `dispatch()` (or `flush()`, `close()`). @default 0
   */
  maxWait?: Duration | 'manual'
  /** Maps an item to the key used to dedupe, cache and find it in a Map or object result. @default the item */
  key?: (item: K) => C
  /** A shared Limiter for the batch calls (its limits then hold across everyone sharing it). */
  limiter?: Limiter
  /** Sends equal keys loaded into one batch once; every load of them gets the result. @default true */
  dedupe?: boolean
  /**
   * Keeps results: `true` for a Map, or your own CacheMap (an LRU, say). Failures are not kept (an
   * Error you `prime` is). A load answered from the cache resolves with the batch it joined (the
   * open one, or one it opens), as DataLoader's do, so loads that follow from it coalesce with those
   * that follow from the batch. With a cache, a key's result is fetched even when the loads that
   * asked for it abort. @default false
   */
  cache?: boolean | CacheMap<C, V>
  /**
   * Tries a batch that throws again: a number of retries (`2` = up to 3 attempts, as for the HTTP
   * client), `false`, or BatchRetryOptions. Off by default: a batch call may not be safe to repeat.
   * @default false
   */
  retry?: number | false | BatchRetryOptions
}

export interface ResolvedBatcherOptions<K, V, C> {
  batch: BatchFn<K, V>
  maxBatchSize: number
  /** Ms; Infinity for `'manual'` (no timer). */
  maxWait: number
  key: ((item: K) => C) | undefined
  /** Undefined when neither `limiter`, `concurrency` nor `rate` was given. */
  limiter: Limiter | undefined
  /** True when the limiter is this batcher's own, to close with it. */
  ownLimiter: boolean
  dedupe: boolean
  cache: CacheMap<C, V> | undefined
  attempts: number
  /** Ms to wait before retry `n`. */
  backoff: (retry: number, error: unknown) => number
  clock: Clock
}

/** Validates every option once, naming it and its value in the error. */
export function resolveBatcherOptions<K, V, C>(
  options: BatcherOptions<K, V, C>,
): ResolvedBatcherOptions<K, V, C> {
  const name = (option: string) => `batcher: option \`${option}\``
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(`batcher: options must be an object, got ${describeValue(options)}`)
  }
  if (typeof options.batch !== 'function') {
    throw new InvalidOptionError(
      `${name('batch')} must be a function (keys, { signal }) => results, got ${describeValue(options.batch)}`,
    )
  }
  if (options.key !== undefined && typeof options.key !== 'function') {
    throw new InvalidOptionError(
      `${name('key')} must be a function item => key, got ${describeValue(options.key)}`,
    )
  }
  const dedupe = options.dedupe ?? true
  if (typeof dedupe !== 'boolean') {
    throw new InvalidOptionError(`${name('dedupe')} must be true or false, got ${describeValue(dedupe)}`)
  }
  const { concurrency, rate, rateMargin, smooth, clock } = options
  const limitOptions = { concurrency, rate, rateMargin, smooth, clock }
  const limits = resolveLimits(limitOptions, 'batcher', API_RATE_MARGIN)
  const shared = sharedLimiter({ ...limitOptions, limiter: options.limiter }, 'batcher', [
    'concurrency',
    'rate',
    'rateMargin',
    'smooth',
  ])
  // Without limits a limiter would only add promise jobs to every batch (as in run/options.ts).
  const limiter = shared ?? (limitsAnything(limits) ? new Limiter(limits) : undefined)
  const { attempts, backoff } = resolveBatchRetry(options.retry, name('retry'))
  return {
    batch: options.batch,
    maxBatchSize: parseConcurrency(options.maxBatchSize, name('maxBatchSize')),
    maxWait: resolveMaxWait(options.maxWait, name('maxWait')),
    key: options.key,
    limiter,
    ownLimiter: limiter !== shared,
    dedupe,
    cache: resolveCache(options.cache, name('cache')),
    attempts,
    backoff,
    clock: limits.clock,
  }
}

/** `'manual'` is Infinity: no timer. Infinity itself is refused, pointing to `'manual'`. */
function resolveMaxWait(maxWait: BatcherOptions<any, any>['maxWait'], option: string): number {
  if (maxWait === 'manual') return Number.POSITIVE_INFINITY
  if (maxWait === Number.POSITIVE_INFINITY) {
    throw new InvalidOptionError(
      `${option} must be finite; for no timer at all pass 'manual' and call dispatch(), got Infinity`,
    )
  }
  return parseDuration(maxWait ?? 0, option)
}

function resolveCache<C, V>(
  cache: BatcherOptions<any, V, C>['cache'],
  option: string,
): CacheMap<C, V> | undefined {
  if (cache === undefined || cache === false) return undefined
  if (cache === true) return new Map()
  const methods = ['get', 'set', 'delete', 'clear'] as const
  if (typeof cache !== 'object' || cache === null || methods.some((m) => typeof cache[m] !== 'function')) {
    throw new InvalidOptionError(
      `${option} must be true, false or a Map-like object with get, set, delete and clear, got ${describeValue(cache)}`,
    )
  }
  return cache
}

function resolveBatchRetry(
  retry: BatcherOptions<any, any>['retry'],
  option: string,
): { attempts: number; backoff: (retry: number, error: unknown) => number } {
  if (retry === undefined || retry === false) return { attempts: 1, backoff: () => 0 }
  if (typeof retry === 'number' && !(Number.isInteger(retry) && retry >= 0)) {
    throw new InvalidOptionError(
      `${option} must be a whole number of retries >= 0, got ${describeValue(retry)}`,
    )
  }
  const spec = typeof retry === 'number' ? { attempts: retry + 1 } : retry
  if (typeof spec !== 'object' || spec === null) {
    throw new InvalidOptionError(
      `${option} must be a number of retries, false, or { attempts, backoff }, got ${describeValue(retry)}`,
    )
  }
  const { attempts } = spec
  if (typeof attempts !== 'number' || !Number.isInteger(attempts) || attempts < 1) {
    throw new InvalidOptionError(
      `${option}.attempts must be a whole number >= 1 (1: no retry), got ${describeValue(attempts)}`,
    )
  }
  const backoff = spec.backoff ?? {}
  if (typeof backoff === 'function') {
    // A user's function is checked at each use: its answer must be a Duration too.
    return { attempts, backoff: (n, error) => parseDuration(backoff(n, error), `${option}.backoff(${n})`) }
  }
  if (typeof backoff !== 'object' || backoff === null) {
    throw new InvalidOptionError(
      `${option}.backoff must be { base, max } or a function (retry, error) => ms, got ${describeValue(backoff)}`,
    )
  }
  // No jitter: the limiter already spaces the batch calls.
  const waits = resolveBackoff(backoff, option, 'backoff', {
    base: 250,
    max: 20_000,
    factor: 2,
    jitter: 'none',
  })
  return { attempts, backoff: (n) => backoffDelay(waits, n, 0) }
}
