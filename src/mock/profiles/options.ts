import { describeValue, InvalidOptionError } from '../../errors.js'
import { parseConcurrency, parseRate, type Rate, type ResolvedRate } from '../../limit/units.js'

/** The rate-limit dialects the mock speaks. */
export type ProfileName = 'ietf' | 'openai' | 'anthropic' | 'github' | 'shopify'

export const PROFILE_NAMES: readonly ProfileName[] = ['ietf', 'openai', 'anthropic', 'github', 'shopify']

/**
 * Which real API's rate limits the mock imitates, and its limits: a name for the defaults, or an
 * object with the name and the limits to change. Each profile's `requests` is the request quota it
 * sustains (a sliding window, GitHub's fixed window, or the rate Shopify's bucket leaks at).
 */
export type MockProfile =
  | ProfileName
  | { name: 'ietf' }
  | {
      name: 'openai'
      /** Sliding window. @default '500/min' */
      requests?: Rate
      /** Sliding window of tokens: max_tokens + ceil(prompt characters / 4) per request. @default '30000/min' */
      tokens?: Rate
    }
  | {
      name: 'anthropic'
      /** Sliding window. @default '50/min' */
      requests?: Rate
      /** Sliding window of input + output tokens (prompt estimate + max_tokens). @default '40000/min' */
      tokens?: Rate
      /** Sliding window of input tokens (ceil(prompt characters / 4)). @default the `tokens` rate */
      inputTokens?: Rate
      /** Sliding window of output tokens (max_tokens, settled to the tokens drawn). @default the `tokens` rate */
      outputTokens?: Rate
    }
  | {
      name: 'github'
      /** Fixed window: `limit` requests, then 403 until the window ends. @default '5000/h' */
      requests?: Rate
      /** Secondary limit: most requests in flight; one more is answered 403 with Retry-After. @default 100 */
      secondary?: number
    }
  | {
      name: 'shopify'
      /** How fast the bucket leaks: '2/s' is 2 requests a second. @default '2/s' */
      requests?: Rate
      /** Bucket size: the burst a full-speed client gets before 429s. @default 40 */
      bucket?: number
    }

/** A profile validated and filled in. */
export type ResolvedProfile =
  | { readonly name: 'ietf' }
  | { readonly name: 'openai'; readonly requests: ResolvedRate; readonly tokens: ResolvedRate }
  | {
      readonly name: 'anthropic'
      readonly requests: ResolvedRate
      readonly tokens: ResolvedRate
      readonly inputTokens: ResolvedRate
      readonly outputTokens: ResolvedRate
    }
  | { readonly name: 'github'; readonly requests: ResolvedRate; readonly secondary: number }
  | { readonly name: 'shopify'; readonly requests: ResolvedRate; readonly bucket: number }

/** Every profile's own fields besides `name`, to refuse a typo rather than ignore it. */
const FIELDS: Record<ProfileName, readonly string[]> = {
  ietf: [],
  openai: ['requests', 'tokens'],
  anthropic: ['requests', 'tokens', 'inputTokens', 'outputTokens'],
  github: ['requests', 'secondary'],
  shopify: ['requests', 'bucket'],
}

const OPTION = 'startMockServer: option `profile`'

/** Validates the `profile` option; `hasRate` says whether the (IETF-only) `rate` option was given too. */
export function resolveProfile(profile: unknown, hasRate: boolean): ResolvedProfile {
  const fields = typeof profile === 'string' ? { name: profile } : profile
  if (fields === undefined) return { name: 'ietf' }
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
    throw new InvalidOptionError(
      `${OPTION} must be a profile name (${PROFILE_NAMES.join(', ')}) or { name, ...limits }, got ${describeValue(profile)}`,
    )
  }
  const given = fields as Record<string, unknown>
  const name = given.name
  if (typeof name !== 'string' || !(PROFILE_NAMES as readonly string[]).includes(name)) {
    throw new InvalidOptionError(
      `${OPTION} has an unknown profile name ${describeValue(name)} (known: ${PROFILE_NAMES.join(', ')})`,
    )
  }
  const known = FIELDS[name as ProfileName]
  const unknown = Object.keys(given).find((key) => key !== 'name' && !known.includes(key))
  if (unknown !== undefined) {
    throw new InvalidOptionError(
      `${OPTION} has an unknown field \`${unknown}\` for ${name} (known: ${known.length > 0 ? known.join(', ') : 'none'})`,
    )
  }
  if (hasRate && name !== 'ietf') {
    throw new InvalidOptionError(
      `startMockServer: option \`rate\` is the ietf profile's quota; with profile ${describeValue(name)} give its limits in the profile, e.g. { name: '${name}', requests: '5/s' }`,
    )
  }
  const rate = (field: string, fallback: Rate | ResolvedRate) =>
    parseRate(given[field] ?? fallback, `${OPTION}.${field}`)
  switch (name as ProfileName) {
    case 'ietf':
      return { name: 'ietf' }
    case 'openai':
      return { name: 'openai', requests: rate('requests', '500/min'), tokens: rate('tokens', '30000/min') }
    case 'anthropic': {
      const tokens = rate('tokens', '40000/min')
      return {
        name: 'anthropic',
        requests: rate('requests', '50/min'),
        tokens,
        inputTokens: rate('inputTokens', tokens),
        outputTokens: rate('outputTokens', tokens),
      }
    }
    case 'github':
      return {
        name: 'github',
        requests: rate('requests', '5000/h'),
        secondary: parseConcurrency(given.secondary ?? 100, `${OPTION}.secondary`),
      }
    case 'shopify':
      return {
        name: 'shopify',
        requests: rate('requests', '2/s'),
        bucket: wholeNumber(given.bucket ?? 40, `${OPTION}.bucket`),
      }
  }
}

function wholeNumber(value: unknown, option: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 1) return value
  throw new InvalidOptionError(`${option} must be a whole number >= 1, got ${describeValue(value)}`)
}

/** The interval the profile's request quota is counted over (the default stats window); none for ietf. */
export function profileInterval(profile: ResolvedProfile): number | undefined {
  return profile.name === 'ietf' ? undefined : profile.requests.interval
}
