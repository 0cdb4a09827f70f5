import type { Cost } from './cost.js'
import type { ResolvedRate } from './units.js'

/** The limits a Limiter enforces, passed with every store call so stores can stay stateless about config. */
export interface LimitPolicy {
  /** Most tasks running at once across everyone sharing the key; Infinity for no cap. */
  readonly concurrency: number
  /** Every rate must hold: at most `limit` starts in any window of `interval` + `rateMargin` ms. */
  readonly rates: readonly ResolvedRate[]
  /** Ms added to every rate's window (see LimiterOptions.rateMargin); rates keep their names without it. */
  readonly rateMargin: number
  /**
   * Pace the starts: at most one per (interval + rateMargin) / limit ms per unit of cost, for the rate
   * with the longest such spacing, instead of a whole window's quota at once.
   */
  readonly smooth: boolean
}

/** What `acquireMany` took: the first `granted` of the costs asked for, and the wait for the next. */
export interface Admission {
  readonly granted: number
  /** Ms before the first cost refused could be taken, as `acquire` answers (0 when none was). */
  readonly wait: number
}

/**
 * Where a Limiter's state lives. The memory store (default) keeps it in this process; the Redis
 * store keeps it in Redis so that many processes share one quota. Every method is atomic for a key:
 * a start either takes a concurrency slot and `cost` from every rate window, or takes nothing.
 *
 * Times: `now` is the limiter's monotonic clock in ms. A store with its own clock (Redis server
 * time) may ignore it; every duration it returns is relative (ms from now), so clocks never mix.
 */
export interface LimiterStore {
  /** True when every method returns synchronously (no promises): the Limiter then takes a fast path. */
  readonly synchronous: boolean
  /** True when it keeps rates in units other than requests (budgets such as '30000 tokens/min'). */
  readonly budgets?: boolean
  /**
   * Takes one concurrency slot and `cost` from every rate (what it costs in the rate's unit, see
   * costIn), or nothing. Returns 0 when taken; otherwise the ms to wait before asking again, or
   * Infinity to wait until a slot is released.
   */
  acquire(key: string, policy: LimitPolicy, cost: Cost, now: number): number | Promise<number>
  /**
   * Takes starts for `costs` in order, each as `acquire` would at the same instant, until one is
   * not allowed: the first `granted` are taken (a prefix: FIFO holds), and `wait` is the answer
   * acquire gives the first one refused (0 when all were taken). A batch so never takes more than
   * the windows, slots and pacing allow at that instant. Optional: a store that answers over the
   * network saves a round trip per start; without it the Limiter asks acquire, one at a time.
   */
  acquireMany?(key: string, policy: LimitPolicy, costs: readonly Cost[], now: number): Promise<Admission>
  /**
   * Gives back starts that `acquireMany`, asked at `since` under `policy`, took for tasks that did
   * not start (they left the queue, or the Limiter was paused, while it answered): their slots,
   * and their place in the windows where the store can still find them. Optional: without it the
   * Limiter releases their slots, and their starts count as made.
   */
  giveBack?(key: string, policy: LimitPolicy, since: number, costs: readonly Cost[]): Promise<void>
  /**
   * Moves the starts recorded at or after `since` to `now`; `since` is the `now` the Limiter gave
   * the acquire that took the start. The Limiter calls it when a task's work has really gone out
   * (right after it starts, for a synchronous store; or when the task says so:
   * RunOptions.countsFrom), so that a delay between the
   * decision and the send (a new connection, a GC pause) can never let a later window open early.
   * A store with its own clock maps `since` to its grant and may skip sends that followed at once.
   * Optional: without it, starts count from the decision.
   */
  restamp?(key: string, since: number, now: number): void
  /**
   * A start asked for at `since` really cost `change` more (or, negative, less) in some units than
   * it took (an LLM call's usage, known from its response; or use made outside the limiter, with
   * `since` = `now`). More is recorded at `now`, whatever room the windows have (it was used);
   * less is taken back from the starts made at or after `since`, oldest first, so that a window
   * never counts less than it holds. A store may keep what a start took instead of taking back
   * (Redis does): it only counts more. Optional: without it, starts keep what they took.
   */
  settle?(
    key: string,
    policy: LimitPolicy,
    since: number,
    change: Readonly<Record<string, number>>,
    now: number,
  ): void
  /**
   * How much of `unit` the starts in the window of `policy`'s rates in that unit hold now (the
   * longest such window). Optional: a store that cannot say at once leaves it out.
   */
  used?(key: string, policy: LimitPolicy, unit: string, now: number): number
  /** Returns one concurrency slot taken by `acquire`. */
  release(key: string, policy: LimitPolicy, now: number): void | Promise<void>
  /** Holds every start for `ms` from now (a pause never shortens an existing longer pause). */
  pause(key: string, ms: number, now: number): void | Promise<void>
  /** Lifts a pause now, for everyone sharing the key. Optional: without it, pauses run their course. */
  resume?(key: string, now: number): void | Promise<void>
  /** The ms until `acquire(cost)` could succeed, taking nothing (0: now; Infinity: when a slot frees). */
  peek(key: string, policy: LimitPolicy, cost: Cost, now: number): number | Promise<number>
  /**
   * Calls `wake` when a slot is released or a pause changes for `key` by someone else sharing the
   * store, so that waiting limiters ask again. Returns the unsubscribe function.
   */
  subscribe?(key: string, wake: () => void): () => void
  /** Releases what the store holds (connections, timers). */
  close?(): void | Promise<void>
}
