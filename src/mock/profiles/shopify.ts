import type { ResolvedRate } from '../../limit/units.js'
import type { Quota, QuotaVerdict } from './quota.js'

/**
 * Shopify's REST Admin dialect (shopify.dev "REST Admin API rate limits"): a leaky bucket of
 * `bucket` requests that leaks `requests.limit` per `requests.interval` (40 and 2/s by default).
 * Every response carries X-Shopify-Shop-Api-Call-Limit: used/size; a request that finds the
 * bucket full is answered 429 with Retry-After in decimal seconds and is not put in the bucket.
 */
export function shopifyQuota(requests: ResolvedRate, bucket: number): Quota {
  const leakPerMs = requests.limit / requests.interval
  let level = 0
  let leakedAt = 0

  const callLimit = () => ({ 'x-shopify-shop-api-call-limit': `${Math.ceil(level - 1e-9)}/${bucket}` })

  return {
    admit({ now }): QuotaVerdict {
      level = Math.max(0, level - (now - leakedAt) * leakPerMs)
      leakedAt = now
      // A little slack, so float leaks that land a hair above a whole number still admit.
      if (level + 1 <= bucket + 1e-9) {
        level += 1
        return { admitted: true, headers: callLimit() }
      }
      const waitMs = (level + 1 - bucket) / leakPerMs
      return {
        admitted: false,
        headers: { ...callLimit(), 'retry-after': shopifySeconds(waitMs) },
        refusal: {
          status: 429,
          body: {
            errors: `Exceeded ${requests.limit} calls per ${requests.interval / 1000} second(s) for api client. Reduce request rates to resume uninterrupted service.`,
          },
        },
      }
    },
  }
}

/** Seconds with one decimal ("1.0", "0.5"), as Shopify writes Retry-After, rounded up to the tenth. */
export function shopifySeconds(ms: number): string {
  return (Math.ceil(ms / 100) / 10).toFixed(1)
}
