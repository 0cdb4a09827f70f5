import { AsyncResource } from 'node:async_hooks'
import { describeValue, InvalidOptionError } from '../errors.js'
import type { Clock } from './clock.js'
import { type Cost, costChange, costError, overLimitError } from './cost.js'
import type { QueueNode } from './queue.js'
import type { LimiterStore, LimitPolicy } from './store.js'
import type { ResolvedRate } from './units.js'

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
  /**
   * What the task really cost, once known (an LLM call's usage from its response): the budgets
   * (rates in units other than requests) count that instead of the estimate it started with, down
   * or up. The first call counts; requests are not changed. The Redis store counts only up: a task
   * that used less keeps its estimate.
   */
  used(cost: Cost): void
}

export const noop = () => {}
/** The context of tasks run without a signal: one frozen object for all of them. */
export const unsignalled: TaskContext = Object.freeze({
  signal: new AbortController().signal,
  sent: noop,
  used: noop,
})

export interface LimiterStats {
  /** Tasks of this limiter running now. */
  running: number
  /** Tasks of this limiter waiting for a slot, the rate or the end of a pause. */
  queued: number
  /** Tasks this limiter has started since it was created. */
  started: number
  /** Ms until the store would allow one more start (0: now; Infinity: when a running task ends). */
  nextStartIn: number
}

/**
 * A task waiting in a Limiter's queue. It starts later, from whatever freed its slot, so it is an
 * AsyncResource made where `run` was called: it runs in its caller's async context (one object per
 * queued task rather than two, since a long queue pays for each in memory).
 */
export class QueuedTask<T> extends AsyncResource implements QueueNode {
  readonly fn: (context: TaskContext) => T | PromiseLike<T>
  readonly signal: AbortSignal | undefined
  readonly cost: Cost
  readonly priority: number
  readonly countsFromSent: boolean
  readonly resolve: (value: T | PromiseLike<T>) => void
  readonly reject: (reason: unknown) => void
  prev: QueueNode | undefined = undefined
  next: QueueNode | undefined = undefined
  queued = false
  /** A store call in flight asks for its start (BatchedDrain): it is not asked for again meanwhile. */
  asked = false

  constructor(
    fn: (context: TaskContext) => T | PromiseLike<T>,
    signal: AbortSignal | undefined,
    cost: Cost,
    priority: number,
    countsFromSent: boolean,
    resolve: (value: T | PromiseLike<T>) => void,
    reject: (reason: unknown) => void,
  ) {
    super('volley.task')
    this.fn = fn
    this.signal = signal
    this.cost = cost
    this.priority = priority
    this.countsFromSent = countsFromSent
    this.resolve = resolve
    this.reject = reject
  }
}

/** An error naming the option of `Limiter.run` that is wrong: the priority, or a cost no rate could hold. */
export function runOptionsError(
  cost: Cost,
  priority: number,
  rates: readonly ResolvedRate[],
): InvalidOptionError | undefined {
  if (typeof priority !== 'number' || Number.isNaN(priority)) {
    return new InvalidOptionError(
      `Limiter.run: option \`priority\` must be a number, got ${describeValue(priority)}`,
    )
  }
  return costError(cost, 'Limiter.run: option `cost`') ?? overLimitError(cost, rates)
}

/**
 * The context of a task started at `stampedAt` (its acquire's time): one shared object unless it
 * has a signal, its start `moves` when it is sent (restamp), or it may settle a budget cost.
 * Arguments rather than an options object: it is called once per task.
 */
export function taskContext(
  store: LimiterStore,
  key: string,
  /** Where the limits in force are read when the task settles: setRate may have changed them. */
  limits: { readonly policy: LimitPolicy },
  clock: Clock,
  signal: AbortSignal | undefined,
  stampedAt: number,
  moves: boolean,
  cost: Cost,
): TaskContext {
  const settles = typeof cost !== 'number' && store.settle !== undefined
  if (!moves && !settles) return signal ? { signal, sent: noop, used: noop } : unsignalled
  let moved = !moves
  let settled = !settles
  return {
    signal: signal ?? unsignalled.signal,
    sent: () => {
      if (moved) return
      moved = true
      // Starts never move back: a later start that moved this one already is kept.
      store.restamp!(key, stampedAt, clock.now())
    },
    used: (actual) => {
      const change = costChange(cost, actual, 'TaskContext.used: cost')
      if (settled) return
      settled = true
      store.settle!(key, limits.policy, stampedAt, change, clock.now())
    },
  }
}
