import { type HeaderBag, type RateLimitInfo, rateLimitInfo } from './model.js'
import { type PerMinuteDialect, parsePerMinute } from './per-minute.js'
import { decimal, goDuration, headerText, timeFromNow } from './values.js'

/**
 * OpenAI: `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`, resets as Go durations
 * (`1s`, `6m0s`, `12ms`): the time until the quota is whole again.
 */
export const OPENAI: PerMinuteDialect = {
  name: 'openai',
  fields: (['requests', 'tokens'] as const).map((unit) => ({
    unit,
    limit: `x-ratelimit-limit-${unit}`,
    remaining: `x-ratelimit-remaining-${unit}`,
    reset: `x-ratelimit-reset-${unit}`,
  })),
  reset: (text) => goDuration(text),
}

/**
 * Anthropic: `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}`,
 * resets as RFC 3339 times.
 */
export const ANTHROPIC: PerMinuteDialect = {
  name: 'anthropic',
  fields: (['requests', 'tokens', 'input-tokens', 'output-tokens'] as const).map((unit) => ({
    unit,
    limit: `anthropic-ratelimit-${unit}-limit`,
    remaining: `anthropic-ratelimit-${unit}-remaining`,
    reset: `anthropic-ratelimit-${unit}-reset`,
  })),
  reset: timeFromNow,
}

export function parseOpenAi(headers: HeaderBag, wallNow: number): RateLimitInfo | undefined {
  return parsePerMinute(OPENAI, headers, wallNow)
}

export function parseAnthropic(headers: HeaderBag, wallNow: number): RateLimitInfo | undefined {
  return parsePerMinute(ANTHROPIC, headers, wallNow)
}

/** Shopify's bucket leaks its whole size in 20 s (40 at 2/s; Plus: 400 at 20/s). */
const SHOPIFY_DRAIN_MS = 20_000
const CALL_LIMIT = /^(\d{1,9})\/(\d{1,9})$/

/**
 * Shopify: `X-Shopify-Shop-Api-Call-Limit: 32/40`, a leaky bucket's fill and size, leaking its size
 * per 20 s (Counting 'leaky-bucket'). No sliding-window quota: one of 40 per 20 s would hold the
 * client for 20 s after each burst of 40, where the bucket frees one call per leak.
 */
export function parseShopify(headers: HeaderBag): RateLimitInfo | undefined {
  const text = headerText(headers['x-shopify-shop-api-call-limit'])
  if (text === undefined) return undefined
  const match = CALL_LIMIT.exec(text.trim())
  const used = decimal(match?.[1])
  const size = decimal(match?.[2])
  if (used === undefined || size === undefined || size < 1) return rateLimitInfo('shopify', [], [])
  const remaining = Math.max(0, size - used)
  const reset = remaining > 0 ? 0 : ((used - size + 1) * SHOPIFY_DRAIN_MS) / size
  return rateLimitInfo('shopify', [], [{ unit: 'requests', remaining, reset }], {
    kind: 'leaky-bucket',
    size,
    used,
    leakPerMs: size / SHOPIFY_DRAIN_MS,
  })
}
