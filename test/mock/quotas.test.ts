import { describe, expect, test } from 'vitest'
import { rfc3339 } from '../../src/mock/profiles/anthropic.js'
import { gitHubQuota } from '../../src/mock/profiles/github.js'
import { formatGoDuration, openAiQuota } from '../../src/mock/profiles/openai.js'
import { shopifyQuota, shopifySeconds } from '../../src/mock/profiles/shopify.js'
import { WeightedWindow } from '../../src/mock/windows.js'

// Pure quota arithmetic on explicit times: exact, and instant.
const WALL = Date.UTC(2026, 0, 1)
const ask = (now: number, extra: { cost?: { input: number; output: number }; inFlight?: number } = {}) => ({
  now,
  wallTime: WALL + now,
  cost: extra.cost,
  inFlight: extra.inFlight ?? 1,
})

describe('header value formats', () => {
  test.each([
    [0, '0s'],
    [0.2, '1ms'],
    [12, '12ms'],
    [999, '999ms'],
    [1000, '1s'],
    [1500, '1.5s'],
    [360_000, '6m0s'],
    [90_500, '1m30.5s'],
    [3_723_040, '1h2m3.04s'],
  ])('formatGoDuration(%s) is %s, as Go prints a time.Duration', (ms, text) => {
    expect(formatGoDuration(ms)).toBe(text)
  })

  test('rfc3339 writes UTC to the millisecond, rounded up', () => {
    expect(rfc3339(WALL)).toBe('2026-01-01T00:00:00Z')
    expect(rfc3339(WALL + 0.5)).toBe('2026-01-01T00:00:00.001Z')
    expect(rfc3339(WALL + 250)).toBe('2026-01-01T00:00:00.250Z')
    expect(rfc3339(WALL + 61_000)).toBe('2026-01-01T00:01:01Z')
  })

  test.each([
    [500, '0.5'],
    [1000, '1.0'],
    [1001, '1.1'],
    [20_000, '20.0'],
  ])('shopifySeconds(%s) is %s', (ms, text) => {
    expect(shopifySeconds(ms)).toBe(text)
  })
})

describe('WeightedWindow', () => {
  test('admits weights up to the limit in any window, frees each charge a full interval after it; states the refill', () => {
    const window = new WeightedWindow({ limit: 100, interval: 1000 })
    window.charge(0, 60)
    window.charge(100, 30)
    expect(window.remaining(500)).toBe(10)
    expect(window.freeIn(500, 10)).toBe(0)
    expect(window.freeIn(500, 11)).toBe(500) // the 60 at 0 leaves at 1000
    expect(window.freeIn(500, 80)).toBe(600) // and the 30 at 100 at 1100
    expect(window.freeIn(500, 101)).toBe(Number.POSITIVE_INFINITY)
    // 90 of 100 per 1000 ms used: a continuous refill would take 900 ms to make it whole.
    expect(window.resetIn(500)).toBe(900)
    expect(window.remaining(1000)).toBe(70)
    expect(window.resetIn(1100)).toBe(0)
  })

  test('settle lowers a charge while it is held, and not after it left', () => {
    const window = new WeightedWindow({ limit: 100, interval: 1000 })
    const first = window.charge(0, 80)
    window.settle(first, 50)
    expect(window.remaining(10)).toBe(50)
    window.settle(first, 70) // never raised
    expect(window.remaining(10)).toBe(50)
    expect(window.remaining(1000)).toBe(100)
    window.settle(first, 0)
    expect(window.remaining(1000)).toBe(100)
  })
})

describe('openai quota', () => {
  test('refuses the request over the token budget, admits the one that fits, and settles down', () => {
    const quota = openAiQuota({ limit: 10, interval: 60_000 }, { limit: 1000, interval: 60_000 })
    const first = quota.admit(ask(0, { cost: { input: 100, output: 500 } }))
    expect(first.admitted).toBe(true)
    expect(first.headers['x-ratelimit-remaining-tokens']).toBe('400')
    // 600 of 1,000 per minute used: refilled in 36 s.
    expect(first.headers['x-ratelimit-reset-tokens']).toBe('36s')
    expect(first.settle!({ input: 100, output: 200 }, 10, WALL + 10)['x-ratelimit-remaining-tokens']).toBe(
      '700',
    )
    const over = quota.admit(ask(20, { cost: { input: 1, output: 700 } }))
    expect(over.admitted).toBe(false)
    expect(over.headers['retry-after']).toBe('60')
    expect(quota.admit(ask(30, { cost: { input: 0, output: 700 } })).admitted).toBe(true)
  })
})

describe('github quota', () => {
  test('a fixed window: `limit` admitted, then 403 until the window of the first request ends, on a whole second', () => {
    const quota = gitHubQuota({ limit: 3, interval: 1000 }, 100)
    const used = [100, 200, 300].map((t) => quota.admit(ask(t)).headers['x-ratelimit-used'])
    expect(used).toEqual(['1', '2', '3'])
    // The window holds the first request's whole epoch second (WALL is one): it ends at 1000, as
    // x-ratelimit-reset says to the second.
    const refused = quota.admit(ask(999))
    expect(refused.admitted).toBe(false)
    expect(refused.refusal?.status).toBe(403)
    expect(refused.headers['x-ratelimit-remaining']).toBe('0')
    expect(refused.headers['x-ratelimit-reset']).toBe(String((WALL + 1000) / 1000))
    expect(refused.headers['retry-after']).toBeUndefined()
    // Not a sliding window: at 1000 the whole quota is back at once.
    const reset = quota.admit(ask(1000))
    expect(reset.admitted).toBe(true)
    expect(reset.headers['x-ratelimit-remaining']).toBe('2')
  })

  test('the secondary limit refuses past `secondary` in flight, with Retry-After, and charges nothing', () => {
    const quota = gitHubQuota({ limit: 5000, interval: 3_600_000 }, 2)
    const refused = quota.admit(ask(0, { inFlight: 3 }))
    expect(refused.admitted).toBe(false)
    expect(refused.refusal).toMatchObject({
      status: 403,
      body: { message: expect.stringContaining('secondary rate limit') },
    })
    expect(refused.headers['retry-after']).toBe('60')
    expect(quota.admit(ask(1, { inFlight: 2 })).headers['x-ratelimit-used']).toBe('1')
  })
})

describe('shopify quota', () => {
  test('a leaky bucket: a full bucket refuses, and each leaked request makes room for one', () => {
    const quota = shopifyQuota({ limit: 2, interval: 1000 }, 4)
    const levels = [0, 0, 0, 0].map((t) => quota.admit(ask(t)).headers['x-shopify-shop-api-call-limit'])
    expect(levels).toEqual(['1/4', '2/4', '3/4', '4/4'])
    const full = quota.admit(ask(0))
    expect(full.admitted).toBe(false)
    expect(full.refusal?.status).toBe(429)
    expect(full.headers).toMatchObject({ 'retry-after': '0.5', 'x-shopify-shop-api-call-limit': '4/4' })
    expect(quota.admit(ask(499)).admitted).toBe(false)
    expect(quota.admit(ask(500)).headers['x-shopify-shop-api-call-limit']).toBe('4/4')
    // Two seconds leak four: empty, then one in.
    expect(quota.admit(ask(2500)).headers['x-shopify-shop-api-call-limit']).toBe('1/4')
  })
})
