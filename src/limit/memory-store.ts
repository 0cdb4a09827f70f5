import { InvalidOptionError } from '../errors.js'
import { type Cost, costIn } from './cost.js'
import { formatRate, REQUESTS } from './units.js'
import { PaceSchedules } from './pace.js'
import { StartLog } from './start-log.js'
import type { LimiterStore, LimitPolicy } from './store.js'

interface KeyState {
  running: number
  pausedUntil: number
  /** The starts in requests, the unit of every rate that names none. */
  starts: StartLog
  /** The starts in each other unit (tokens...), created on a rate's first use. */
  units: Map<string, StartLog> | undefined
  /**
   * The longest window (interval + margin) any caller has counted on this key: starts are kept that
   * long, so limiters sharing the key with shorter windows cannot forget what a longer one needs.
   */
  horizon: number
  /** Created on the first paced start. */
  pace: PaceSchedules | undefined
  listeners: Set<() => void> | undefined
}

/** Limiter state in this process's memory: the default store. Share one between limiters to share limits. */
export class MemoryStore implements LimiterStore {
  readonly synchronous = true
  readonly budgets = true
  readonly #keys = new Map<string, KeyState>()

  acquire(key: string, policy: LimitPolicy, cost: Cost, now: number): number {
    const state = this.#state(key)
    const wait = this.#wait(state, policy, cost, now)
    if (wait > 0) return wait
    state.running++
    if (typeof cost === 'number' && state.units === undefined) {
      if (policy.rates.length > 0) state.starts.record(cost, now)
    } else {
      this.#record(state, policy, cost, now)
    }
    if (policy.smooth) (state.pace ??= new PaceSchedules()).record(policy, cost, now)
    return 0
  }

  restamp(key: string, since: number, now: number): void {
    const state = this.#state(key)
    state.starts.restamp(since, now)
    if (state.units) for (const log of state.units.values()) log.restamp(since, now)
    state.pace?.restamp(since, now)
  }

  settle(
    key: string,
    _policy: LimitPolicy,
    since: number,
    change: Readonly<Record<string, number>>,
    now: number,
  ): void {
    const state = this.#state(key)
    for (const [unit, amount] of Object.entries(change)) {
      const log = this.#log(state, unit === REQUESTS ? undefined : unit)
      if (amount > 0) log.record(amount, now)
      else if (amount < 0) log.refund(since, -amount)
    }
  }

  used(key: string, policy: LimitPolicy, unit: string, now: number): number {
    const state = this.#state(key)
    const rates = policy.rates.filter((rate) => (rate.unit ?? REQUESTS) === unit)
    if (rates.length === 0) return 0
    const window = Math.max(...rates.map((rate) => rate.interval + policy.rateMargin))
    return this.#log(state, rates[0]!.unit).sum(window, now)
  }

  release(key: string): void {
    const state = this.#state(key)
    state.running--
    wakeAll(state)
  }

  pause(key: string, ms: number, now: number): void {
    const state = this.#state(key)
    state.pausedUntil = Math.max(state.pausedUntil, now + ms)
    wakeAll(state)
  }

  resume(key: string): void {
    const state = this.#state(key)
    state.pausedUntil = Number.NEGATIVE_INFINITY
    wakeAll(state)
  }

  peek(key: string, policy: LimitPolicy, cost: Cost, now: number): number {
    return this.#wait(this.#state(key), policy, cost, now)
  }

  subscribe(key: string, wake: () => void): () => void {
    const state = this.#state(key)
    state.listeners ??= new Set()
    state.listeners.add(wake)
    return () => state.listeners?.delete(wake)
  }

  /** Records a start in the log of every unit the policy's rates count (a unit it costs nothing in: nothing). */
  #record(state: KeyState, policy: LimitPolicy, cost: Cost, now: number): void {
    const rates = policy.rates
    for (let i = 0; i < rates.length; i++) {
      const rate = rates[i]!
      // One log per unit: the first rate of each unit records for all of them.
      if (rates.findIndex((other) => other.unit === rate.unit) !== i) continue
      const weight = costIn(cost, rate)
      if (weight > 0) this.#log(state, rate.unit).record(weight, now)
    }
  }

  #wait(state: KeyState, policy: LimitPolicy, cost: Cost, now: number): number {
    let wait = state.pausedUntil > now ? state.pausedUntil - now : 0
    if (state.running >= policy.concurrency) return wait > 0 ? wait : Number.POSITIVE_INFINITY
    const rates = policy.rates
    if (rates.length === 0) return wait
    const margin = policy.rateMargin
    for (const rate of rates) {
      if (rate.limit < costIn(cost, rate)) {
        // The Limiter never asks this (it refuses such tasks): a window could never hold them.
        throw new InvalidOptionError(
          `memoryStore: cost ${costIn(cost, rate)} exceeds the rate ${formatRate(rate)}`,
        )
      }
      if (rate.interval + margin > state.horizon) state.horizon = rate.interval + margin
    }
    state.starts.forgetUntil(now - state.horizon)
    if (state.units) for (const log of state.units.values()) log.forgetUntil(now - state.horizon)
    for (const rate of rates) {
      const rateWait = this.#log(state, rate.unit).waitFor(
        rate.limit,
        rate.interval + margin,
        costIn(cost, rate),
        now,
      )
      if (rateWait > wait) wait = rateWait
    }
    if (policy.smooth && state.pace) {
      const paceWait = state.pace.wait(policy, now)
      if (paceWait > wait) wait = paceWait
    }
    return wait
  }

  /** The log of `unit` (undefined: requests), created on first use. */
  #log(state: KeyState, unit: string | undefined): StartLog {
    if (unit === undefined) return state.starts
    state.units ??= new Map()
    let log = state.units.get(unit)
    if (!log) {
      log = new StartLog()
      state.units.set(unit, log)
    }
    return log
  }

  #state(key: string): KeyState {
    let state = this.#keys.get(key)
    if (!state) {
      state = {
        running: 0,
        pausedUntil: Number.NEGATIVE_INFINITY,
        starts: new StartLog(),
        units: undefined,
        horizon: 0,
        pace: undefined,
        listeners: undefined,
      }
      this.#keys.set(key, state)
    }
    return state
  }
}

/** A new in-memory store. Pass the same one to several limiters (with the same `key`) to share limits. */
export function memoryStore(): MemoryStore {
  return new MemoryStore()
}

/** Tells the limiters sharing a key that a slot or a pause changed, so that they ask again. */
function wakeAll(state: KeyState): void {
  if (state.listeners) for (const wake of state.listeners) wake()
}
