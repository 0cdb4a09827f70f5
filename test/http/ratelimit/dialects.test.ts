import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { parseRateLimitHeaders } from '../../../src/http/ratelimit/index.js'
import { goDuration } from '../../../src/http/ratelimit/values.js'

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0)
const MINUTE = 60_000

describe('OpenAI', () => {
  // As the vendor documents them (platform.openai.com/docs/guides/rate-limits, "rate limits in headers").
  const headers = {
    'x-ratelimit-limit-requests': '60',
    'x-ratelimit-limit-tokens': '150000',
    'x-ratelimit-remaining-requests': '59',
    'x-ratelimit-remaining-tokens': '149984',
    'x-ratelimit-reset-requests': '1s',
    'x-ratelimit-reset-tokens': '6m0s',
  }

  test('requests and tokens per minute, with what is left of each and when it is whole again', () => {
    expect(parseRateLimitHeaders(headers, NOW)).toEqual({
      dialect: 'openai',
      quotas: [
        { limit: 60, window: MINUTE, unit: 'requests' },
        // 16 used, whole again in 6 min: no usual window fits that refill, so the minute is a guess.
        { limit: 150_000, window: MINUTE, unit: 'tokens', guessed: true },
      ],
      remaining: 59,
      reset: 1000,
      standings: [
        { unit: 'requests', remaining: 59, reset: 1000 },
        { unit: 'tokens', remaining: 149_984, reset: 360_000 },
      ],
    })
  })

  test('the window is read off the refill when it lands near a usual one: per day, or scaled to a second', () => {
    const perDay = parseRateLimitHeaders(
      {
        'x-ratelimit-limit-requests': '14400',
        'x-ratelimit-remaining-requests': '14370',
        'x-ratelimit-reset-requests': '2m59.56s',
      },
      NOW,
    )
    expect(perDay?.quotas).toEqual([{ limit: 14_400, window: 86_400_000, unit: 'requests' }])
    const scaled = parseRateLimitHeaders(
      {
        'x-ratelimit-limit-requests': '5',
        'x-ratelimit-remaining-requests': '3',
        'x-ratelimit-reset-requests': '400ms',
      },
      NOW,
    )
    expect(scaled?.quotas).toEqual([{ limit: 5, window: 1000, unit: 'requests' }])
  })

  test('a limit of -1 (an Azure deployment that does not say) is no quota, not "unlimited"', () => {
    const info = parseRateLimitHeaders(
      {
        'x-ratelimit-limit-tokens': '-1',
        'x-ratelimit-remaining-tokens': '-1',
        'x-ratelimit-reset-tokens': '0',
      },
      NOW,
    )
    expect(info).toMatchObject({ dialect: 'openai', quotas: [], standings: [] })
  })

  test.each([
    ['1s', 1000],
    ['6m0s', 360_000],
    ['12ms', 12],
    ['1h2m3.5s', 3_723_500],
    ['250us', 0.25],
    ['', undefined],
    ['5', undefined],
    ['-1s', undefined],
    ['1d', undefined],
    ['1s2x', undefined],
  ])('the Go duration %j is %s ms', (text, ms) => {
    expect(goDuration(text)).toBe(ms)
  })
})

describe('Anthropic', () => {
  // docs.anthropic.com, "rate limits": response headers; resets are RFC 3339 times.
  test('requests, tokens, input and output tokens per minute, resets as times', () => {
    const info = parseRateLimitHeaders(
      {
        'anthropic-ratelimit-requests-limit': '50',
        'anthropic-ratelimit-requests-remaining': '49',
        'anthropic-ratelimit-requests-reset': '2026-01-01T12:00:01Z',
        'anthropic-ratelimit-tokens-limit': '90000',
        'anthropic-ratelimit-tokens-remaining': '88000',
        'anthropic-ratelimit-tokens-reset': '2026-01-01T12:00:30Z',
        'anthropic-ratelimit-input-tokens-limit': '40000',
        'anthropic-ratelimit-input-tokens-remaining': '39000',
        'anthropic-ratelimit-input-tokens-reset': '2026-01-01T12:00:02.5+00:00',
        'anthropic-ratelimit-output-tokens-limit': '8000',
        'anthropic-ratelimit-output-tokens-remaining': '8000',
        'anthropic-ratelimit-output-tokens-reset': '2026-01-01T11:59:00Z',
        'retry-after': '1',
      },
      NOW,
    )
    expect(info).toEqual({
      dialect: 'anthropic',
      quotas: [
        { limit: 50, window: MINUTE, unit: 'requests' },
        { limit: 90_000, window: MINUTE, unit: 'tokens', guessed: true },
        { limit: 40_000, window: MINUTE, unit: 'input-tokens', guessed: true },
        // Nothing used: nothing to read the window off.
        { limit: 8000, window: MINUTE, unit: 'output-tokens', guessed: true },
      ],
      remaining: 49,
      reset: 1000,
      standings: [
        { unit: 'requests', remaining: 49, reset: 1000 },
        { unit: 'tokens', remaining: 88_000, reset: 30_000 },
        { unit: 'input-tokens', remaining: 39_000, reset: 2500 },
        // A reset in the past is now.
        { unit: 'output-tokens', remaining: 8000, reset: 0 },
      ],
    })
  })
})

describe('Shopify', () => {
  test('a leaky bucket: used of size, leaking its size per 20 s (40 at 2/s); no sliding quota', () => {
    expect(parseRateLimitHeaders({ 'x-shopify-shop-api-call-limit': '32/40' }, NOW)).toEqual({
      dialect: 'shopify',
      quotas: [],
      remaining: 8,
      reset: 0,
      standings: [{ unit: 'requests', remaining: 8, reset: 0 }],
      counting: { kind: 'leaky-bucket', size: 40, used: 32, leakPerMs: 40 / 20_000 },
    })
    expect(parseRateLimitHeaders({ 'x-shopify-shop-api-call-limit': '40/40' }, NOW)).toMatchObject({
      remaining: 0,
      reset: 500,
    })
    const malformed = parseRateLimitHeaders({ 'x-shopify-shop-api-call-limit': '32 of 40' }, NOW)
    expect(malformed).toMatchObject({ quotas: [], remaining: undefined })
    expect(malformed?.counting).toBeUndefined()
  })
})

describe('X-RateLimit-* as GitHub, Discord and X send them', () => {
  const github = {
    'x-ratelimit-limit': '5000',
    'x-ratelimit-remaining': '4999',
    'x-ratelimit-used': '1',
    'x-ratelimit-reset': String(NOW / 1000 + 3600),
    'x-ratelimit-resource': 'core',
  }

  test('GitHub: limit, remaining, used, reset in epoch seconds, resource: a fixed window, counted per resource', () => {
    // No window is said (GitHub's is an hour, fixed): no sliding quota, the client keeps the count.
    expect(parseRateLimitHeaders(github, NOW)).toEqual({
      dialect: 'x-ratelimit',
      quotas: [],
      remaining: 4999,
      reset: 3_600_000,
      standings: [{ unit: 'requests', remaining: 4999, reset: 3_600_000 }],
      counting: {
        kind: 'fixed-window',
        limit: 5000,
        used: 1,
        reset: 3_600_000,
        resource: 'core',
        epochReset: true,
      },
    })
    const search = {
      ...github,
      'x-ratelimit-limit': '30',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-resource': 'search',
    }
    expect(parseRateLimitHeaders(search, NOW)?.counting).toMatchObject({
      limit: 30,
      used: 30,
      resource: 'search',
    })
  })

  test('a resource name that is not a plain token is no resource; a window said makes a sliding quota instead', () => {
    const odd = parseRateLimitHeaders({ ...github, 'x-ratelimit-resource': 'core, search' }, NOW)
    expect(odd?.counting).toMatchObject({ kind: 'fixed-window', resource: '' })
    const windowed = parseRateLimitHeaders({ ...github, 'x-ratelimit-window': '60' }, NOW)
    expect(windowed?.quotas).toEqual([{ limit: 5000, window: 60_000, unit: 'requests' }])
    expect(windowed?.counting).toBeUndefined()
    const noReset = parseRateLimitHeaders({ ...github, 'x-ratelimit-reset': 'soon' }, NOW)
    expect(noReset?.counting).toBeUndefined()
  })

  test('Discord: Reset-After (seconds with decimals) is preferred to Reset, which needs the clocks to agree', () => {
    const info = parseRateLimitHeaders(
      {
        'x-ratelimit-limit': '5',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': String(NOW / 1000 + 99.5),
        'x-ratelimit-reset-after': '1.25',
        'x-ratelimit-bucket': 'abcd1234',
      },
      NOW,
    )
    expect(info).toMatchObject({ remaining: 0, reset: 1250 })
    // A delay: no clock agreement needed.
    expect(info?.counting).toEqual({
      kind: 'fixed-window',
      limit: 5,
      used: 5,
      reset: 1250,
      resource: 'abcd1234',
      epochReset: false,
    })
  })

  test('X: x-rate-limit-limit, -remaining, -reset (epoch seconds)', () => {
    const info = parseRateLimitHeaders(
      {
        'x-rate-limit-limit': '900',
        'x-rate-limit-remaining': '847',
        'x-rate-limit-reset': String(NOW / 1000 + 600),
      },
      NOW,
    )
    expect(info).toMatchObject({ dialect: 'x-ratelimit', remaining: 847, reset: 600_000 })
  })
})

describe('hostile and malformed values', () => {
  const NAMES = [
    'ratelimit',
    'ratelimit-policy',
    'ratelimit-limit',
    'ratelimit-remaining',
    'ratelimit-reset',
    'x-ratelimit-limit',
    'x-ratelimit-remaining',
    'x-ratelimit-reset',
    'x-ratelimit-reset-after',
    'x-ratelimit-window',
    'x-ratelimit-resource',
    'x-rate-limit-remaining',
    'x-ratelimit-limit-requests',
    'x-ratelimit-remaining-tokens',
    'x-ratelimit-reset-tokens',
    'anthropic-ratelimit-tokens-limit',
    'anthropic-ratelimit-requests-reset',
    'x-shopify-shop-api-call-limit',
    'retry-after',
  ]
  const hostile = fc.oneof(
    fc.string(),
    fc.string({ unit: 'grapheme' }),
    fc.constantFrom(
      'NaN',
      'Infinity',
      '-1',
      '1e309',
      '9'.repeat(400),
      '0x10',
      '１２',
      '٣',
      '"',
      ';;;',
      '=,=',
    ),
    fc
      .integer({ min: 1, max: 10_000 })
      .map((n) => Array.from({ length: n }, (_, i) => `"p${i}";q=${i};w=1`).join(', ')),
    fc.double().map(String),
  )

  test('change nothing and throw nothing: every limit found is a whole count >= 1 with a window > 0', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...NAMES), hostile), (headers) => {
        const info = parseRateLimitHeaders(headers, NOW)
        for (const quota of info?.quotas ?? []) {
          expect(Number.isSafeInteger(quota.limit) && quota.limit >= 1).toBe(true)
          expect(Number.isFinite(quota.window) && quota.window > 0).toBe(true)
        }
        for (const standing of info?.standings ?? []) {
          expect(Number.isFinite(standing.remaining) && standing.remaining >= 0).toBe(true)
          if (standing.reset !== undefined)
            expect(Number.isFinite(standing.reset) && standing.reset >= 0).toBe(true)
        }
        const counting = info?.counting
        if (counting?.kind === 'fixed-window') {
          expect(Number.isSafeInteger(counting.limit) && counting.limit >= 1).toBe(true)
          expect(Number.isFinite(counting.used) && counting.used >= 0).toBe(true)
          expect(Number.isFinite(counting.reset) && counting.reset >= 0).toBe(true)
        } else if (counting?.kind === 'leaky-bucket') {
          expect(counting.size >= 1 && counting.used >= 0 && counting.leakPerMs > 0).toBe(true)
        }
      }),
      { numRuns: 500 },
    )
  })

  test('of 10,000 policies the first 16 are kept: a handful is real, thousands would slow every request', () => {
    const policy = Array.from({ length: 10_000 }, (_, i) => `"p${i}";q=${i + 1};w=60`).join(', ')
    const quotas = parseRateLimitHeaders({ 'ratelimit-policy': policy }, NOW)?.quotas
    expect(quotas).toHaveLength(16)
    expect(quotas?.[15]).toEqual({ limit: 16, window: 60_000, unit: 'requests' })
  })
})
