import type { Clock } from '../limit/clock.js'
import { Limiter } from '../limit/limiter.js'
import type { ResolvedLimits } from '../limit/limits.js'
import type { ResolvedRate } from '../limit/units.js'
import { Roster, type RosterEntry } from '../limit/roster.js'
import { Circuit } from './circuit.js'
import { amountIn, type Cost } from '../limit/cost.js'
import type { Quota, Standing } from './ratelimit/model.js'

/**
 * Safety margin on quotas learned from a server. The limiter's windows are exact at the client,
 * but the server stamps arrival times: network and event-loop jitter can squeeze N+1 arrivals
 * into one of its windows when the client sends exactly at the limit. Each learned window is
 * therefore lengthened by a margin: 2% at first (at least 10 ms: 20 per 1 s is enforced as 20 per
 * 1,020 ms, as the limiter's default rateMargin does), doubled after each 429 the learned quota did
 * not prevent, up to 24%.
 */
export const MARGIN = { initial: 0.02, max: 0.24, minMs: 10 } as const

/** An attempt in flight, as learning sees it: when it went out (-Infinity: not yet), and its cost. */
export interface InFlightAttempt {
  readonly sentAt: number
  readonly req: { readonly cost?: Cost }
}

/** The most a budget's estimates are scaled up by what the server shows (4x: they are far off). */
const MAX_SCALE = 4

/**
 * The learned quota as a rate. The limiter adds its own `rateMargin` to every window, so only what
 * the learned margin asks beyond that is added here: the two margins absorb the same jitter, and
 * stacking them would waste quota for nothing.
 */
export function withMargin(quota: Quota, margin: number = MARGIN.initial, rateMargin = 0): ResolvedRate {
  const learnedMs = Math.max(MARGIN.minMs, quota.window * margin)
  const interval = Math.ceil(quota.window + Math.max(0, learnedMs - rateMargin))
  return quota.unit === 'requests'
    ? { limit: quota.limit, interval }
    : { limit: quota.limit, interval, unit: quota.unit }
}

/** What made the server's wait known: a Retry-After, or a RateLimit reset with nothing remaining. */
export type BlockSource = 'Retry-After' | 'RateLimit reset'

/** What an origin taught: kept when its state is forgotten, so a later visit starts polite. */
export interface Lesson {
  quotas: readonly Quota[]
  margin: number
}

/** One origin's limits: a Limiter (the user's limits, plus what the server taught) and its adaptive state. */
export class OriginState {
  readonly origin: string
  readonly limiter: Limiter
  /** Whether this client created the limiter (and so closes it). */
  readonly owned: boolean
  /** The user's own rates, which learned quotas are added to, never replace. */
  readonly #baseRates: readonly ResolvedRate[]
  #learnedKey = ''
  #quotas: readonly Quota[] = []
  #margin: number = MARGIN.initial
  #widenedAt = Number.NEGATIVE_INFINITY
  /** Attempts to this origin whose response has not arrived. */
  readonly #attempts = new Roster<InFlightAttempt>()
  /** Per unit other than requests, what the server has counted for each unit the client estimated (>= 1). */
  readonly #scale = new Map<string, number>()
  /** When the quota in force was learned (the limiter's clock): -Infinity before. */
  learnedAt = Number.NEGATIVE_INFINITY
  /** Monotonic time before which requests fail at once: the server asked for more than maxRetryAfter. */
  blockedUntil = Number.NEGATIVE_INFINITY
  /** The wait (ms) the server asked for behind `blockedUntil`, and which header asked it. */
  blockedFor = 0
  blockedBy: BlockSource = 'Retry-After'
  /** Requests (all their attempts and backoffs) holding this state now. */
  users = 0
  /** Monotonic time the last request holding this state let go of it. */
  lastUsed = Number.NEGATIVE_INFINITY
  /** Refusals in a row, and whether requests to the origin are held off (see circuitBreakerLayer). */
  readonly circuit = new Circuit()
  /** Never evicted: the baseUrl's and allowOrigins' states, and any whose limiter was handed out. */
  pinned = false

  constructor(origin: string, limiter: Limiter, owned: boolean) {
    this.origin = origin
    this.limiter = limiter
    this.owned = owned
    this.#baseRates = limiter.policy.rates
  }

  /** Attempts to this origin whose response has not arrived. */
  get inFlight(): number {
    return this.#attempts.size
  }

  /** An attempt is on its way: it counts as in flight until `answered` is given what this returned. */
  hold(attempt: InFlightAttempt): RosterEntry<InFlightAttempt> {
    return this.#attempts.add(attempt)
  }

  /** The attempt `hold` returned `held` for has its answer (or has failed). */
  answered(held: RosterEntry<InFlightAttempt>): void {
    this.#attempts.delete(held)
  }

  /** True when the user set no rate: the server's quota, once learned, is all that paces this origin. */
  get hasLearnedRate(): boolean {
    return this.#learnedKey !== ''
  }

  /** The quotas learned and the margin they needed, if any. */
  get lesson(): Lesson | undefined {
    return this.hasLearnedRate ? { quotas: this.#quotas, margin: this.#margin } : undefined
  }

  /** Enforces what an earlier state of this origin had learned, before the first response. */
  recall(lesson: Lesson, now: number): void {
    this.#margin = lesson.margin
    this.learn(lesson.quotas, [], now)
  }

  /**
   * Enforces the server's announced quotas on top of the user's rates. Starts made before the
   * quota was known were not recorded against it (unless a rate of the user's counted them), so the
   * ones the server says are used up (and those still in flight) are recorded now: the next window
   * cannot be overfilled.
   * Returns the rates now in force, or undefined when nothing changed.
   */
  learn(
    announced: readonly Quota[],
    standings: readonly Standing[],
    now: number,
    answeredSentAt = Number.NEGATIVE_INFINITY,
  ): ResolvedRate[] | undefined {
    // A guessed window gives way to one read before for the same limit.
    const quotas = announced.map((quota) =>
      quota.guessed
        ? (this.#quotas.find((known) => known.unit === quota.unit && known.limit === quota.limit) ?? quota)
        : quota,
    )
    const key = quotas.map((q) => `${q.limit}/${q.window}/${q.unit}`).join(',')
    if (key === this.#learnedKey) return undefined
    this.#learnedKey = key
    this.#quotas = quotas
    this.learnedAt = now
    const rateMargin = this.limiter.policy.rateMargin
    const rates = [...this.#baseRates, ...quotas.map((q) => withMargin(q, this.#margin, rateMargin))]
    this.limiter.setRate(rates)
    const seed: Record<string, number> = { requests: 0 }
    for (const unit of new Set(quotas.map((q) => q.unit))) {
      const limit = Math.min(...quotas.filter((q) => q.unit === unit).map((q) => q.limit))
      // A user's rate at least as tight as every quota in the unit already counted its starts.
      const held = this.#baseRates.some(
        (rate) =>
          (rate.unit ?? 'requests') === unit &&
          quotas.every((q) => q.unit !== unit || (rate.limit <= q.limit && rate.interval >= q.window)),
      )
      if (held) continue
      const remaining = standings.find((standing) => standing.unit === unit)?.remaining
      // Attempts in flight count when they arrive: their requests, and what they said they cost.
      const used = (remaining === undefined ? 0 : limit - remaining) + this.#sentSince(answeredSentAt, unit)
      // What a looser rate of the user's in the unit counted is not counted twice (where the store says).
      const counted = this.limiter.usedIn(unit) ?? 0
      const room = Math.min(...rates.filter((r) => (r.unit ?? 'requests') === unit).map((r) => r.limit))
      seed[unit] = Math.min(room, Math.max(0, Math.floor(used - counted)))
    }
    this.#record(seed)
    return rates
  }

  /**
   * What the attempts in flight that the server had not counted when it answered the one sent at
   * `answeredSentAt` cost in `unit`: those sent after it (or not yet sent) arrive after it did.
   */
  #sentSince(answeredSentAt: number, unit: string): number {
    let cost = 0
    for (const attempt of this.#attempts) {
      if (attempt.sentAt !== Number.NEGATIVE_INFINITY && attempt.sentAt <= answeredSentAt) continue
      // An attempt is one request, whatever its cost says of requests.
      cost += unit === 'requests' ? 1 : amountIn(attempt.req.cost ?? 1, unit)
    }
    return cost
  }

  /** `cost` with each unit other than requests scaled by what the server showed its estimates to be worth. */
  scaled(cost: Cost): Cost {
    if (typeof cost === 'number' || this.#scale.size === 0) return cost
    const scaled: Record<string, number> = { ...cost }
    for (const [unit, factor] of this.#scale) if (scaled[unit] !== undefined) scaled[unit] *= factor
    return scaled
  }

  /**
   * Corrects the budgets by what the server says is used: requests that cost more than their
   * estimate (a prompt longer than guessed) leave the server with less than the client counts, and
   * the difference is recorded now, so the next calls wait for it instead of drawing 429s; later
   * estimates in that unit are scaled up by the ratio seen. The client counts calls in flight the
   * server has not, so the ratio never overshoots the truth. A client counting more than the server
   * (estimates too high) keeps its count: it only waits longer.
   */
  reconcile(standings: readonly Standing[]): void {
    const extra: Record<string, number> = { requests: 0 }
    for (const { unit, remaining } of standings) {
      const limits = this.#quotas.filter((q) => q.unit === unit).map((q) => q.limit)
      const counted = unit === 'requests' || limits.length === 0 ? undefined : this.limiter.usedIn(unit)
      if (counted === undefined) continue
      const limit = Math.min(...limits)
      const serverUsed = limit - remaining
      extra[unit] = Math.min(limit, Math.max(0, serverUsed - counted))
      if (counted > 0 && serverUsed > counted) {
        this.#scale.set(unit, Math.min(MAX_SCALE, Math.max(this.#scale.get(unit) ?? 1, serverUsed / counted)))
      }
    }
    this.#record(extra)
  }

  /** Records use the limiter did not count. */
  #record(cost: Readonly<Record<string, number>>): void {
    if (Object.values(cost).some((amount) => amount > 0)) this.limiter.charge(cost)
  }

  /**
   * A 429 came although a learned quota was enforced: the jitter between here and the server is
   * larger than the margin, or the cost estimates in a budget are low (a server that charges up
   * front and settles later shows no sign of it in `remaining`). Doubles the margin (in this
   * process's memory), scales the estimates of every budget by 1.25 (at most 4x), and re-seeds the
   * window as full (the server just said so). The 429s of one burst count once: this happens at most once per window.
   * Returns the rates now in force, or undefined when nothing changed.
   */
  widen(now: number): ResolvedRate[] | undefined {
    if (!this.hasLearnedRate) return undefined
    if (now - this.#widenedAt < Math.max(...this.#quotas.map((q) => q.window))) return undefined
    this.#widenedAt = now
    for (const { unit } of this.#quotas) {
      if (unit !== 'requests') this.#scale.set(unit, Math.min(MAX_SCALE, (this.#scale.get(unit) ?? 1) * 1.25))
    }
    // In a store shared with other processes (Redis) a longer window is another list, which the
    // processes that kept theirs would no longer share: the margin stays, the window is re-seeded.
    const shared = !this.limiter.store.synchronous
    if (this.#margin >= MARGIN.max && !shared) return undefined
    if (!shared) this.#margin = Math.min(MARGIN.max, this.#margin * 2)
    this.#learnedKey = ''
    return this.learn(this.#quotas, [{ unit: 'requests', remaining: 0, reset: undefined }], now)
  }
}

/**
 * An origin nobody has used for this long (and at least its longest window plus margin, so its
 * starts no longer count) is forgotten: a crawler over many hosts keeps only the recent ones.
 */
export const IDLE_ORIGIN_MS = 60_000
/** How often, at most, creating an origin also sweeps the idle ones out. */
const SWEEP_EVERY_MS = 10_000
/** Lessons of forgotten origins kept (the oldest go first): a few hundred bytes each. */
const LESSONS_KEPT = 1_000

/**
 * The origins' limiters, created on first use. Without a baseUrl a client may reach any number of
 * origins: idle ones are dropped (and their limiters closed) once nothing they hold still counts.
 */
export class Origins {
  readonly #states = new Map<string, OriginState>()
  readonly #make: (origin: string) => OriginState
  readonly #clock: Clock
  readonly #pinned: ReadonlySet<string>
  /** Quotas learned by forgotten origins, oldest first (a Map keeps insertion order). */
  readonly #lessons = new Map<string, Lesson>()
  #sweptAt: number

  constructor(options: {
    baseOrigin: string | undefined
    /** More origins that are never forgotten (allowOrigins). */
    pinned: readonly string[]
    /** A shared limiter: it serves the baseUrl's origin (every origin without a baseUrl). */
    limiter: Limiter | undefined
    /** The limits of each origin's own limiter. */
    limits: ResolvedLimits
  }) {
    const { baseOrigin, pinned, limiter, limits } = options
    this.#clock = limits.clock
    this.#sweptAt = limits.clock.now()
    this.#pinned = new Set(baseOrigin === undefined ? pinned : [baseOrigin, ...pinned])
    this.#make = (origin) => {
      if (limiter && (baseOrigin === undefined || origin === baseOrigin)) {
        return new OriginState(origin, limiter, false)
      }
      const key = origin === baseOrigin ? limits.key : `${limits.key}:${origin}`
      return new OriginState(origin, new Limiter({ ...limits, key }), true)
    }
  }

  /** The origin's state for one request; give it back with `release` when the request has ended. */
  use(origin: string): OriginState {
    const state = this.#get(origin)
    state.users++
    return state
  }

  release(state: OriginState): void {
    state.users--
    state.lastUsed = this.#clock.now()
  }

  /** The origin's state, kept for good (its limiter is handed out). */
  pin(origin: string): OriginState {
    const state = this.#get(origin)
    state.pinned = true
    return state
  }

  all(): OriginState[] {
    return [...this.#states.values()]
  }

  #get(origin: string): OriginState {
    let state = this.#states.get(origin)
    if (!state) {
      this.#sweepIfDue()
      state = this.#make(origin)
      state.pinned = this.#pinned.has(origin)
      const lesson = this.#lessons.get(origin)
      if (lesson) {
        this.#lessons.delete(origin)
        state.recall(lesson, this.#clock.now())
      }
      this.#states.set(origin, state)
    }
    return state
  }

  #remember(origin: string, lesson: Lesson): void {
    this.#lessons.set(origin, lesson)
    if (this.#lessons.size > LESSONS_KEPT) {
      this.#lessons.delete(this.#lessons.keys().next().value as string)
    }
  }

  #sweepIfDue(): void {
    const now = this.#clock.now()
    if (now - this.#sweptAt < SWEEP_EVERY_MS) return
    this.#sweptAt = now
    for (const [origin, state] of this.#states) {
      if (!isForgettable(state, now)) continue
      this.#states.delete(origin)
      if (state.owned) void state.limiter.close()
      const lesson = state.lesson
      if (lesson) this.#remember(origin, lesson)
    }
  }
}

/**
 * Whether dropping the state changes nothing a new one would do (what it learned is remembered
 * apart): no request holds it, it has been idle past every window (its starts no longer count),
 * and no pause or block is pending.
 */
function isForgettable(state: OriginState, now: number): boolean {
  if (state.pinned || state.users > 0 || now < state.blockedUntil || state.circuit.isOpen) return false
  const { rates, rateMargin } = state.limiter.policy
  const longest = Math.max(IDLE_ORIGIN_MS, ...rates.map((rate) => rate.interval + rateMargin))
  if (now - state.lastUsed < longest) return false
  const stats = state.limiter.stats()
  return stats.running === 0 && stats.queued === 0 && stats.nextStartIn === 0
}
