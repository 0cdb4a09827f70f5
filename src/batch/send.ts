import { ClosedError } from '../errors.js'
import type { Clock } from '../limit/clock.js'
import type { Limiter } from '../limit/limiter.js'
import { sleep } from '../limit/sleep.js'
import { noop } from '../limit/task.js'
import type { BatchFn, ResolvedBatcherOptions } from './options.js'
import type { PendingBatch } from './pending.js'

/** What a batcher has sent so far. */
export interface SendCounts {
  /** Batch calls made, retries not counted. */
  batches: number
  /** Batch calls made again after a batch threw. */
  retries: number
  /** Distinct keys sent, over every batch. */
  keys: number
  /** The most keys sent in one batch. */
  largestBatch: number
}

/**
 * Sends batches: one call of the batch function per attempt, through the limiter when there is
 * one, in the async context of the batch's first load, and again after a backoff when it throws.
 */
export class BatchSender<K, V, C> {
  readonly #batch: BatchFn<K, V>
  /** Undefined when no limit was asked for: then a batch goes as soon as it is due. */
  readonly #limiter: Limiter | undefined
  readonly #attempts: number
  readonly #backoff: (retry: number, error: unknown) => number
  readonly #clock: Clock
  /** Told as a batch starts: its items are fixed from then on, so it takes no more loads. */
  readonly #onStart: (batch: PendingBatch<K, V, C>) => void
  readonly counts: SendCounts = { batches: 0, retries: 0, keys: 0, largestBatch: 0 }

  constructor(options: ResolvedBatcherOptions<K, V, C>, onStart: (batch: PendingBatch<K, V, C>) => void) {
    this.#batch = options.batch
    this.#limiter = options.limiter
    this.#attempts = options.attempts
    this.#backoff = options.backoff
    this.#clock = options.clock
    this.#onStart = onStart
  }

  /** Sends the batch (it may start at once, here and now); settles when every load has its answer. */
  send(batch: PendingBatch<K, V, C>): Promise<void> {
    return this.#attempt(batch, 1)
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
      (results) => batch.settle(results),
      (error: unknown) => this.#failed(batch, attempt, error),
    )
  }

  /** A failed attempt: try again after the backoff, or fail every load still waiting. */
  #failed(batch: PendingBatch<K, V, C>, attempt: number, error: unknown): Promise<void> | undefined {
    const signal = batch.signal
    const giveUp = () => batch.fail(error)
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
      this.counts.retries++
      return this.#attempt(batch, attempt + 1)
    }, giveUp)
  }

  /**
   * Called when the batch may go: on the first attempt its items are fixed. The batch function
   * runs in the async context of the batch's first load (as DataLoader's does), whoever let it go:
   * a timer, a later load filling it, `flush`, or the limiter.
   */
  #call(batch: PendingBatch<K, V, C>, sent: () => void) {
    if (batch.state !== 'started') {
      this.#onStart(batch)
      const size = batch.take().length
      const counts = this.counts
      counts.batches++
      counts.keys += size
      if (size > counts.largestBatch) counts.largestBatch = size
    }
    return batch.context.runInAsyncScope(this.#batch, undefined, batch.sent, { signal: batch.signal, sent })
  }
}
