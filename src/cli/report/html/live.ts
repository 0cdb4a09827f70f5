import { REQUESTS, type ResolvedRate } from '../../../limit/units.js'

/** A server pause the client obeyed: nothing new started for `origin` from `at` (epoch ms) for `ms`. */
export interface PauseEvent {
  at: number
  origin: string
  ms: number
  reason: string
}

/** Rates the client learned for `origin` at `at` (epoch ms), in force from then on. */
export interface QuotaEvent {
  at: number
  origin: string
  rates: ResolvedRate[]
}

/** What a live run saw that its results file does not hold: the report marks it on the time axis. */
export interface LiveEvents {
  pauses: PauseEvent[]
  quotas: QuotaEvent[]
}

/** Events kept of each kind: a run that learns or pauses more often still gets a page of bounded size. */
const MAX_EVENTS = 10_000

/**
 * Collects the client's `pause` and `quota` events during a run, stamped with wall time (results
 * carry epoch ms starts): subscribe `pause` and `quota`, read `events` at the end.
 */
export class LiveRecorder {
  readonly events: LiveEvents = { pauses: [], quotas: [] }
  readonly #now: () => number

  /** @param now epoch ms (the run's clock's wall time) */
  constructor(now: () => number) {
    this.#now = now
  }

  pause(e: { origin: string; ms: number; reason: string }): void {
    if (this.events.pauses.length < MAX_EVENTS)
      this.events.pauses.push({ at: this.#now(), origin: e.origin, ms: e.ms, reason: e.reason })
  }

  quota(e: { origin: string; rates: readonly ResolvedRate[] }): void {
    if (this.events.quotas.length < MAX_EVENTS)
      this.events.quotas.push({ at: this.#now(), origin: e.origin, rates: [...e.rates] })
  }
}

/** Starts per second a set of rates allows: the tightest in requests (other units do not count starts). */
export function startsPerSecond(rates: readonly ResolvedRate[]): number | undefined {
  let tightest: number | undefined
  for (const r of rates) {
    if (r.unit !== undefined && r.unit !== REQUESTS) continue
    const perSecond = (r.limit * 1000) / r.interval
    tightest = tightest === undefined ? perSecond : Math.min(tightest, perSecond)
  }
  return tightest
}
