import {
  type HeaderBag,
  type Quota,
  type QuotaUnit,
  type RateLimitInfo,
  rateLimitInfo,
  type Standing,
} from './model.js'
import { decimal, headerText, quotaLimit } from './values.js'

/** The names of one unit's three headers. */
export interface UnitFields {
  readonly unit: QuotaUnit
  readonly limit: string
  readonly remaining: string
  readonly reset: string
}

/** How one vendor names its units' headers (built once), and reads its reset. */
export interface PerMinuteDialect {
  name: 'openai' | 'anthropic'
  fields: readonly UnitFields[]
  /** The reset value as ms from now. */
  reset(text: string | undefined, wallNow: number): number | undefined
}
/** Both vendors document their limits per minute (RPM, TPM; ITPM/OTPM): the headers give the count, not the window. */
const MINUTE = 60_000
/** Windows an inferred one snaps to when within a quarter of it: 1 s, 10 s, 1 min, 1 h, 1 day. */
export const USUAL_WINDOWS = [1000, 10_000, MINUTE, 3_600_000, 86_400_000]

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
  // Asked of every response: one that speaks another dialect costs a few lookups, nothing more.
  if (!speaks(dialect, headers)) {
    return undefined
  }
  const quotas: Quota[] = []
  const standings: Standing[] = []
  for (const names of dialect.fields) {
    const { unit } = names
    const limitText = headerText(headers[names.limit])
    const remainingText = headerText(headers[names.remaining])
    if (limitText === undefined && remainingText === undefined) continue
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
  return rateLimitInfo(dialect.name, quotas, standings)
}

/** Whether the headers hold any unit's limit or remaining in this dialect (a loop: no closure per response). */
function speaks(dialect: PerMinuteDialect, headers: HeaderBag): boolean {
  for (const f of dialect.fields)
    if (headers[f.limit] !== undefined || headers[f.remaining] !== undefined) return true
  return false
}
