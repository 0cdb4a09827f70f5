import {
  type HeaderBag,
  type Quota,
  type QuotaUnit,
  type RateLimitInfo,
  rateLimitInfo,
  type Standing,
} from './model.js'
import { decimal, headerText, quotaLimit } from './values.js'

/** How one vendor names a unit's three headers, and reads its reset. */
export interface PerMinuteDialect {
  name: 'openai' | 'anthropic'
  /** The header names of a unit's limit, remaining and reset; undefined if the vendor has no such unit. */
  fields(unit: QuotaUnit): { limit: string; remaining: string; reset: string } | undefined
  /** The reset value as ms from now. */
  reset(text: string | undefined, wallNow: number): number | undefined
}

const UNITS: readonly QuotaUnit[] = ['requests', 'tokens', 'input-tokens', 'output-tokens']
/** Both vendors document their limits per minute (RPM, TPM; ITPM/OTPM): the headers give the count, not the window. */
const MINUTE = 60_000
/** Windows an inferred one snaps to when within a quarter of it: 1 s, 10 s, 1 min, 1 h, 1 day. */
const USUAL_WINDOWS = [1000, 10_000, MINUTE, 3_600_000, 86_400_000]

/**
 * The window of a quota that refills continuously (a token bucket, as both vendors run): the reset
 * is when it is whole again, so it refills (limit - remaining) in `reset` ms, all of it in
 * limit / (limit - remaining) times that. Taken when it lands near a usual window (a provider with
 * these headers and requests per day, or a mock scaled to seconds); otherwise, or with nothing used
 * yet, none: the quota then takes the documented minute as a guess (Quota.guessed), which does not
 * replace a window read before. Never a window read off noise: each response would teach another.
 */
function windowOf(
  limit: number,
  remaining: number | undefined,
  reset: number | undefined,
): number | undefined {
  if (remaining === undefined || reset === undefined || reset <= 0 || remaining >= limit) return undefined
  const window = (reset * limit) / (limit - remaining)
  return USUAL_WINDOWS.find((usual) => Math.abs(window - usual) <= usual / 4)
}

/**
 * The LLM vendors' dialects: a limit, remaining and reset per unit, windows per minute unless the
 * reset says otherwise (windowOf). Undefined when no unit's limit or remaining is present.
 */
export function parsePerMinute(
  dialect: PerMinuteDialect,
  headers: HeaderBag,
  wallNow: number,
): RateLimitInfo | undefined {
  const quotas: Quota[] = []
  const standings: Standing[] = []
  let said = false
  for (const unit of UNITS) {
    const names = dialect.fields(unit)
    if (names === undefined) continue
    const limitText = headerText(headers[names.limit])
    const remainingText = headerText(headers[names.remaining])
    if (limitText === undefined && remainingText === undefined) continue
    said = true
    const limit = quotaLimit(decimal(limitText))
    const remaining = decimal(remainingText)
    const reset = dialect.reset(headerText(headers[names.reset]), wallNow)
    if (limit !== undefined) {
      const window = windowOf(limit, remaining, reset)
      quotas.push(
        window === undefined ? { limit, window: MINUTE, unit, guessed: true } : { limit, window, unit },
      )
    }
    if (remaining !== undefined) standings.push({ unit, remaining, reset })
  }
  return said ? rateLimitInfo(dialect.name, quotas, standings) : undefined
}
