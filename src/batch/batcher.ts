import { setMaxListeners } from 'node:events'
import { AbortError, ClosedError } from '../errors.js'
import type { Clock } from '../limit/clock.js'
import { sleep } from '../limit/sleep.js'
import type { Limiter } from '../limit/limiter.js'
import { noop } from '../limit/task.js'
import { type Result, toError } from '../run/result.js'
import { type BatcherOptions, type BatchFn, type CacheMap, resolveBatcherOptions } from './options.js'
import { PendingBatch } from './pending.js'
import { afterPromiseJobs } from './tick.js'
import { abortable } from './abortable.js'

export interface LoadOptions {
  /**
   * Aborting it rejects the load at once with an AbortError. Before its batch is sent the key is
   * taken out of it (unless another load still wants it); once no load waits for a batch, the
   * batch function's signal aborts.
   */
  signal?: AbortSignal
}

export interface BatcherStats {
  /** Loads asked for, cache hits included. */
  loads: number
  /** Loads answered from the cache without a batch call. */
  cacheHits: number
  /** Batch calls made, retries not counted. */
  batches: number
  /** Batch calls made again after a batch threw. */
  retries: number
  /** Distinct keys sent, over every batch. */
  keys: number
  /** The most keys sent in one batch. */
  largestBatch: number
  /** Distinct keys waiting to be sent (collecting, or waiting for the limiter). */
  queued: number
  /** Batches sent and not answered yet (a retry's backoff included). */
  running: number
}

/** A function of one item that sends batches behind it; also `load`, `loadMany`, `flush`, `close`. */
export interface Batcher<K, V> extends AsyncDisposable {
  (item: K, options?: LoadOptions): Promise<V>
  /** The same as calling the batcher. */
  load(item: K, options?: LoadOptions): Promise<V>
  /** Loads every item and resolves with a Result for each, in order; never rejects for one key. */
  loadMany(items: Iterable<K>, options?: LoadOptions): Promise<Result<V, K>[]>
  /** Sends what is queued without waiting for maxWait; resolves when every batch sent so far is answered. */
  flush(): Promise<void>
  /** Forgets the cached result of `item`, or every cached result. */
  clear(item?: K): void
  /** Sends what is queued, waits for every batch, and rejects later loads with a ClosedError. */
  close(): Promise<void>
  stats(): BatcherStats
}

/**
 * The collector behind a batcher: loads join the open batch (the "tail") until it is full or its
 * first key has waited maxWait; then the batch is handed to the limiter. Until the limiter starts
 * it, a batch that is not full keeps taking keys, so a flood of loads behind a slow limiter turns
 * into full batches. Batches that are waiting or running are tracked until they settle.
 */
class Collector<K, V, C> {
  readonly #batch: BatchFn<K, V>
  readonly #maxBatchSize: number
  readonly #maxWait: number
  readonly #keyOf: ((item: K) => C) | undefined
  readonly #dedupe: boolean
  readonly #cache: CacheMap<C, V> | undefined
  /** Undefined when no limit was asked for: then a batch goes as soon as it is due. */
  readonly #limiter: Limiter | undefined
  readonly #ownLimiter: boolean
  readonly #attempts: number
  readonly #backoff: (retry: number, error: unknown) => number
  readonly #clock: Clock
  /** The batch new loads join; undefined when none is open (then no timer runs either). */
  #tail: PendingBatch<K, V, C> | undefined
  /** Every batch not settled yet. */
  readonly #live = new Set<PendingBatch<K, V, C>>()
  #closed = false
  #tickPending = false
  #loads = 0
  #cacheHits = 0
  #batches = 0
  #retries = 0
  #keys = 0
  #largestBatch = 0

  constructor(options: BatcherOptions<K, V, C>) {
    const o = resolveBatcherOptions(options)
    this.#batch = o.batch
    this.#maxBatchSize = o.maxBatchSize
    this.#maxWait = o.maxWait
    this.#keyOf = o.key
    this.#dedupe = o.dedupe
    this.#cache = o.cache
    this.#limiter = o.limiter
    this.#ownLimiter = o.ownLimiter
    this.#attempts = o.attempts
    this.#backoff = o.backoff
    this.#clock = o.clock
  }

  load(item: K, options?: LoadOptions): Promise<V> {
    // The common path stays small (so the JIT can inline it into the caller); the rest is in #loadWith.
    if (options !== undefined || this.#closed || this.#cache !== undefined || this.#keyOf !== undefined)
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
      key = this.#keyFor(item)
    } catch (error) {
      // A key function that throws fails this load, as a value, like every other load failure.
      return Promise.reject(error)
    }
    this.#loads++
    if (this.#cache !== undefined) return this.#cached(this.#cache, item, key, signal)
    return this.#enqueue(item, key, signal)
  }

  async loadMany(items: Iterable<K>, options?: LoadOptions): Promise<Result<V, K>[]> {
    const signal = options?.signal
    // One listener on the caller's signal however many items: the loads listen to a signal of ours
    // (one listener each would make Node warn of a leak past ten).
    const relay = signal && !signal.aborted ? new AbortController() : undefined
    const forward = relay && (() => relay.abort(signal!.reason))
    if (forward) {
      setMaxListeners(0, relay.signal)
      signal!.addEventListener('abort', forward, { once: true })
    }
    const loadOptions = relay ? { signal: relay.signal } : options
    try {
      return await Promise.all(
        Array.from(items, (item, index) =>
          this.load(item, loadOptions).then(
            (value): Result<V, K> => ({ ok: true, value, index, item }),
            (error: unknown): Result<V, K> => ({ ok: false, error: toError(error), index, item }),
          ),
        ),
      )
    } finally {
      if (forward) signal!.removeEventListener('abort', forward)
    }
  }

  async flush(): Promise<void> {
    const tail = this.#tail
    if (tail?.state === 'collecting') this.#submit(tail)
    // Only the tail can be collecting (a full batch is submitted at once), so every batch has `done`.
    await Promise.all(Array.from(this.#live, (batch) => batch.done))
  }

  clear(item?: K): void {
    if (item === undefined) this.#cache?.clear()
    else this.#cache?.delete(this.#keyFor(item))
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
    return {
      loads: this.#loads,
      cacheHits: this.#cacheHits,
      batches: this.#batches,
      retries: this.#retries,
      keys: this.#keys,
      largestBatch: this.#largestBatch,
      queued,
      running,
    }
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
   * of its own); a signal only detaches its own load. Failed keys are forgotten as they fail.
   */
  #cached(cache: CacheMap<C, V>, item: K, key: C, signal: AbortSignal | undefined): Promise<V> {
    let shared = cache.get(key)
    if (shared === undefined) {
      shared = this.#enqueue(item, key, undefined)
      cache.set(key, shared)
    } else {
      this.#cacheHits++
    }
    return signal === undefined ? shared : abortable(shared, signal)
  }

  /** Opens a batch and starts its maxWait: the one timer there is while keys are collecting. */
  #open(): PendingBatch<K, V, C> {
    const cache = this.#cache
    const batch =
      cache === undefined
        ? new PendingBatch<K, V, C>(this.#maxBatchSize, this.#keyOf !== undefined, this.#dedupe)
        : new PendingBatch<K, V, C>(this.#maxBatchSize, this.#keyOf !== undefined, false, this.#forget)
    this.#tail = batch
    this.#live.add(batch)
    if (this.#maxWait > 0) {
      batch.timer = this.#clock.setTimer(() => {
        batch.timer = undefined
        if (batch.state === 'collecting') this.#submit(batch)
      }, this.#maxWait)
    } else if (!this.#tickPending) {
      // One pending tick for the whole batcher, holding no batch: loads that resolve at once can
      // chain through thousands of full batches before the tick comes, and a tick per batch would
      // keep every one of them alive until then.
      this.#tickPending = true
      afterPromiseJobs(this.#endOfTick)
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
    const tail = this.#tail
    if (tail?.state === 'collecting') this.#submit(tail)
  }

  /** Hands the batch to the limiter; it may start at once (then it is sent here and now). */
  #submit(batch: PendingBatch<K, V, C>): void {
    this.#stopTimer(batch)
    batch.state = 'queued'
    batch.done = this.#attempt(batch, 1)
  }

  /**
   * One attempt at the batch, through the limiter when there is one. Written with `then` rather
   * than as an async loop: each await would add promise jobs to every batch of a hot path.
   */
  #attempt(batch: PendingBatch<K, V, C>, attempt: number): Promise<void> {
    let answer: Promise<unknown>
    if (this.#limiter === undefined) {
      try {
        answer = Promise.resolve(this.#call(batch, noop))
      } catch (error) {
        answer = Promise.reject(error)
      }
    } else {
      answer = this.#limiter.run((context) => this.#call(batch, context.sent), {
        signal: batch.signal,
        countsFrom: 'sent',
      })
    }
    return answer.then(
      (results) => {
        batch.settle(results)
        this.#retire(batch)
      },
      (error: unknown) => this.#failed(batch, attempt, error),
    )
  }

  /** A failed attempt: try again after the backoff, or fail every load still waiting. */
  #failed(batch: PendingBatch<K, V, C>, attempt: number, error: unknown): Promise<void> | undefined {
    const signal = batch.signal
    const giveUp = () => {
      batch.fail(error)
      this.#retire(batch)
    }
    // Nobody waits (aborted), the limiter is gone (closed), or the attempts are used up.
    if (signal.aborted || error instanceof ClosedError || attempt >= this.#attempts) {
      giveUp()
      return
    }
    let delay: number
    try {
      delay = this.#backoff(attempt, error)
    } catch (invalid) {
      error = invalid
      giveUp()
      return
    }
    return sleep(this.#clock, delay, signal).then(() => {
      this.#retries++
      return this.#attempt(batch, attempt + 1)
    }, giveUp)
  }

  /** Called by the limiter when the batch may go: on the first attempt its items are fixed. */
  #call(batch: PendingBatch<K, V, C>, sent: () => void) {
    if (batch.state !== 'started') {
      if (this.#tail === batch) this.#tail = undefined
      const size = batch.take().length
      this.#batches++
      this.#keys += size
      if (size > this.#largestBatch) this.#largestBatch = size
    }
    return this.#batch(batch.sent, { signal: batch.signal, sent })
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
   * never settle).
   */
  #retire(batch: PendingBatch<K, V, C>): void {
    this.#live.delete(batch)
    if (this.#tail === batch) this.#tail = undefined
  }

  #keyFor(item: K): C {
    return this.#keyOf === undefined ? (item as unknown as C) : this.#keyOf(item)
  }

  #stopTimer(batch: PendingBatch<K, V, C>): void {
    if (batch.timer !== undefined) {
      this.#clock.clearTimer(batch.timer)
      batch.timer = undefined
    }
  }
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
  return Object.assign(load, {
    load,
    loadMany: (items: Iterable<K>, loadOptions?: LoadOptions) => collector.loadMany(items, loadOptions),
    flush: () => collector.flush(),
    clear: (item?: K) => collector.clear(item),
    close,
    stats: () => collector.stats(),
    [Symbol.asyncDispose]: close,
  })
}
