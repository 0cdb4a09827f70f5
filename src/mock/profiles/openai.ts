import type { ResolvedRate } from '../../limit/units.js'
import { type BudgetRefusal, type BudgetView, budgetQuota, type Quota, requestBudget } from './quota.js'

/**
 * OpenAI's dialect (platform.openai.com/docs/guides/rate-limits, "Rate limits in headers"): every
 * response carries x-ratelimit-{limit,remaining,reset}-{requests,tokens}, resets as Go durations
 * ("1s", "6m0s", "12ms"): the time until that budget is whole again. Over either budget: 429 with
 * retry-after (seconds) and OpenAI's error body.
 */
export function openAiQuota(requests: ResolvedRate, tokens: ResolvedRate): Quota {
  return budgetQuota(
    [requestBudget(requests), { key: 'tokens', rate: tokens, weigh: (cost) => cost.input + cost.output }],
    openAiHeaders,
    openAiRefusal,
  )
}

function openAiHeaders(views: readonly BudgetView[]): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const { key, limit, remaining, resetIn } of views) {
    headers[`x-ratelimit-limit-${key}`] = String(limit)
    headers[`x-ratelimit-remaining-${key}`] = String(remaining)
    headers[`x-ratelimit-reset-${key}`] = formatGoDuration(resetIn)
  }
  return headers
}

function openAiRefusal({ key, limit, requested, freeIn }: BudgetRefusal) {
  const unit = key === 'tokens' ? 'tokens per min (TPM)' : 'requests per min (RPM)'
  const message = Number.isFinite(freeIn)
    ? `Rate limit reached for ${unit}: Limit ${limit}, Requested ${requested}. Please try again in ${formatGoDuration(freeIn)}.`
    : `Request too large for ${unit}: Limit ${limit}, Requested ${requested}. The input or output tokens must be reduced in order to run successfully.`
  return { status: 429, body: { error: { message, type: key, param: null, code: 'rate_limit_exceeded' } } }
}

/**
 * A duration as Go's time.Duration prints it, to the millisecond: "0s", "12ms", "1s", "1.5s",
 * "6m0s", "1h2m3.04s". Rounded up, so a client that waits this long finds the budget whole.
 */
export function formatGoDuration(ms: number): string {
  const whole = Math.ceil(ms)
  if (whole <= 0) return '0s'
  if (whole < 1000) return `${whole}ms`
  const hours = Math.floor(whole / 3_600_000)
  const minutes = Math.floor((whole % 3_600_000) / 60_000)
  const seconds = String((whole % 60_000) / 1000)
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`
  if (minutes > 0) return `${minutes}m${seconds}s`
  return `${seconds}s`
}
