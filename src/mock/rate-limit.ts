import type { ResolvedRate } from '../limit/units.js'
import { RateWindow } from './windows.js'

/** What the rate limit decided for one request, and the headers that tell the client its quota. */
export interface RateVerdict {
  readonly admitted: boolean
  /** RateLimit-Policy, RateLimit and X-RateLimit-*; Retry-After too when not admitted. */
  readonly headers: Record<string, string>
}

/**
 * The mock server's rate limit: every rate must hold, each as an exact sliding window. A request
 * answered 429 is not counted (it was not admitted), as real APIs do, so a client that waits
 * Retry-After always finds room.
 */
export class ServerRateLimit {
  readonly #windows: RateWindow[]
  readonly #policy: string

  constructor(rates: readonly ResolvedRate[]) {
    this.#windows = rates.map((rate) => new RateWindow(rate))
    this.#policy = this.#windows
      .map((window, i) => `${policyName(i)};q=${window.rate.limit};w=${seconds(window.rate.interval)}`)
      .join(', ')
  }

  /**
   * Admits (and counts) a request arriving at `now` when every window has room. `wallTime` is the
   * Unix time in ms at `now`, for X-RateLimit-Reset, which clients read as an epoch time.
   */
  admit(now: number, wallTime: number): RateVerdict {
    const admitted = this.#windows.every((window) => window.remaining(now) > 0)
    if (admitted) for (const window of this.#windows) window.record(now)
    return { admitted, headers: this.#headers(now, wallTime, admitted) }
  }

  clear(): void {
    for (const window of this.#windows) window.clear()
  }

  #headers(now: number, wallTime: number, admitted: boolean): Record<string, string> {
    const fields: string[] = []
    // The tightest window (fewest left, then longest until one frees) speaks for the X- headers.
    let tightest = this.#windows[0]!
    let tightestLeft = Number.POSITIVE_INFINITY
    let tightestFreeIn = 0
    for (let i = 0; i < this.#windows.length; i++) {
      const window = this.#windows[i]!
      const left = window.remaining(now)
      const freeIn = window.nextFreeIn(now)
      fields.push(`${policyName(i)};r=${left};t=${Math.ceil(freeIn / 1000)}`)
      if (left < tightestLeft || (left === tightestLeft && freeIn > tightestFreeIn)) {
        tightest = window
        tightestLeft = left
        tightestFreeIn = freeIn
      }
    }
    const headers: Record<string, string> = {
      'ratelimit-policy': this.#policy,
      ratelimit: fields.join(', '),
      'x-ratelimit-limit': String(tightest.rate.limit),
      'x-ratelimit-remaining': String(tightestLeft),
      'x-ratelimit-reset': String(Math.ceil((wallTime + tightestFreeIn) / 1000)),
    }
    // Rounded up, and at least 1: a client that waits this long is sure to be admitted.
    if (!admitted) headers['retry-after'] = String(Math.max(1, Math.ceil(tightestFreeIn / 1000)))
    return headers
  }
}

function policyName(index: number): string {
  return index === 0 ? '"default"' : `"rate${index}"`
}

/** Whole seconds as an integer; a sub-second window as a decimal (w=0.25) rather than a wrong 0 or 1. */
function seconds(ms: number): string {
  return String(Number((ms / 1000).toFixed(3)))
}
