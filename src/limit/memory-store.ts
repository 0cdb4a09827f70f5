import { InvalidOptionError } from '../errors.js'
import { formatRate } from './units.js'
import { PaceSchedules } from './pace.js'
import { StartLog } from './start-log.js'
import type { LimiterStore, LimitPolicy } from './store.js'

interface KeyState {
  running: number
  pausedUntil: number
  starts: StartLog
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
  readonly #keys = new Map<string, KeyState>()

  acquire(key: string, policy: LimitPolicy, cost: number, now: number): number {
    const state = this.#state(key)
    const wait = this.#wait(state, policy, cost, now)
    if (wait > 0) return wait
    state.running++
    if (policy.rates.length > 0) state.starts.record(cost, now)
    if (policy.smooth) (state.pace ??= new PaceSchedules()).record(policy, cost, now)
    return 0
  }

  restamp(key: string, since: number, now: number): void {
    const state = this.#state(key)
    state.starts.restamp(since, now)
    state.pace?.restamp(since, now)
  }

  release(key: string): void {
    const state = this.#state(key)
    state.running--
    if (state.listeners) for (const wake of state.listeners) wake()
  }

  pause(key: string, ms: number, now: number): void {
    const state = this.#state(key)
    state.pausedUntil = Math.max(state.pausedUntil, now + ms)
    if (state.listeners) for (const wake of state.listeners) wake()
  }

  peek(key: string, policy: LimitPolicy, cost: number, now: number): number {
    return this.#wait(this.#state(key), policy, cost, now)
  }

  subscribe(key: string, wake: () => void): () => void {
    const state = this.#state(key)
    state.listeners ??= new Set()
    state.listeners.add(wake)
    return () => state.listeners?.delete(wake)
  }

  #wait(state: KeyState, policy: LimitPolicy, cost: number, now: number): number {
    let wait = state.pausedUntil > now ? state.pausedUntil - now : 0
    if (state.running >= policy.concurrency) return wait > 0 ? wait : Number.POSITIVE_INFINITY
    const rates = policy.rates
    if (rates.length === 0) return wait
    const margin = policy.rateMargin
    for (const rate of rates) {
      if (rate.limit < cost) {
        // The Limiter never asks this (it refuses such tasks): a window could never hold them.
        throw new InvalidOptionError(`memoryStore: cost ${cost} exceeds the rate ${formatRate(rate)}`)
      }
      if (rate.interval + margin > state.horizon) state.horizon = rate.interval + margin
    }
    state.starts.forgetUntil(now - state.horizon)
    for (const rate of rates) {
      const rateWait = state.starts.waitFor(rate.limit, rate.interval + margin, cost, now)
      if (rateWait > wait) wait = rateWait
    }
    if (policy.smooth && state.pace) {
      const paceWait = state.pace.wait(policy, now)
      if (paceWait > wait) wait = paceWait
    }
    return wait
  }

  #state(key: string): KeyState {
    let state = this.#keys.get(key)
    if (!state) {
      state = {
        running: 0,
        pausedUntil: Number.NEGATIVE_INFINITY,
        starts: new StartLog(),
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
