import type { ResolvedRate } from '../../limit/units.js'
import { type BudgetRefusal, type BudgetView, budgetQuota, type Quota, requestBudget } from './quota.js'

export interface AnthropicLimits {
  readonly requests: ResolvedRate
  readonly tokens: ResolvedRate
  readonly inputTokens: ResolvedRate
  readonly outputTokens: ResolvedRate
}

/**
 * Anthropic's dialect (docs.anthropic.com/en/api/rate-limits, "Response headers"): every response
 * carries anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset},
 * resets as RFC 3339 times when the budget is whole again. Over any budget: 429 with retry-after
 * (seconds) and Anthropic's error body. Output tokens are charged max_tokens up front and settled to
 * the tokens drawn when the response is made, as Anthropic documents for its output-token limit.
 */
export function anthropicQuota(limits: AnthropicLimits): Quota {
  return budgetQuota(
    [
      requestBudget(limits.requests),
      { key: 'tokens', rate: limits.tokens, weigh: (cost) => cost.input + cost.output },
      { key: 'input-tokens', rate: limits.inputTokens, weigh: (cost) => cost.input },
      { key: 'output-tokens', rate: limits.outputTokens, weigh: (cost) => cost.output },
    ],
    anthropicHeaders,
    anthropicRefusal,
  )
}

function anthropicHeaders(views: readonly BudgetView[], wallTime: number): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const { key, limit, remaining, resetIn } of views) {
    headers[`anthropic-ratelimit-${key}-limit`] = String(limit)
    headers[`anthropic-ratelimit-${key}-remaining`] = String(remaining)
    headers[`anthropic-ratelimit-${key}-reset`] = rfc3339(wallTime + resetIn)
  }
  return headers
}

function anthropicRefusal({ key, limit, requested, freeIn }: BudgetRefusal) {
  const what = `${limit} ${key.replace('-', ' ')} per window (requested ${requested})`
  const message = Number.isFinite(freeIn)
    ? `This request would exceed your organization's rate limit of ${what}. Please retry after the time in the retry-after header.`
    : `This request is larger than your organization's rate limit of ${what}: reduce the prompt or max_tokens.`
  return { status: 429, body: { type: 'error', error: { type: 'rate_limit_error', message } } }
}

/**
 * A Unix ms time as RFC 3339 in UTC, to the millisecond rounded up ("2026-01-01T00:00:05Z",
 * "2026-01-01T00:00:05.250Z"): whole seconds would hide a scaled-down window's refill.
 */
export function rfc3339(unixMs: number): string {
  return new Date(Math.ceil(unixMs)).toISOString().replace('.000Z', 'Z')
}
