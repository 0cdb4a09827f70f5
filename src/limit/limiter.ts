import { AbortError, ClosedError, describeValue, InvalidOptionError } from '../errors.js'
import { memoryStore } from './memory-store.js'
import type { LimiterStore, LimitPolicy } from './store.js'
import type { Clock } from './clock.js'
import { type LimitOptions, type ResolvedLimits, resolveLimits } from './limits.js'
import { type Cost, costError, perUnit } from './cost.js'
import { Scheduler } from './scheduler.js'
import { type LimiterStats, noop, type RunOptions, runOptionsError, type TaskContext } from './task.js'
import {
  type Duration,
  parseConcurrency,
  parseDuration,
  parseRates,
  type Rate,
  type ResolvedRate,
} from './units.js'

/** The options of createLimiter: the limits every volley entry point takes. */
export type LimiterOptions = LimitOptions
export type { LimiterStats }

/**
 * Runs tasks when a concurrency slot and every rate allow, in priority then FIFO order. The state
 * (slots, rate windows, timed pauses) lives in a store; the Scheduler holds the queue and the order.
 */
export class Limiter implements AsyncDisposable {
  readonly key: string
  readonly #store: LimiterStore
  readonly #clock: Clock
  readonly #scheduler: Scheduler
  readonly #unsubscribe: (() => void) | undefined
  #closed = false

  /** Built from limits already checked: createLimiter() checks them. */
  constructor(limits: ResolvedLimits) {
    this.key = limits.key
    this.#clock = limits.clock
    this.#store = limits.store ?? memoryStore()
    this.#scheduler = new Scheduler(limits.policy, this.#store, this.key, this.#clock)
    // A private store is changed only by this limiter, which already re-checks after each release.
    this.#unsubscribe = limits.store?.subscribe?.(this.key, () => this.#scheduler.drain())
  }

  /**
   * Calls `fn` when a slot and the rates allow, and settles with what it returns. `fn` runs in the
   * async context `run` was called in (AsyncLocalStorage), and at once, before `run` returns, when
   * nothing waits and a slot is free. A task whose signal aborts while it runs keeps its slot until
   * `fn` settles: the limiter cannot stop work that may already be at the API.
   * Avoid calling `run` from inside a task of the same limiter and awaiting it: with every slot
   * taken by waiting parents, the children never start (deadlock).
   */
  run<T>(fn: (context: TaskContext) => T | PromiseLike<T>, options?: RunOptions): Promise<Awaited<T>> {
    if (this.#closed) return Promise.reject(new ClosedError('Limiter.run: the limiter is closed'))
    const signal = options?.signal
    if (signal?.aborted) return Promise.reject(AbortError.from(signal))
    const cost = options?.cost ?? 1
    const priority = options?.priority ?? 0
    if (cost !== 1 || priority !== 0) {
      const invalid = runOptionsError(cost, priority, this.policy.rates)
      if (invalid) return Promise.reject(invalid)
    }
    return this.#scheduler.submit(fn, signal, cost, priority, options?.countsFrom === 'sent')
  }

  /** The limits in force: concurrency and the resolved rates. */
  get policy(): LimitPolicy {
    return this.#scheduler.policy
  }

  /** Most tasks running at once (Infinity: no cap); change it with setConcurrency. */
  get concurrency(): number {
    return this.policy.concurrency
  }

  /** The rates in force; change them with setRate. */
  get rates(): readonly ResolvedRate[] {
    return this.policy.rates
  }

  /** Where its state lives: this process's memory, or a store shared with others (Redis). */
  get store(): LimiterStore {
    return this.#store
  }

  /** True between pause() without a duration and resume(). */
  get isPaused(): boolean {
    return this.#scheduler.held
  }

  /**
   * Ms, since it was created, that tasks waited in its queue for a rate or a timed pause rather than
   * for a slot: read it before and after a task waits to split its wait (the HTTP client's timings).
   */
  get waitedForRate(): number {
    return this.#scheduler.waitedForRate
  }

  /** How much of `unit` its rates in that unit count now; undefined when the store cannot say at once. */
  usedIn(unit: string): number | undefined {
    return this.#store.used?.(this.key, this.policy, unit, this.#clock.now())
  }

  /**
   * Replaces the most tasks running at once, for the queue at once: up starts more now; down lets
   * the running tasks end, and starts the next when fewer than `concurrency` run.
   */
  setConcurrency(concurrency: number): void {
    const checked = parseConcurrency(concurrency, 'Limiter.setConcurrency: concurrency')
    this.#scheduler.policy = { ...this.policy, concurrency: checked }
    this.#scheduler.drain()
  }

  /**
   * Replaces the rates (for instance with a quota an API announced in its RateLimit-Policy header).
   * Starts already recorded for a rate that stays the same still count against it; `rateMargin`
   * and `smooth` stay as they were.
   */
  setRate(rate: Rate | readonly Rate[] | undefined): void {
    this.#scheduler.policy = { ...this.policy, rates: parseRates(rate, 'Limiter.setRate: rate') }
    this.#scheduler.drain()
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
    if (this.#store.settle) this.#store.settle(this.key, this.policy, now, perUnit(cost), now)
    else this.run(noop, { cost, priority: Number.MAX_SAFE_INTEGER }).catch(noop)
  }

  /**
   * Without a duration: nothing new starts from this limiter until resume(); running tasks go on.
   * With a duration (ms or '30s'): every start is held that long, for everyone sharing the store's
   * key (what the HTTP client does with Retry-After); it never shortens a longer timed pause.
   */
  pause(): void
  pause(duration: Duration): Promise<void>
  pause(...duration: [] | [Duration]): Promise<void> | void {
    // No argument at all: an explicit undefined (a missing header value, say) is a bad duration.
    if (duration.length === 0) return this.#scheduler.hold(true)
    return this.#pauseFor(duration[0])
  }

  async #pauseFor(duration: Duration): Promise<void> {
    const ms = parseDuration(duration, 'Limiter.pause: duration')
    await this.#store.pause(this.key, ms, this.#clock.now())
    this.#scheduler.drain()
  }

  /** Holds every new start until `date` (a Date or epoch ms), e.g. from a Retry-After header. */
  pauseUntil(date: Date | number): Promise<void> {
    const epochMs = typeof date === 'number' ? date : date.getTime()
    if (Number.isFinite(epochMs)) return this.pause(Math.max(0, epochMs - this.#clock.wallTime()))
    const message = `Limiter.pauseUntil: date must be a valid Date, got ${describeValue(date)}`
    return Promise.reject(new InvalidOptionError(message))
  }

  /** Lifts pause() without a duration, and starts what the limits allow. A timed pause stays: see liftPause(). */
  resume(): void {
    this.#scheduler.hold(false)
  }

  /**
   * Ends a timed pause now, for everyone sharing the store's key (the Redis store tells the other
   * processes at once). A pause the HTTP client set from a Retry-After is the server's: lift it only
   * when you know better.
   */
  async liftPause(): Promise<void> {
    await this.#store.resume?.(this.key, this.#clock.now())
    this.#scheduler.drain()
  }

  /**
   * Removes every queued task: each rejects with an AbortError (its cause: `reason`, when given).
   * Running tasks go on. Returns how many were removed.
   */
  clear(reason?: unknown): number {
    const message = `Limiter.clear: removed from the queue${reason instanceof Error ? `: ${reason.message}` : ''}`
    return this.#scheduler.clear(
      () => new AbortError(message, reason === undefined ? undefined : { cause: reason }),
    )
  }

  stats(): LimiterStats {
    const now = this.#clock.now()
    const peek = this.#store.synchronous ? (this.#store.peek(this.key, this.policy, 1, now) as number) : 0
    const scheduler = this.#scheduler
    return {
      running: scheduler.running,
      queued: scheduler.queued,
      started: scheduler.started,
      nextStartIn: peek,
    }
  }

  /**
   * Resolves once fewer than `size` tasks wait in the queue: a producer awaits it before adding
   * more, so that a queue stays short however large the input (p-queue's onSizeLessThan).
   */
  onSizeLessThan(size: number): Promise<void> {
    if (typeof size !== 'number' || !(size > 0)) {
      const message = `Limiter.onSizeLessThan: size must be a number above 0, got ${describeValue(size)}`
      return Promise.reject(new InvalidOptionError(message))
    }
    return this.#scheduler.waitFor(size, false)
  }

  /** Resolves once nothing waits in the queue (tasks may still run: see idle()). */
  onEmpty(): Promise<void> {
    return this.#scheduler.waitFor(1, false)
  }

  /** Resolves when nothing is running or queued. */
  idle(): Promise<void> {
    return this.#scheduler.waitFor(1, true)
  }

  /** Rejects every queued task with a ClosedError, refuses new ones, and resolves when running tasks end. */
  close(): Promise<void> {
    this.#closed = true
    this.#unsubscribe?.()
    const error = new ClosedError(`Limiter closed with ${this.#scheduler.queued} task(s) still queued`)
    this.#scheduler.close(() => error)
    return this.idle()
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }
}

/** A Limiter: at most `concurrency` tasks at once and every `rate` held in any sliding window. */
export function createLimiter(options: LimiterOptions = {}): Limiter {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(`createLimiter: options must be an object, got ${describeValue(options)}`)
  }
  return new Limiter(resolveLimits(options, 'createLimiter'))
}
