import type { ResolvedRate } from '../../limit/units.js'
import { type Quota, type QuotaVerdict, retryAfterSeconds } from './quota.js'

const DOCS = 'https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api'

/**
 * GitHub's dialect (docs.github.com "Rate limits for the REST API"). Primary limit: a fixed window
 * (GitHub's hour, here `requests.interval`) that opens at the first request and resets whole at its
 * end; windows start on a whole epoch second, so the reset x-ratelimit-reset announces in epoch
 * seconds is exact even for a window of one second; every response carries x-ratelimit-{limit,remaining,used,reset} (reset in epoch seconds) and
 * x-ratelimit-resource: core; past the limit, 403 with remaining 0 and no Retry-After (the client
 * waits for x-ratelimit-reset). Secondary limit: more than `secondary` requests in flight is 403
 * with Retry-After and a "secondary rate limit" message; it counts nothing against the primary one.
 */
export function gitHubQuota(requests: ResolvedRate, secondary: number): Quota {
  /** Monotonic time the window resets: a whole epoch second, as GitHub announces it. */
  let windowEnd = Number.NEGATIVE_INFINITY
  let used = 0
  // GitHub asks for "at least one minute" after a secondary limit: a sixtieth of its hourly
  // window, so the wait scales with the configured one (at least 1 s).
  const secondaryWait = retryAfterSeconds(requests.interval / 60)

  const headers = (now: number, wallTime: number): Record<string, string> => ({
    'x-ratelimit-limit': String(requests.limit),
    'x-ratelimit-remaining': String(requests.limit - used),
    'x-ratelimit-used': String(used),
    'x-ratelimit-reset': String(Math.round((wallTime + windowEnd - now) / 1000)),
    'x-ratelimit-resource': 'core',
  })

  return {
    admit({ now, wallTime, inFlight }): QuotaVerdict {
      // A new window opens with the first request after the last one closed, as GitHub's does.
      if (now >= windowEnd) {
        windowEnd = now - (wallTime % 1000) + requests.interval
        used = 0
      }
      if (inFlight > secondary) {
        const message = `You have exceeded a secondary rate limit: more than ${secondary} requests in flight. Please wait a few minutes before you try again.`
        return {
          admitted: false,
          headers: { ...headers(now, wallTime), 'retry-after': secondaryWait },
          refusal: { status: 403, body: { message, documentation_url: DOCS } },
        }
      }
      if (used >= requests.limit) {
        return {
          admitted: false,
          headers: headers(now, wallTime),
          refusal: {
            status: 403,
            body: { message: 'API rate limit exceeded for this token.', documentation_url: DOCS },
          },
        }
      }
      used++
      return { admitted: true, headers: headers(now, wallTime) }
    },
  }
}
