import type { Cost } from './cost.js'

/** What `Limiter.run` takes besides the task, and what the task is given. */

export interface RunOptions {
  /** Aborting it removes the task from the queue at once (the call rejects with an AbortError). */
  signal?: AbortSignal
  /** Higher runs first; FIFO among equals. @default 0 */
  priority?: number
  /**
   * What the task counts as against the rates (not against concurrency): a number of requests, or
   * an amount per unit for rates in other units, `{ tokens: 1200 }` (requests then count 1).
   * @default 1
   */
  cost?: Cost
  /**
   * When the start counts against the rates: when the limiter starts the task ('start'), or when
   * the task says its work has reached the API by calling `context.sent()` ('sent'; until then, and
   * if it never does, from its start). An API counts arrivals: a request that waits for a new
   * connection (TCP and TLS handshakes) arrives late, and counted from its start it would let the
   * next window's requests, on warm connections, land in the same window as the API counts.
   * Every store moves the start: the memory store at once, the Redis store on its next call.
   * @default 'start'
   */
  countsFrom?: 'start' | 'sent'
}

export interface TaskContext {
  /** The signal given to `run` (a signal that never aborts when none was given). */
  signal: AbortSignal
  /** With `countsFrom: 'sent'`: the work reaches the API now, so its start counts from now. */
  sent(): void
}

export const noop = () => {}
/** The context of tasks run without a signal: one frozen object for all of them. */
export const unsignalled: TaskContext = Object.freeze({ signal: new AbortController().signal, sent: noop })
