import { AbortError, ClosedError, describeValue, InvalidOptionError } from '../errors.js'
import { memoryStore } from './memory-store.js'
import type { LimiterStore, LimitPolicy } from './store.js'
import type { Clock, TimerHandle } from './clock.js'
import { type LimitOptions, type ResolvedLimits, resolveLimits } from './limits.js'
import { PriorityQueue } from './queue.js'
import { SignalWatch } from './signal-watch.js'
import { type Cost, costError, overLimitError, perUnit } from './cost.js'
import { Overtaking } from './overtaking.js'
import {
  type LimiterStats,
  noop,
  type QueuedTask,
  type RunOptions,
  runOptionsError,
  type TaskContext,
  taskContext,
} from './task.js'
import { type Duration, parseDuration, parseRates, type Rate } from './units.js'

/** The options of createLimiter: the limits every volley entry point takes. */
export type LimiterOptions = LimitOptions
export type { LimiterStats }

/**
 * Runs tasks when a concurrency slot and every rate allow, in priority then FIFO order. The state
 * (slots, rate windows, pause) lives in a store; this class holds the queue, the timer and the order.
 */
export class Limiter implements AsyncDisposable {
  readonly concurrency: number
  #policy: LimitPolicy
  readonly key: string
  readonly #store: LimiterStore
  readonly #clock: Clock
  readonly #queue = new PriorityQueue<QueuedTask<any>>()
  readonly #unsubscribe: (() => void) | undefined
  #running = 0
  #started = 0
  #timer: TimerHandle | undefined
  #draining = false
  /** A drain was asked for while an async drain awaited the store: run the loop once more. */
  #drainAgain = false
  #closed = false
  readonly #overtaking = new Overtaking()
  #idleWaiters: (() => void)[] = []
  readonly #signals = new SignalWatch<QueuedTask<any>>((signal, aborted) => {
    // An aborted task leaves the queue at once; it never took a slot, so it frees none.
    for (const node of aborted) {
      this.#queue.remove(node)
      node.reject(AbortError.from(signal))
    }
    // The new head may be startable now (the aborted one may have been waiting for a higher cost).
    if (this.#queue.size > 0) this.#drain()
    else this.#afterChange()
  })

  /** Built from limits already checked: createLimiter() checks them. */
  constructor(limits: ResolvedLimits) {
    this.#policy = limits.policy
    this.concurrency = limits.policy.concurrency
    this.key = limits.key
    this.#clock = limits.clock
    this.#store = limits.store ?? memoryStore()
    // A private store is changed only by this limiter, which already re-checks after each release.
    this.#unsubscribe = limits.store?.subscribe?.(this.key, () => this.#drain())
  }

  /**
   * Calls `fn` when a slot and the rates allow, and settles with what it returns.
   * Avoid calling `run` from inside a task of the same limiter and awaiting it: with every slot
   * taken by waiting parents, the children never start (deadlock).
   */
  run<T>(fn: (context: TaskContext) => T | PromiseLike<T>, options?: RunOptions): Promise<Awaited<T>> {
    if (this.#closed) return Promise.reject(new ClosedError('Limiter.run: the limiter is closed'))
    const signal = options?.signal
    if (signal?.aborted) return Promise.reject(AbortError.from(signal))
    const cost = options?.cost ?? 1
    const priority = options?.priority ?? 0
    const countsFromSent = options?.countsFrom === 'sent'
    if (cost !== 1 || priority !== 0) {
      const invalid = runOptionsError(cost, priority, this.#policy.rates)
      if (invalid) return Promise.reject(invalid)
    }
    // Fast path: nothing waits ahead of this task and the store answers at once.
    if (this.#queue.size === 0 && this.#store.synchronous) {
      const now = this.#clock.now()
      const wait = this.#store.acquire(this.key, this.#policy, cost, now) as number
      if (wait === 0) return this.#start(fn, signal, now, countsFromSent, cost)
      const queued = this.#enqueue(fn, signal, priority, cost, countsFromSent)
      if (wait !== Number.POSITIVE_INFINITY) this.#wakeAfter(wait)
      return queued
    }
    const queued = this.#enqueue(fn, signal, priority, cost, countsFromSent)
    this.#drain()
    return queued
  }

  /** The limits in force: concurrency and the resolved rates. */
  get policy(): LimitPolicy {
    return this.#policy
  }

  /** Where its state lives: this process's memory, or a store shared with others (Redis). */
  get store(): LimiterStore {
    return this.#store
  }

  /** How much of `unit` its rates in that unit count now; undefined when the store cannot say at once. */
  usedIn(unit: string): number | undefined {
    return this.#store.used?.(this.key, this.#policy, unit, this.#clock.now())
  }

  /**
   * Replaces the rates (for instance with a quota an API announced in its RateLimit-Policy header).
   * Starts already recorded for a rate that stays the same still count against it; `rateMargin`
   * and `smooth` stay as they were.
   */
  setRate(rate: Rate | readonly Rate[] | undefined): void {
    this.#policy = { ...this.#policy, rates: parseRates(rate, 'Limiter.setRate: rate') }
    this.#drain()
  }

  /**
   * Counts `cost` against the rates now, without running anything or taking a slot: use the API
   * says was made that this limiter did not count (before a quota was known, or by someone else).
   */
  charge(cost: Cost): void {
    const invalid = costError(cost, 'Limiter.charge: cost')
    if (invalid) throw invalid
    const now = this.#clock.now()
    // A store that cannot record it directly counts a task that does nothing, first in the queue.
    if (this.#store.settle) this.#store.settle(this.key, now, perUnit(cost), now)
    else this.run(noop, { cost, priority: Number.MAX_SAFE_INTEGER }).catch(noop)
  }

  /** Holds every new start for `duration` (a number of ms or '30s'); running tasks go on. */
  async pause(duration: Duration): Promise<void> {
    const ms = parseDuration(duration, 'Limiter.pause: duration')
    await this.#store.pause(this.key, ms, this.#clock.now())
    this.#drain()
  }

  /** Holds every new start until `date` (a Date or epoch ms), e.g. from a Retry-After header. */
  pauseUntil(date: Date | number): Promise<void> {
    const epochMs = typeof date === 'number' ? date : date.getTime()
    if (Number.isFinite(epochMs)) return this.pause(Math.max(0, epochMs - this.#clock.wallTime()))
    const message = `Limiter.pauseUntil: date must be a valid Date, got ${describeValue(date)}`
    return Promise.reject(new InvalidOptionError(message))
  }

  stats(): LimiterStats {
    const now = this.#clock.now()
    const peek = this.#store.synchronous ? (this.#store.peek(this.key, this.#policy, 1, now) as number) : 0
    return { running: this.#running, queued: this.#queue.size, started: this.#started, nextStartIn: peek }
  }

  /** Resolves when nothing is running or queued. */
  idle(): Promise<void> {
    if (this.#running === 0 && this.#queue.size === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idleWaiters.push(resolve))
  }

  /** Rejects every queued task with a ClosedError, refuses new ones, and resolves when running tasks end. */
  close(): Promise<void> {
    this.#closed = true
    this.#clearTimer()
    this.#unsubscribe?.()
    const error = new ClosedError(`Limiter closed with ${this.#queue.size} task(s) still queued`)
    for (const node of this.#queue.drain()) this.#signals.detach(node).reject(error)
    return this.idle()
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  /** Rejects `node` if setRate lowered a limit below its cost since it was queued. */
  #refuseCostly(node: QueuedTask<any>): boolean {
    const refused = node.cost !== 1 ? overLimitError(node.cost, this.#policy.rates) : undefined
    if (!refused) return false
    this.#queue.remove(node)
    this.#signals.detach(node).reject(refused)
    return true
  }

  #enqueue<T>(
    fn: (context: TaskContext) => T | PromiseLike<T>,
    signal: AbortSignal | undefined,
    priority: number,
    cost: Cost,
    countsFromSent: boolean,
  ): Promise<Awaited<T>> {
    return new Promise<Awaited<T>>((resolve, reject) => {
      const node: QueuedTask<T> = {
        fn,
        signal,
        cost,
        countsFromSent,
        priority,
        resolve: resolve as (value: T | PromiseLike<T>) => void,
        reject,
        prev: undefined,
        next: undefined,
        queued: false,
      }
      if (signal) this.#signals.watch(signal, node)
      this.#queue.push(node)
    })
  }

  /** `stampedAt`: when the acquire was asked, to restamp at start (a synchronous store) or at `sent()`. */
  #start<T>(
    fn: (context: TaskContext) => T | PromiseLike<T>,
    signal: AbortSignal | undefined,
    stampedAt: number,
    countsFromSent: boolean,
    cost: Cost,
  ): Promise<Awaited<T>> {
    this.#running++
    this.#started++
    let result: T | PromiseLike<T>
    try {
      const moves = countsFromSent && this.#restamps
      result = fn(taskContext(this.#store, this.key, this.#clock, { signal, stampedAt, moves, cost }))
    } catch (error) {
      this.#finish()
      return Promise.reject(error)
    }
    if (!countsFromSent && this.#restamps && this.#store.synchronous)
      this.#store.restamp!(this.key, stampedAt, this.#clock.now())
    return Promise.resolve(result).then(this.#finishWith, this.#finishThrowing) as Promise<Awaited<T>>
  }

  /** Restamping matters only where a start is recorded against a rate, by a store that can. */
  get #restamps(): boolean {
    return this.#policy.rates.length > 0 && this.#store.restamp !== undefined
  }

  // Shared callbacks rather than two closures per task: run() is called millions of times.
  readonly #finishWith = <T>(value: T): T => {
    this.#finish()
    return value
  }

  readonly #finishThrowing = (error: unknown): never => {
    this.#finish()
    throw error
  }

  #finish(): void {
    this.#running--
    const released = this.#store.release(this.key, this.#policy, this.#clock.now())
    // Drained once the release is done, whether or not it could be.
    if (released) released.finally(() => this.#drain()).catch(noop)
    else if (this.#queue.size > 0) this.#drain()
    else this.#afterChange()
  }

  /** Starts queued tasks while the store allows, then sleeps until it may allow more. */
  #drain(): void {
    if (this.#closed) {
      // Nothing starts any more, but a release that just landed may be what idle() waits for.
      this.#afterChange()
      return
    }
    if (this.#draining) {
      this.#drainAgain = true
      return
    }
    this.#drainAgain = false
    if (!this.#store.synchronous) {
      void this.#drainAsync()
      return
    }
    this.#draining = true
    try {
      for (let node = this.#queue.peek(); node; node = this.#queue.peek()) {
        if (this.#refuseCostly(node)) continue
        const now = this.#clock.now()
        let wait = this.#store.acquire(this.key, this.#policy, node.cost, now) as number
        const lighter = wait > 0 ? this.#lighter(node, wait, now) : undefined
        if (lighter) {
          const lighterWait = this.#store.acquire(this.key, this.#policy, lighter.cost, now) as number
          if (this.#startOrSleep(lighter, lighterWait, now)) continue
          wait = Math.min(wait, lighterWait)
        }
        if (!this.#startOrSleep(node, wait, now)) return
      }
      this.#clearTimer()
    } finally {
      this.#draining = false
      this.#afterChange()
    }
  }

  /** The same loop for stores that answer over the network: one acquire in flight at a time. */
  async #drainAsync(): Promise<void> {
    this.#draining = true
    try {
      for (let node = this.#queue.peek(); node && !this.#closed; node = this.#queue.peek()) {
        if (this.#refuseCostly(node)) continue
        const asked = await this.#acquireQueued(node)
        if (asked === undefined) continue
        let { wait } = asked
        const lighter = wait > 0 ? this.#lighter(node, wait, asked.at) : undefined
        if (lighter) {
          const tried = await this.#acquireQueued(lighter)
          if (tried === undefined || this.#startOrSleep(lighter, tried.wait, tried.at)) continue
          if (!node.queued) continue
          wait = Math.min(wait, tried.wait)
        }
        if (!this.#startOrSleep(node, wait, asked.at)) break
      }
    } finally {
      this.#draining = false
      this.#afterChange()
    }
    if (this.#drainAgain) this.#drain()
  }

  /**
   * Asks the store for `node`'s start: the wait and when it was asked (the grant's time, when its
   * start is moved on by a restamp); undefined when the node left the queue meanwhile or failed.
   */
  async #acquireQueued(node: QueuedTask<any>): Promise<{ wait: number; at: number } | undefined> {
    const at = this.#clock.now()
    let wait: number
    try {
      wait = await this.#store.acquire(this.key, this.#policy, node.cost, at)
    } catch (error) {
      // The store cannot say whether a start is allowed: fail the task rather than exceed a quota.
      this.#queue.remove(node)
      this.#signals.detach(node).reject(error)
      return undefined
    }
    if (node.queued) return { wait, at }
    // Aborted or closed while the store answered: give back what was taken for it.
    if (wait === 0) {
      // Best effort: a slot the store cannot take back expires with its lease.
      await Promise.resolve(this.#store.release(this.key, this.#policy, this.#clock.now())).catch(() => {})
    }
    return undefined
  }

  /** A lighter task to try before the head, which waits `wait` for the rates (see Overtaking). */
  #lighter(head: QueuedTask<any>, wait: number, now: number): QueuedTask<any> | undefined {
    if (wait === Number.POSITIVE_INFINITY) return undefined
    const lighter = this.#overtaking.pick(head, this.#policy, now)
    return lighter && !this.#refuseCostly(lighter) ? lighter : undefined
  }

  /** Starts `node` if the store granted it (wait 0); else sleeps until it may and says so. */
  #startOrSleep(node: QueuedTask<any>, wait: number, stampedAt: number): boolean {
    if (wait > 0) {
      // Infinity: every slot is taken, and the next release drains again.
      if (wait !== Number.POSITIVE_INFINITY) this.#wakeAfter(wait)
      return false
    }
    this.#queue.remove(node)
    this.#signals.detach(node)
    this.#start(node.fn, node.signal, stampedAt, node.countsFromSent, node.cost).then(
      node.resolve,
      node.reject,
    )
    return true
  }

  #wakeAfter(ms: number): void {
    this.#clearTimer()
    this.#timer = this.#clock.setTimer(() => {
      this.#timer = undefined
      this.#drain()
    }, ms)
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) {
      this.#clock.clearTimer(this.#timer)
      this.#timer = undefined
    }
  }

  #afterChange(): void {
    if (this.#queue.size === 0) this.#clearTimer()
    if (this.#running === 0 && this.#queue.size === 0 && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters
      this.#idleWaiters = []
      for (const resolve of waiters) resolve()
    }
  }
}

/** A Limiter: at most `concurrency` tasks at once and every `rate` held in any sliding window. */
export function createLimiter(options: LimiterOptions = {}): Limiter {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(`createLimiter: options must be an object, got ${describeValue(options)}`)
  }
  return new Limiter(resolveLimits(options, 'createLimiter'))
}
