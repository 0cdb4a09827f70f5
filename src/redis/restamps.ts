import type { Clock, TimerHandle } from '../limit/clock.js'

/** Where a policy's starts are recorded in Redis: built once per (key, policy), compared by identity. */
export interface RestampTarget {
  readonly paceKey: string
  readonly rateKeys: readonly string[]
  /** Ms of the longest window (margin included): a start older than that no longer counts. */
  readonly window: number
}

/** Starts Redis recorded for this process in one call, until they go out (or are too old to matter). */
interface Grant {
  /** Redis time (us) the starts were recorded at. */
  stamp: number
  /** Ms the acquire took, ask to answer: the starts were recorded somewhere in it. */
  roundTrip: number
  target: RestampTarget
  /** Its starts not gone out yet. */
  left: number
  /** The pending restamps holding this grant's move, and where (while not yet carried). */
  pending: PendingRestamps | undefined
  index: number
}

/** Restamps waiting to be carried: [since, moved] pairs in Redis time (us), for one target. */
export interface PendingRestamps {
  target: RestampTarget
  pairs: number[]
}

/** A send this much later than its grant's answer is "at once": the margin covers that much. */
const AT_ONCE_MS = 1

/**
 * The Redis store's restamps (LimiterStore.restamp): a start Redis recorded at grant time is moved
 * to when its request really went out, without a round trip of its own in the common case. The
 * move waits here and rides on this process's next acquire of the key (ACQUIRE applies it before
 * deciding anything). If no acquire comes within a quarter of the window, it is sent alone (one
 * round trip for every start that went out meanwhile): it must land before the start's old time
 * plus the window, when other processes would otherwise count the window as over.
 *
 * Grants are found by the limiter's own time of asking (`since`), the key it restamps with. The
 * starts of one grant (a batch) are alike in Redis: each send moves them all, to the latest send.
 */
export class Restamps {
  readonly #grants = new Map<string, Map<number, Grant>>()
  readonly #pending = new Map<string, PendingRestamps>()
  #timer: TimerHandle | undefined
  #timerAt = Number.POSITIVE_INFINITY

  constructor(
    private readonly clock: Clock,
    private readonly flush: (key: string, pending: PendingRestamps) => void,
  ) {}

  /** Redis recorded `count` starts asked for at `since` (the limiter's time) at `stamp`. */
  granted(
    key: string,
    since: number,
    stamp: number,
    roundTrip: number,
    target: RestampTarget,
    count: number,
  ): void {
    let grants = this.#grants.get(key)
    if (!grants) {
      grants = new Map()
      this.#grants.set(key, grants)
    }
    // Grants that never went out (their request failed first) age out here, oldest first.
    for (const [at, grant] of grants) {
      if (at + grant.target.window > since) break
      grants.delete(at)
    }
    const same = grants.get(since)
    // Two calls asking at the same instant: moving from the earlier stamp moves both.
    if (same) {
      same.stamp = Math.min(same.stamp, stamp)
      same.left += count
    } else {
      grants.set(since, { stamp, roundTrip, target, left: count, pending: undefined, index: 0 })
    }
  }

  /** `count` starts asked for at `since` will never go out: returns their stamp, to give them back. */
  forget(key: string, since: number, count: number): number | undefined {
    const grants = this.#grants.get(key)
    const grant = grants?.get(since)
    if (!grant) return undefined
    grant.left -= count
    if (grant.left <= 0) grants!.delete(since)
    return grant.stamp
  }

  /** The start asked for at `since` went out at `now` (the limiter's times). */
  restamp(key: string, since: number, now: number): void {
    const grants = this.#grants.get(key)
    const grant = grants?.get(since)
    if (!grant) return
    if (--grant.left <= 0) grants!.delete(since)
    const late = now - since
    // Recorded somewhere in [since, since + roundTrip]: a send right after the answer is on time.
    if (late - grant.roundTrip <= AT_ONCE_MS) return
    // `late` after the ask is never earlier than the real send on Redis's clock: conservative.
    const moved = grant.stamp + Math.round(late * 1000)
    let pending = this.#pending.get(key)
    if (pending !== undefined && pending === grant.pending) {
      // A later send of the same grant, before its move was carried: it moves further.
      pending.pairs[grant.index + 1] = Math.max(pending.pairs[grant.index + 1]!, moved)
      return
    }
    if (pending?.target !== grant.target) {
      // After setRate the lists differ: what waited for the old ones goes now, to those lists.
      if (pending) this.flush(key, pending)
      pending = { target: grant.target, pairs: [] }
      this.#pending.set(key, pending)
    }
    grant.pending = pending
    grant.index = pending.pairs.length
    pending.pairs.push(grant.stamp, moved)
    this.#flushBy(this.clock.now() + grant.target.window / 4)
  }

  /** The restamps waiting for `key`, handed to the acquire that carries them (and forgotten here). */
  take(key: string, target: RestampTarget): readonly number[] {
    const pending = this.#pending.get(key)
    if (pending?.target !== target) return NO_PAIRS
    this.#pending.delete(key)
    return pending.pairs
  }

  /** Sends every waiting restamp now (before close). */
  flushAll(): void {
    this.#clearTimer()
    const all = [...this.#pending]
    this.#pending.clear()
    for (const [key, pending] of all) this.flush(key, pending)
  }

  stop(): void {
    this.#clearTimer()
    this.#pending.clear()
    this.#grants.clear()
  }

  #flushBy(at: number): void {
    if (at >= this.#timerAt) return
    this.#clearTimer()
    this.#timerAt = at
    this.#timer = this.clock.setTimer(
      () => {
        this.#timer = undefined
        this.#timerAt = Number.POSITIVE_INFINITY
        this.flushAll()
      },
      Math.max(0, at - this.clock.now()),
    )
    // A process that is done need not stay for this: its starts no longer matter to it.
    ;(this.#timer as { unref?: () => void } | undefined)?.unref?.()
  }

  #clearTimer(): void {
    if (this.#timer === undefined) return
    this.clock.clearTimer(this.#timer)
    this.#timer = undefined
    this.#timerAt = Number.POSITIVE_INFINITY
  }
}

const NO_PAIRS: readonly number[] = []
