import { StoreUnavailableError } from '../errors.js'
import { type Cost, costIn } from '../limit/cost.js'
import { MemoryStore } from '../limit/memory-store.js'
import type { Admission, LimitPolicy } from '../limit/store.js'
import { formatRate } from '../limit/units.js'

/**
 * The Redis store's stand-in while Redis is unreachable (option `fallback`): a memory store that
 * grants this process `fraction` of every limit, and counts the slots it handed out so that they
 * go back to it, not to Redis.
 */
export class LocalFallback {
  readonly #store = new MemoryStore()
  readonly #held = new Map<string, number>()
  readonly #scaled = new WeakMap<LimitPolicy, LimitPolicy>()
  readonly #fraction: number
  /** Where Redis was expected, for the errors. */
  readonly #where: string

  constructor(fraction: number, where: string) {
    this.#fraction = fraction
    this.#where = where
  }

  /** Takes the first of `costs` the local limits allow now, as acquireMany does. */
  acquire(key: string, policy: LimitPolicy, costs: readonly Cost[], now: number): Admission {
    const scaled = this.#scale(policy)
    for (let granted = 0; granted < costs.length; granted++) {
      const cost = costs[granted]!
      const tooSmall = scaled.rates.find((rate) => rate.limit < costIn(cost, rate))
      if (tooSmall) {
        // Asked again alone, it fails alone: the tasks before it need not.
        if (granted > 0) return { granted, wait: 0 }
        // Refused, not squeezed in: that start alone would overfill the fallback's share of the window.
        throw new StoreUnavailableError(
          `Redis at ${this.#where} is unreachable, and a task of cost ${costIn(cost, tooSmall)} exceeds the fallback's share of the quota (${formatRate(tooSmall)})`,
        )
      }
      const wait = this.#store.acquire(key, scaled, cost, now)
      if (wait > 0) return { granted, wait }
      this.#held.set(key, (this.#held.get(key) ?? 0) + 1)
    }
    return { granted: costs.length, wait: 0 }
  }

  /** Gives back a slot taken here, if this process holds one for `key`: true when it did. */
  release(key: string): boolean {
    const held = this.#held.get(key) ?? 0
    if (held === 0) return false
    this.#held.set(key, held - 1)
    this.#store.release(key)
    return true
  }

  peek(key: string, policy: LimitPolicy, cost: Cost, now: number): number {
    return this.#store.peek(key, this.#scale(policy), cost, now)
  }

  settle(
    key: string,
    policy: LimitPolicy,
    since: number,
    change: Readonly<Record<string, number>>,
    now: number,
  ): void {
    this.#store.settle(key, policy, since, change, now)
  }

  pause(key: string, ms: number, now: number): void {
    this.#store.pause(key, ms, now)
  }

  resume(key: string): void {
    this.#store.resume(key)
  }

  /** The policy for the local fallback: every limit times `fraction`, rounded down, at least 1. */
  #scale(policy: LimitPolicy): LimitPolicy {
    let scaled = this.#scaled.get(policy)
    if (!scaled) {
      const part = (n: number) => Math.max(1, Math.floor(n * this.#fraction))
      scaled = {
        // rateMargin and smooth apply locally too: the local starts face the same delays on the way.
        ...policy,
        concurrency:
          policy.concurrency === Number.POSITIVE_INFINITY ? policy.concurrency : part(policy.concurrency),
        rates: policy.rates.map((rate) => ({ ...rate, limit: part(rate.limit) })),
      }
      this.#scaled.set(policy, scaled)
    }
    return scaled
  }
}
