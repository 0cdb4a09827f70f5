import type { ResolvedRate } from '../../limit/units.js'
import { ServerRateLimit } from '../rate-limit.js'
import { anthropicQuota } from './anthropic.js'
import { gitHubQuota } from './github.js'
import { openAiQuota } from './openai.js'
import type { ResolvedProfile } from './options.js'
import type { Quota } from './quota.js'
import { shopifyQuota } from './shopify.js'

/** The server's quota for a profile; undefined for the ietf profile without a `rate` (no limit). */
export function createQuota(profile: ResolvedProfile, rates: readonly ResolvedRate[]): Quota | undefined {
  switch (profile.name) {
    case 'ietf':
      return rates.length > 0 ? ietfQuota(rates) : undefined
    case 'openai':
      return openAiQuota(profile.requests, profile.tokens)
    case 'anthropic':
      return anthropicQuota(profile)
    case 'github':
      return gitHubQuota(profile.requests, profile.secondary)
    case 'shopify':
      return shopifyQuota(profile.requests, profile.bucket)
  }
}

/** The mock's own dialect (RateLimit-Policy, RateLimit, X-RateLimit-*): see ServerRateLimit. */
function ietfQuota(rates: readonly ResolvedRate[]): Quota {
  const limit = new ServerRateLimit(rates)
  return {
    admit({ now, wallTime }) {
      const verdict = limit.admit(now, wallTime)
      if (verdict.admitted) return verdict
      return { ...verdict, refusal: { status: 429, body: { error: 'rate limit exceeded' } } }
    },
  }
}
