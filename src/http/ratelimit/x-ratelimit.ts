import { type HeaderBag, type RateLimitInfo, rateLimitInfo } from './model.js'
import { decimal, headerText, isEpochReset, quotaLimit, resetValue } from './values.js'

/** A resource or bucket name as GitHub (`core`, `search`, `code_scanning_upload`) and Discord send them. */
const RESOURCE = /^[\w.:-]{1,64}$/

/**
 * The de-facto `X-RateLimit-*` headers (GitHub, Discord, many others) and X's `x-rate-limit-*`:
 * limit, remaining, reset (epoch seconds, epoch ms or seconds from now). Discord's
 * `X-RateLimit-Reset-After` (seconds, with decimals) is preferred to its Reset: it needs no clock
 * agreement. A limit alone does not say over what window, so it teaches a quota only with
 * `X-RateLimit-Window` (or `-Interval`), as some APIs add. Otherwise the window is fixed (GitHub's
 * hour, X's 15 minutes, Discord's buckets): `limit - remaining` used until the reset, then the whole
 * limit again (Counting 'fixed-window'), counted apart per `X-RateLimit-Resource` (GitHub's core,
 * search, graphql...) or Discord's `X-RateLimit-Bucket`.
 */
export function parseXRateLimit(headers: HeaderBag, wallNow: number): RateLimitInfo | undefined {
  const prefix =
    headers['x-ratelimit-remaining'] !== undefined || headers['x-ratelimit-limit'] !== undefined
      ? 'x-ratelimit-'
      : headers['x-rate-limit-remaining'] !== undefined || headers['x-rate-limit-limit'] !== undefined
        ? 'x-rate-limit-'
        : undefined
  if (prefix === undefined) return undefined
  const field = (name: string) => headerText(headers[prefix + name])
  const limit = quotaLimit(decimal(field('limit')))
  const remaining = decimal(field('remaining'))
  const windowSeconds = decimal(field('window')) ?? decimal(field('interval'))
  const resetAfter = decimal(field('reset-after'))
  const reset = resetAfter === undefined ? resetValue(field('reset'), wallNow) : resetAfter * 1000
  const windowSaid = windowSeconds !== undefined && windowSeconds > 0
  return rateLimitInfo(
    'x-ratelimit',
    limit !== undefined && windowSaid ? [{ limit, window: windowSeconds * 1000, unit: 'requests' }] : [],
    remaining === undefined ? [] : [{ unit: 'requests', remaining, reset }],
    limit === undefined || remaining === undefined || reset === undefined || windowSaid
      ? undefined
      : {
          kind: 'fixed-window',
          limit,
          used: Math.max(0, limit - remaining),
          reset,
          resource: resourceName(field('resource') ?? field('bucket')),
          epochReset: resetAfter === undefined && isEpochReset(field('reset')),
        },
  )
}

function resourceName(text: string | undefined): string {
  const name = text?.trim() ?? ''
  return RESOURCE.test(name) ? name : ''
}
