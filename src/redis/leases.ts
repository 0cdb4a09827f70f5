import type { Clock, TimerHandle } from '../limit/clock.js'

/**
 * The concurrency leases this process holds in Redis, and the timer that renews them.
 *
 * A lease is a slot with an expiry: while its task runs, this process pushes the expiry ahead every
 * third of the ttl, so a live process never loses a slot, and a process that dies stops renewing
 * and its slots come back within one ttl. The timer runs only while some lease is held: an idle
 * process has no timer, and the timer never keeps a process alive on its own.
 */
export class Leases {
  readonly #held = new Map<string, string[]>()
  readonly #clock: Clock
  readonly #every: number
  readonly #renew: (key: string, ids: readonly string[]) => Promise<unknown>
  #count = 0
  #timer: TimerHandle | undefined

  /** `renew(key, ids)` pushes the expiry of those leases ahead; its failures are left to the ttl. */
  constructor(clock: Clock, ttl: number, renew: (key: string, ids: readonly string[]) => Promise<unknown>) {
    this.#clock = clock
    this.#every = ttl / 3
    this.#renew = renew
  }

  /** How many leases this process holds, over all keys. */
  get count(): number {
    return this.#count
  }

  add(key: string, id: string): void {
    let ids = this.#held.get(key)
    if (!ids) {
      ids = []
      this.#held.set(key, ids)
    }
    ids.push(id)
    this.#count++
    if (this.#timer === undefined) this.#schedule()
  }

  /**
   * Takes any one lease held for `key` (tasks are interchangeable: the store only counts them), or
   * undefined when none is held. The caller gives it back to Redis.
   */
  take(key: string): string | undefined {
    const ids = this.#held.get(key)
    const id = ids?.pop()
    if (id === undefined) return undefined
    if (ids!.length === 0) this.#held.delete(key)
    if (--this.#count === 0) this.stop()
    return id
  }

  /** Stops renewing: what is held expires within the ttl. */
  stop(): void {
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer)
    this.#timer = undefined
  }

  #schedule(): void {
    const timer = this.#clock.setTimer(() => this.#tick(), this.#every)
    // Running tasks keep the process alive; a renewal timer alone must not.
    ;(timer as { unref?: () => void } | undefined)?.unref?.()
    this.#timer = timer
  }

  #tick(): void {
    this.#timer = undefined
    for (const [key, ids] of this.#held) {
      // A failed renewal (Redis away) is retried next tick; if Redis stays away the ttl frees the slots.
      this.#renew(key, [...ids]).catch(() => {})
    }
    if (this.#count > 0) this.#schedule()
  }
}
