/**
 * What a server says of its rate limits, whatever its dialect: the one model every dialect's
 * parser produces and the client obeys. No clock is read by the parsers: callers pass the wall time.
 */

export type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>

/** What a quota counts: requests, or tokens (all, input only, output only) for LLM APIs. */
export type QuotaUnit = 'requests' | 'tokens' | 'input-tokens' | 'output-tokens'

/** The header dialect a response spoke. */
export type RateLimitDialect = 'ietf' | 'openai' | 'anthropic' | 'shopify' | 'x-ratelimit'

/** A quota the server announced: at most `limit` of `unit` per `window` ms. */
export interface Quota {
  readonly limit: number
  readonly window: number
  readonly unit: QuotaUnit
  /**
   * True when the response did not say the window and it is the dialect's documented default (an
   * LLM vendor's minute): a window read off an earlier response for the same limit is kept.
   */
  readonly guessed?: boolean
}

/** What is left of one unit's quota now, and the ms until it frees up (when said). */
export interface Standing {
  readonly unit: QuotaUnit
  readonly remaining: number
  readonly reset: number | undefined
}

/**
 * How the server counts, when the dialect documents it and no sliding window is said: a fixed
 * window that resets whole (GitHub, X: `used` of `limit` until `reset` ms from now), or a leaky
 * bucket (Shopify: `used` of `size`, leaking `leakPerMs`). The client keeps its own running copy of
 * that count (see ServerCounts), which is exact where a sliding-window quota would waste or overrun.
 */
export type Counting =
  | {
      readonly kind: 'fixed-window'
      readonly limit: number
      readonly used: number
      readonly reset: number
      /** The quota this response counted against (GitHub's `x-ratelimit-resource`); '' when unsaid. */
      readonly resource: string
      /** The reset was said as an epoch time (not a delay): only as exact as the two clocks agree. */
      readonly epochReset: boolean
    }
  | {
      readonly kind: 'leaky-bucket'
      readonly size: number
      readonly used: number
      readonly leakPerMs: number
    }

/** What a response says about the client's standing with the server's rate limits. */
export interface RateLimitInfo {
  readonly dialect: RateLimitDialect
  /** Quotas announced, in every unit; empty when none (a limit without a window teaches none). */
  readonly quotas: readonly Quota[]
  /** Requests left in the tightest current window, when said. */
  readonly remaining: number | undefined
  /** Ms until that window frees up, when said. */
  readonly reset: number | undefined
  /** The tightest standing of each unit said, requests included. */
  readonly standings: readonly Standing[]
  /** How the server counts requests, when the dialect says it: see Counting. */
  readonly counting?: Counting
}

/** The tighter of two standings of one unit: fewer remaining, then the longer reset. */
function tighter(a: Standing, b: Standing): Standing {
  if (a.remaining !== b.remaining) return a.remaining < b.remaining ? a : b
  return (a.reset ?? 0) >= (b.reset ?? 0) ? a : b
}

/**
 * Quotas kept from one response: every real API announces a handful; a server announcing thousands
 * would have the client check thousands of windows per request.
 */
export const MAX_QUOTAS = 16

/** One RateLimitInfo from what a dialect read: the tightest standing per unit, requests' on top. */
export function rateLimitInfo(
  dialect: RateLimitDialect,
  quotas: readonly Quota[],
  standings: readonly Standing[],
  counting?: Counting,
): RateLimitInfo {
  const byUnit = new Map<QuotaUnit, Standing>()
  for (const standing of standings) {
    const known = byUnit.get(standing.unit)
    byUnit.set(standing.unit, known ? tighter(known, standing) : standing)
  }
  const requests = byUnit.get('requests')
  return {
    dialect,
    quotas: quotas.length > MAX_QUOTAS ? quotas.slice(0, MAX_QUOTAS) : quotas,
    remaining: requests?.remaining,
    reset: requests?.reset,
    standings: [...byUnit.values()],
    ...(counting && { counting }),
  }
}
