import { AbortError, ClosedError, describeValue, InvalidOptionError } from '../errors.js'
import type { Clock } from '../limit/clock.js'
import type { Limiter } from '../limit/limiter.js'
import { abortable } from './abortable.js'
import { type CacheMap, type LoadOptions, resolveBatcherOptions, type BatcherOptions } from './options.js'
import { PendingBatch } from './pending.js'
import { BatchSender, type SendCounts } from './send.js'
import { afterPromiseJobs } from './tick.js'

export interface BatcherStats extends SendCounts {
  /** Loads asked for, cache hits included. */
  loads: number
  /** Loads answered from the cache without a batch call. */
  cacheHits: number
  /** Distinct keys waiting to be sent (collecting, or waiting for the limiter). */
  queued: number
  /** Batches sent and not answered yet (a retry's backoff included). */
  running: number
}

/**
 * The collector behind a batcher: loads join the open batch (the "tail") until it is full or its
 * first key has waited maxWait (or, with 'manual', until `dispatch`); then the batch is handed to
 * the sender. Until the limiter starts it, a batch that is not full keeps taking keys, so a flood of
 * loads behind a slow limiter turns into full batches. Batches waiting or running are tracked until
 * they settle.
 */
export class Collector<K, V, C> {
  readonly #maxBatchSize: number
  /** Infinity for 'manual': no timer. */
  readonly #maxWait: number
  readonly #keyOf: ((item: K) => C) | undefined
  readonly #dedupe: boolean
  readonly #cache: CacheMap<C, V> | undefined
  readonly #limiter: Limiter | undefined
  readonly #ownLimiter: boolean
  readonly #clock: Clock
  readonly #sender: BatchSender<K, V, C>
  /** The batch new loads join; undefined when none is open (then no timer runs either). */
  #tail: PendingBatch<K, V, C> | undefined
  /** Every batch not settled yet. */
  readonly #live = new Set<PendingBatch<K, V, C>>()
  #closed = false
  #tickPending = false
  #loads = 0
  #cacheHits = 0

  constructor(options: BatcherOptions<K, V, C>) {
    const o = resolveBatcherOptions(options)
    this.#maxBatchSize = o.maxBatchSize
    this.#maxWait = o.maxWait
    this.#keyOf = o.key
    this.#dedupe = o.dedupe
    this.#cache = o.cache
    this.#limiter = o.limiter
    this.#ownLimiter = o.ownLimiter
    this.#clock = o.clock
    this.#sender = new BatchSender(o, (batch) => {
      if (this.#tail === batch) this.#tail = undefined
    })
  }

  load(item: K, options?: LoadOptions): Promise<V> {
    // The common path stays small (so the JIT can inline it into the caller); the rest is in #loadWith.
    if (
      options !== undefined ||
      item == null ||
      this.#closed ||
      this.#cache !== undefined ||
      this.#keyOf !== undefined
    )
      return this.#loadWith(item, options)
    this.#loads++
    return this.#enqueue(item, item as unknown as C, undefined)
  }

  #loadWith(item: K, options: LoadOptions | undefined): Promise<V> {
    if (this.#closed) return Promise.reject(new ClosedError('batcher: closed, it takes no more loads'))
    const signal = options?.signal
    if (signal?.aborted) return Promise.reject(AbortError.from(signal))
    let key: C
    try {
      key = this.#keyFor(item, 'load')
    } catch (error) {
      // A bad item, or a key function that throws, fails this load as a value, like every other
      // load failure (one bad item in a loadMany is one failed Result).
      return Promise.reject(error)
    }
    this.#loads++
    if (this.#cache !== undefined) return this.#cached(this.#cache, item, key, signal)
    return this.#enqueue(item, key, signal)
  }

  /** Sends the open batch now, if it has not gone yet. */
  dispatch(): void {
    const tail = this.#tail
    if (tail?.state === 'collecting') this.#submit(tail)
  }

  async flush(): Promise<void> {
    this.dispatch()
    // Only the tail can be collecting (a full batch is submitted at once), so every batch has `done`.
    await Promise.all(Array.from(this.#live, (batch) => batch.done))
  }

  /** Caches `value` for `item` unless a result is cached already; an Error is kept as a rejection. */
  prime(item: K, value: V | Error): void {
    const cache = this.#cache
    if (cache === undefined) {
      throw new InvalidOptionError(
        'batcher.prime(item, value): this batcher keeps no results; pass the `cache` option to prime it',
      )
    }
    const key = this.#keyFor(item, 'prime')
    if (cache.get(key) !== undefined) return
    if (value instanceof Error) {
      const rejected = Promise.reject(value)
      // Primed on purpose: no unhandled rejection until a load asks for it.
      rejected.catch(() => {})
      cache.set(key, rejected)
    } else {
      cache.set(key, Promise.resolve(value))
    }
  }

  clear(item: K): void {
    const key = this.#keyFor(item, 'clear')
    this.#cache?.delete(key)
  }

  clearAll(): void {
    this.#cache?.clear()
  }

  async close(): Promise<void> {
    this.#closed = true
    await this.flush()
    if (this.#ownLimiter) await this.#limiter?.close()
  }

  stats(): BatcherStats {
    let queued = 0
    let running = 0
    for (const batch of this.#live) {
      if (batch.state === 'started') running++
      else queued += batch.size
    }
    return { loads: this.#loads, cacheHits: this.#cacheHits, ...this.#sender.counts, queued, running }
  }

  #enqueue(item: K, key: C, signal: AbortSignal | undefined): Promise<V> {
    const batch = this.#tail ?? this.#open()
    const promise = batch.add(item, key)
    if (signal !== undefined) this.#watch(batch, signal)
    if (batch.full) this.#seal(batch)
    return promise
  }

  /** Ties the newest load of `batch` to its signal. */
  #watch(batch: PendingBatch<K, V, C>, signal: AbortSignal): void {
    const load = batch.loads - 1
    batch.watch(signal, () => this.#abandon(batch, load, signal))
  }

  /** Full: later loads open the next batch, and this one need not wait for maxWait. */
  #seal(batch: PendingBatch<K, V, C>): void {
    this.#tail = undefined
    if (batch.state === 'collecting') this.#submit(batch)
  }

  /**
   * The cache holds one promise per key, shared by every load of it (so the batch needs no dedupe
   * of its own); a signal only detaches its own load. Failed keys are forgotten as they fail. A hit
   * waits for the open batch (or opens one, as a miss would) and resolves as it settles, as in
   * DataLoader: what the caller loads next from a hit then joins what it loads from the misses.
   */
  #cached(cache: CacheMap<C, V>, item: K, key: C, signal: AbortSignal | undefined): Promise<V> {
    const shared = cache.get(key)
    let promise: Promise<V>
    if (shared === undefined) {
      promise = this.#enqueue(item, key, undefined)
      cache.set(key, promise)
    } else {
      this.#cacheHits++
      promise = (this.#tail ?? this.#open()).hold(shared)
    }
    return signal === undefined ? promise : abortable(promise, signal)
  }

  /** Opens a batch and starts its maxWait: the one timer (or tick) there is while keys are collecting. */
  #open(): PendingBatch<K, V, C> {
    const cache = this.#cache
    const batch =
      cache === undefined
        ? new PendingBatch<K, V, C>(this.#maxBatchSize, this.#keyOf !== undefined, this.#dedupe)
        : new PendingBatch<K, V, C>(this.#maxBatchSize, this.#keyOf !== undefined, false, this.#forget)
    this.#tail = batch
    this.#live.add(batch)
    const wait = this.#maxWait
    // 'manual' (Infinity) sets no timer: the batch goes when it is full or dispatched.
    if (wait === 0) {
      if (!this.#tickPending) {
        // One pending tick for the whole batcher, holding no batch: loads that resolve at once can
        // chain through thousands of full batches before the tick comes, and a tick per batch would
        // keep every one of them alive until then.
        this.#tickPending = true
        afterPromiseJobs(this.#endOfTick)
      }
    } else if (wait !== Number.POSITIVE_INFINITY) {
      batch.timer = this.#clock.setTimer(() => {
        batch.timer = undefined
        if (batch.state === 'collecting') this.#submit(batch)
      }, wait)
    }
    return batch
  }

  /** With a cache: a failed key is not kept, so the next load of it asks again. */
  readonly #forget = (key: C) => {
    this.#cache?.delete(key)
  }

  /** maxWait 0: what the tick loaded goes now. */
  readonly #endOfTick = () => {
    this.#tickPending = false
    this.dispatch()
  }

  /** Hands the batch to the sender; it may start at once (then it is sent here and now). */
  #submit(batch: PendingBatch<K, V, C>): void {
    this.#stopTimer(batch)
    if (batch.loads === 0) {
      // Only cache hits joined it: nothing to send, and they are due now.
      batch.state = 'settled'
      this.#retire(batch)
      return
    }
    batch.state = 'queued'
    batch.done = this.#sender.send(batch).then(() => this.#retire(batch))
  }

  /** A load's signal aborted: reject it, and drop the batch once no load waits for it. */
  #abandon(batch: PendingBatch<K, V, C>, load: number, signal: AbortSignal): void {
    if (!batch.drop(load, AbortError.from(signal)) || batch.waiting > 0) return
    if (this.#tail === batch) this.#tail = undefined
    if (batch.state === 'collecting') {
      this.#stopTimer(batch)
      batch.state = 'settled'
      this.#retire(batch)
    } else {
      // Leaves the limiter's queue if it waits there; tells the batch function if it runs.
      batch.abandon(new AbortError('batcher: every load of this batch was aborted'))
    }
  }

  /**
   * A batch that has settled or failed: no longer live, and never again the one new loads join
   * (a batch failed while queued, say by a shared limiter closing, would otherwise take loads that
   * never settle). The cache hits that joined it resolve now.
   */
  #retire(batch: PendingBatch<K, V, C>): void {
    this.#live.delete(batch)
    if (this.#tail === batch) this.#tail = undefined
    batch.releaseHits()
  }

  /** The key of a load (or prime, or clear) of `item`; undefined and null are no keys. */
  #keyFor(item: K, method: string): C {
    if (item == null) {
      throw new InvalidOptionError(
        `batcher.${method}(item): the item (the key to ${method}) must not be ${String(item)}` +
          (method === 'clear' ? '; clearAll() forgets every result' : ''),
      )
    }
    if (this.#keyOf === undefined) return item as unknown as C
    const key = this.#keyOf(item)
    if (key == null) {
      throw new InvalidOptionError(
        `batcher: option \`key\` returned ${String(key)} for the item ${describeValue(item)}; a key must be a value`,
      )
    }
    return key
  }

  #stopTimer(batch: PendingBatch<K, V, C>): void {
    if (batch.timer !== undefined) {
      this.#clock.clearTimer(batch.timer)
      batch.timer = undefined
    }
  }
}
