import type { ResolvedRate } from '../limit/units.js'
import { nextPace, paceSpacing } from './pace.js'
import { StartLog } from './start-log.js'
import type { LimiterStore, LimitPolicy } from './types.js'

interface KeyState {
  running: number
  pausedUntil: number
  starts: StartLog
  /** Per rate (by name), the earliest time of its next start: only while `smooth` is on. */
  pace: Map<string, number> | undefined
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
    if (policy.smooth) {
      state.pace ??= new Map()
      for (const rate of policy.rates) {
        const name = rateName(rate)
        const scheduled = state.pace.get(name) ?? Number.NEGATIVE_INFINITY
        state.pace.set(name, nextPace(scheduled, now, cost, paceSpacing(rate, policy.rateMargin)))
      }
    }
    return 0
  }

  restamp(key: string, since: number, now: number): void {
    this.#state(key).starts.restamp(since, now)
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
    let longest = 0
    for (const rate of rates) if (rate.interval > longest) longest = rate.interval
    state.starts.forgetUntil(now - longest - margin)
    for (const rate of rates) {
      const rateWait = state.starts.waitFor(rate.limit, rate.interval + margin, cost, now)
      if (rateWait > wait) wait = rateWait
      const scheduled = policy.smooth ? state.pace?.get(rateName(rate)) : undefined
      if (scheduled !== undefined && scheduled - now > wait) wait = scheduled - now
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
        pace: undefined,
        listeners: undefined,
      }
      this.#keys.set(key, state)
    }
    return state
  }
}

/** A rate's name in the pace map: rates keep their schedule across setRate, like their windows. */
function rateName(rate: ResolvedRate): string {
  return `${rate.limit}/${rate.interval}`
}

/** A new in-memory store. Pass the same one to several limiters (with the same `key`) to share limits. */
export function memoryStore(): MemoryStore {
  return new MemoryStore()
}
