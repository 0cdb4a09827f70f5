import type { AsyncResource } from 'node:async_hooks'
import { AbortError } from '../errors.js'
import type { LimiterStore, LimitPolicy } from './store.js'
import type { Clock, TimerHandle } from './clock.js'
import { PriorityQueue } from './queue.js'
import { SignalWatch } from './signal-watch.js'
import { type Cost, overLimitError } from './cost.js'
import { Overtaking } from './overtaking.js'
import { QueueWaiters } from './waiters.js'
import { BatchedDrain, type DrainHost } from './batched-drain.js'
import { noop, QueuedTask, type TaskContext, taskContext } from './task.js'

type TaskFn<T> = (context: TaskContext) => T | PromiseLike<T>

/** Where the one executor of every queued task's promise leaves its settlers: no closure per task. */
const settlers: { resolve: (value: any) => void; reject: (reason: unknown) => void } = {
  resolve: noop,
  reject: noop,
}
function captureSettlers(resolve: (value: any) => void, reject: (reason: unknown) => void): void {
  settlers.resolve = resolve
  settlers.reject = reject
}

/**
 * A Limiter's queue and the loop that starts its tasks when the store allows: priority then FIFO,
 * a lighter task past a head that waits for a budget (Overtaking), one timer for the next chance.
 * The state that counts (slots, rate windows, timed pauses) lives in the store.
 */
export class Scheduler {
  policy: LimitPolicy
  readonly #store: LimiterStore
  readonly #key: string
  readonly #clock: Clock
  readonly #queue = new PriorityQueue<QueuedTask<any>>()
  readonly #overtaking = new Overtaking()
  readonly #waiters = new QueueWaiters()
  #running = 0
  #started = 0
  #timer: TimerHandle | undefined
  #draining = false
  /** The loop for a store that answers asynchronously; undefined for a synchronous one. */
  readonly #batches: BatchedDrain | undefined
  #closed = false
  /** pause() without a duration: nothing starts until resume(). */
  #held = false
  /** Since when the queue has waited for a rate or a timed pause (undefined: it has not). */
  #rateHeldSince: number | undefined
  /** Ms the queue waited for a rate or a timed pause before #rateHeldSince. */
  #rateHeldBefore = 0
  readonly #signals = new SignalWatch<QueuedTask<any>>((signal, aborted) => {
    // An aborted task leaves the queue at once; it never took a slot, so it frees none.
    for (const node of aborted) {
      this.#queue.remove(node)
      node.reject(AbortError.from(signal))
    }
    // The new head may be startable now (the aborted one may have been waiting for a higher cost).
    if (this.#queue.size > 0) this.drain()
    else this.#afterChange()
  })

  constructor(policy: LimitPolicy, store: LimiterStore, key: string, clock: Clock) {
    this.policy = policy
    this.#store = store
    this.#key = key
    this.#clock = clock
    this.#batches = store.synchronous ? undefined : new BatchedDrain(store, key, clock, this.#drainHost())
  }

  get running(): number {
    return this.#running
  }

  get queued(): number {
    return this.#queue.size
  }

  get started(): number {
    return this.#started
  }

  get held(): boolean {
    return this.#held
  }

  /** Ms, since it was created, that the queue waited for a rate or a timed pause (not for a slot). */
  get waitedForRate(): number {
    const since = this.#rateHeldSince
    return since === undefined ? this.#rateHeldBefore : this.#rateHeldBefore + this.#clock.now() - since
  }

  /** A task, with its options checked by the Limiter (as arguments: no object per task on this path). */
  submit<T>(
    fn: TaskFn<T>,
    signal: AbortSignal | undefined,
    cost: Cost,
    priority: number,
    countsFromSent: boolean,
  ): Promise<Awaited<T>> {
    // Fast path: nothing waits ahead of this task and the store answers at once. The task runs
    // now, in its caller's async context, before run() returns (as p-queue does; p-limit defers).
    if (this.#queue.size === 0 && this.#store.synchronous && !this.#held) {
      const now = this.#clock.now()
      const wait = this.#store.acquire(this.#key, this.policy, cost, now) as number
      if (wait === 0) return this.#start(fn, signal, cost, countsFromSent, undefined, now)
      const queued = this.#enqueue(fn, signal, cost, priority, countsFromSent)
      if (wait !== Number.POSITIVE_INFINITY) this.#wakeAfter(wait)
      return queued
    }
    const queued = this.#enqueue(fn, signal, cost, priority, countsFromSent)
    // A store that answers over the network is asked once per turn, and not while the head waits.
    if (this.#batches) this.#batches.pump()
    else this.drain()
    return queued
  }

  hold(held: boolean): void {
    this.#held = held
    // An open pause is the user's, not a rate's: the queue's wait for a rate ends here.
    if (held) this.#rateHeldUntilNow()
    else this.drain()
  }

  /** Resolves once fewer than `below` tasks wait (and, with `idle`, none runs). */
  waitFor(below: number, idle: boolean): Promise<void> {
    return this.#waiters.wait(below, idle, this.#queue.size, this.#running)
  }

  /** Rejects every queued task with `error` (each its own, from `errorFor`); returns how many. */
  clear(errorFor: () => Error): number {
    const nodes = this.#queue.drain()
    for (const node of nodes) this.#signals.detach(node).reject(errorFor())
    this.#afterChange()
    return nodes.length
  }

  /** Clears the queue and starts nothing more. */
  close(errorFor: () => Error): void {
    this.#closed = true
    this.#clearTimer()
    this.clear(errorFor)
  }

  /** Starts queued tasks while the store allows, then sleeps until it may allow more. */
  drain(): void {
    if (this.#closed || this.#held) {
      // Nothing starts now, but a release that just landed may be what a waiter waits for.
      this.#afterChange()
      return
    }
    if (this.#batches) {
      this.#batches.retry()
      return
    }
    if (this.#draining) return
    this.#draining = true
    try {
      // A task may pause the limiter as it starts: the loop stops there.
      for (let node = this.#queue.peek(); node && !this.#held; node = this.#queue.peek()) {
        if (this.#refuseCostly(node)) continue
        const now = this.#clock.now()
        let wait = this.#store.acquire(this.#key, this.policy, node.cost, now) as number
        const lighter = wait > 0 ? this.#lighter(node, wait, now) : undefined
        if (lighter) {
          const lighterWait = this.#store.acquire(this.#key, this.policy, lighter.cost, now) as number
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

  /** Rejects `node` if setRate lowered a limit below its cost since it was queued. */
  #refuseCostly(node: QueuedTask<any>): boolean {
    const refused = node.cost !== 1 ? overLimitError(node.cost, this.policy.rates) : undefined
    if (!refused) return false
    this.#queue.remove(node)
    this.#signals.detach(node).reject(refused)
    return true
  }

  #enqueue<T>(
    fn: TaskFn<T>,
    signal: AbortSignal | undefined,
    cost: Cost,
    priority: number,
    countsFromSent: boolean,
  ): Promise<Awaited<T>> {
    const queued = new Promise<Awaited<T>>(captureSettlers)
    const node = new QueuedTask<T>(
      fn,
      signal,
      cost,
      priority,
      countsFromSent,
      settlers.resolve,
      settlers.reject,
    )
    if (signal) this.#signals.watch(signal, node)
    this.#queue.push(node)
    return queued
  }

  /** `stampedAt`: when the acquire was asked, to restamp at start (a synchronous store) or at `sent()`. */
  #start<T>(
    fn: TaskFn<T>,
    signal: AbortSignal | undefined,
    cost: Cost,
    countsFromSent: boolean,
    context: AsyncResource | undefined,
    stampedAt: number,
  ): Promise<Awaited<T>> {
    this.#running++
    this.#started++
    let result: T | PromiseLike<T>
    try {
      const moves = countsFromSent && this.#restamps
      const given = taskContext(this.#store, this.#key, this, this.#clock, signal, stampedAt, moves, cost)
      result = context ? context.runInAsyncScope(fn, undefined, given) : fn(given)
    } catch (error) {
      this.#finish()
      return Promise.reject(error)
    }
    if (!countsFromSent && this.#restamps && this.#store.synchronous)
      this.#store.restamp!(this.#key, stampedAt, this.#clock.now())
    return Promise.resolve(result).then(this.#finishWith, this.#finishThrowing) as Promise<Awaited<T>>
  }

  /** Restamping matters only where a start is recorded against a rate, by a store that can. */
  get #restamps(): boolean {
    return this.policy.rates.length > 0 && this.#store.restamp !== undefined
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
    const released = this.#store.release(this.#key, this.policy, this.#clock.now())
    const batches = this.#batches
    // With no concurrency cap, a task that ends frees nothing a waiting head could need: the store
    // is not asked again for it (only the waiters hear of it).
    if (batches && this.policy.concurrency === Number.POSITIVE_INFINITY) {
      if (released) released.finally(() => batches.pump()).catch(noop)
      else batches.pump()
    }
    // Drained once the release is done, whether or not it could be.
    else if (released) released.finally(() => this.drain()).catch(noop)
    else if (this.#queue.size > 0) this.drain()
    else this.#afterChange()
  }

  /** A lighter task to try before the head, which waits `wait` for the rates (see Overtaking). */
  #lighter(head: QueuedTask<any>, wait: number, now: number): QueuedTask<any> | undefined {
    if (wait === Number.POSITIVE_INFINITY) return undefined
    const lighter = this.#overtaking.pick(head, this.policy, now)
    return lighter && !this.#refuseCostly(lighter) ? lighter : undefined
  }

  /** Starts `node` if the store granted it (wait 0); else sleeps until it may and says so. */
  #startOrSleep(node: QueuedTask<any>, wait: number, stampedAt: number): boolean {
    if (wait > 0) {
      this.#sleep(wait)
      return false
    }
    this.#startQueued(node, stampedAt)
    return true
  }

  /** Drains again in `wait` ms; Infinity: every slot is taken, and the next release drains again. */
  #sleep(wait: number): void {
    if (wait !== Number.POSITIVE_INFINITY) this.#wakeAfter(wait)
    else this.#rateHeldUntilNow()
  }

  #startQueued(node: QueuedTask<any>, stampedAt: number): void {
    this.#rateHeldUntilNow()
    this.#queue.remove(node)
    this.#signals.detach(node)
    // Resolved with the task's promise, which it adopts: no promise in between.
    node.resolve(this.#start(node.fn, node.signal, node.cost, node.countsFromSent, node, stampedAt))
  }

  /** What BatchedDrain may see and do of this scheduler. */
  #drainHost(): DrainHost {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const scheduler = this
    return {
      queue: this.#queue,
      get policy() {
        return scheduler.policy
      },
      get running() {
        return scheduler.#running
      },
      get stopped() {
        return scheduler.#closed || scheduler.#held
      },
      start: (node, stampedAt) => this.#startQueued(node, stampedAt),
      fail: (node, error) => {
        this.#queue.remove(node)
        this.#signals.detach(node).reject(error)
      },
      refuseCostly: (node) => this.#refuseCostly(node),
      lighter: (head, wait, now) => this.#lighter(head, wait, now),
      sleep: (wait) => this.#sleep(wait),
      afterChange: () => this.#afterChange(),
    }
  }

  #wakeAfter(ms: number): void {
    this.#rateHeldSince ??= this.#clock.now()
    this.#clearTimer()
    this.#timer = this.#clock.setTimer(() => {
      this.#timer = undefined
      this.drain()
    }, ms)
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) {
      this.#clock.clearTimer(this.#timer)
      this.#timer = undefined
    }
  }

  /** The queue's wait for a rate ends here (something starts, or only a slot can free it now). */
  #rateHeldUntilNow(): void {
    if (this.#rateHeldSince === undefined) return
    this.#rateHeldBefore += this.#clock.now() - this.#rateHeldSince
    this.#rateHeldSince = undefined
  }

  #afterChange(): void {
    if (this.#queue.size === 0) {
      this.#clearTimer()
      this.#rateHeldUntilNow()
    }
    if (this.#waiters.any) this.#waiters.notify(this.#queue.size, this.#running)
  }
}
