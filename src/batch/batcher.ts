import type { Result } from '../run/result.js'
import { type BatcherStats, Collector } from './collector.js'
import { loadMany } from './load-many.js'
import type { BatcherOptions, LoadOptions } from './options.js'

/**
 * A function of one item that sends batches behind it; also `load`, `loadMany`, `dispatch`,
 * `flush`, the cache's `prime`, `clear` and `clearAll`, and `close`.
 */
export interface Batcher<K, V> extends AsyncDisposable {
  /**
   * The same as `load`: a promise of the item's result. An item that is undefined or null rejects
   * with an InvalidOptionError, and is not sent.
   */
  (item: K, options?: LoadOptions): Promise<V>
  /** The same as calling the batcher. */
  load(item: K, options?: LoadOptions): Promise<V>
  /**
   * Loads every item and resolves with a Result for each, in order; never rejects for one item.
   * `items` must be an array or another iterable (not a string): anything else rejects with an
   * InvalidOptionError.
   */
  loadMany(items: Iterable<K>, options?: LoadOptions): Promise<Result<V, K>[]>
  /**
   * Sends the open batch now, without waiting for maxWait (with `maxWait: 'manual'`, the way a
   * batch goes before it is full). Without a limiter the batch function is called before it returns.
   */
  dispatch(): void
  /** `dispatch()`, then resolves when every batch sent so far is answered. */
  flush(): Promise<void>
  /**
   * With a cache: keeps `value` as `item`'s result unless one is kept already (then nothing
   * changes, as in DataLoader). An Error is kept as a rejection, until cleared. Throws an
   * InvalidOptionError on a batcher with no cache. Returns the batcher.
   */
  prime(item: K, value: V | Error): Batcher<K, V>
  /** Forgets the cached result of `item` (undefined and null are refused). Returns the batcher. */
  clear(item: K): Batcher<K, V>
  /** Forgets every cached result. Returns the batcher. */
  clearAll(): Batcher<K, V>
  /** Sends what is queued, waits for every batch, and rejects later loads with a ClosedError. */
  close(): Promise<void>
  stats(): BatcherStats
}

/**
 * Turns a batch API into a function of one item: loads made close together are sent as one call
 * of `batch` (at most `maxBatchSize` distinct items, after at most `maxWait`), through a Limiter.
 *
 * ```ts
 * const geocode = batcher({ batch: (addresses) => api.geocodeMany(addresses), maxBatchSize: 100, maxWait: '20ms' })
 * const location = await geocode('221B Baker St')
 * ```
 */
export function batcher<K, V, C = K>(options: BatcherOptions<K, V, C>): Batcher<K, V> {
  const collector = new Collector(options)
  const load = (item: K, loadOptions?: LoadOptions) => collector.load(item, loadOptions)
  const close = () => collector.close()
  const self: Batcher<K, V> = Object.assign(load, {
    load,
    loadMany: (items: Iterable<K>, loadOptions?: LoadOptions) => loadMany(load, items, loadOptions),
    dispatch: () => collector.dispatch(),
    flush: () => collector.flush(),
    prime: (item: K, value: V | Error) => {
      collector.prime(item, value)
      return self
    },
    clear: (item: K) => {
      collector.clear(item)
      return self
    },
    clearAll: () => {
      collector.clearAll()
      return self
    },
    close,
    stats: () => collector.stats(),
    [Symbol.asyncDispose]: close,
  })
  return self
}
