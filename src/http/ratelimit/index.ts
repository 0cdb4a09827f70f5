import { parseIetf } from './ietf.js'
import type { HeaderBag, RateLimitInfo } from './model.js'
import { parseAnthropic, parseOpenAi, parseShopify } from './vendors.js'
import { parseXRateLimit } from './x-ratelimit.js'

/** The dialects in the order they are asked: the IETF fields first, the generic X-RateLimit-* last. */
const DIALECTS: readonly ((headers: HeaderBag, wallNow: number) => RateLimitInfo | undefined)[] = [
  parseIetf,
  parseOpenAi,
  parseAnthropic,
  parseShopify,
  parseXRateLimit,
]

/**
 * Reads a response's rate-limit headers, in whichever dialect it speaks (the IETF RateLimit fields
 * of every draft, OpenAI, Anthropic, Shopify, X-RateLimit-* as GitHub, Discord and X send them),
 * into one RateLimitInfo; undefined when it carries none. A malformed value is ignored, never read
 * as a limit. `wallNow` is the wall time (epoch ms) that epoch resets are measured from.
 */
export function parseRateLimitHeaders(headers: HeaderBag, wallNow: number): RateLimitInfo | undefined {
  for (const parse of DIALECTS) {
    const info = parse(headers, wallNow)
    if (info !== undefined) return info
  }
  return undefined
}
