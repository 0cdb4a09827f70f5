import { describe, expect, test } from 'vitest'
import { parseRateLimitHeaders } from '../../../src/http/ratelimit/index.js'
import { parseRetryAfter } from '../../../src/http/ratelimit/retry-after.js'
import { resetValue } from '../../../src/http/ratelimit/values.js'

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0)

describe('Retry-After', () => {
  test.each([
    ['120', 120_000],
    ['0', 0],
    [' 3 ', 3000],
    ['1.5', 1500],
    ['Thu, 01 Jan 2026 12:00:30 GMT', 30_000],
    ['Thu, 01 Jan 2026 11:59:00 GMT', 0],
    ['Thursday, 01-Jan-26 12:01:00 GMT', 60_000],
    ['', undefined],
    ['-5', undefined],
    ['soon', undefined],
    [undefined, undefined],
  ])('%j means %s ms from now', (value, ms) => {
    expect(parseRetryAfter(value, NOW)).toBe(ms)
  })
})

describe('RateLimit-Policy', () => {
  test.each([
    ['"default";q=100;w=60', [{ limit: 100, window: 60_000 }]],
    [
      '"a";q=20;w=1, "b";q=1000;w=3600',
      [
        { limit: 20, window: 1000 },
        { limit: 1000, window: 3_600_000 },
      ],
    ],
    ['"burst";q=5;w=0.25', [{ limit: 5, window: 250 }]],
    ['100;w=60', [{ limit: 100, window: 60_000 }]],
    [
      '10;w=1, 100;w=60',
      [
        { limit: 10, window: 1000 },
        { limit: 100, window: 60_000 },
      ],
    ],
    ['"default";q=100', []],
    ['garbage', []],
    ['"default";q=100;w=60;qu="content-bytes"', []],
    ['"default";q=100;w=60;qu="requests"', [{ limit: 100, window: 60_000 }]],
  ])('%j announces %j', (value, quotas) => {
    const info = parseRateLimitHeaders({ 'ratelimit-policy': value }, NOW)
    expect(info?.quotas).toEqual(quotas.map((quota) => ({ ...quota, unit: 'requests' })))
  })
})

describe('RateLimit', () => {
  test.each([
    ['"default";r=50;t=30', { remaining: 50, reset: 30_000 }],
    ['"a";r=5;t=1, "b";r=0;t=40', { remaining: 0, reset: 40_000 }],
    ['"a";r=3;t=1, "b";r=3;t=9', { remaining: 3, reset: 9000 }],
    ['limit=100, remaining=7, reset=12', { remaining: 7, reset: 12_000 }],
    ['limit=100;remaining=7;reset=12', { remaining: 7, reset: 12_000 }],
    ['"default";r=-1;t=3', { remaining: undefined, reset: undefined }],
  ])('%j leaves %j', (value, standing) => {
    const info = parseRateLimitHeaders({ ratelimit: value }, NOW)
    expect({ remaining: info?.remaining, reset: info?.reset }).toEqual(standing)
  })
})

describe('reset values', () => {
  test.each([
    ['30', 30_000],
    [String(NOW / 1000 + 20), 20_000],
    [String(NOW + 5000), 5000],
    [String(NOW / 1000 - 20), 0],
    ['x', undefined],
  ])('%j means %s ms from now (delta seconds, epoch seconds or epoch ms)', (value, ms) => {
    expect(resetValue(value, NOW)).toBe(ms)
  })
})

describe('all the headers together', () => {
  test('the IETF fields win over X-RateLimit-*', () => {
    const info = parseRateLimitHeaders(
      {
        'ratelimit-policy': '"default";q=20;w=1',
        ratelimit: '"default";r=4;t=1',
        'x-ratelimit-limit': '999',
        'x-ratelimit-remaining': '998',
      },
      NOW,
    )
    expect(info).toEqual({
      dialect: 'ietf',
      quotas: [{ limit: 20, window: 1000, unit: 'requests' }],
      remaining: 4,
      reset: 1000,
      standings: [{ unit: 'requests', remaining: 4, reset: 1000 }],
    })
  })

  test('X-RateLimit-* give remaining and reset; the limit teaches a quota only with a window', () => {
    const headers = {
      'x-ratelimit-limit': '60',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': String(NOW / 1000 + 42),
    }
    expect(parseRateLimitHeaders(headers, NOW)).toMatchObject({ quotas: [], remaining: 0, reset: 42_000 })
    expect(parseRateLimitHeaders({ ...headers, 'x-ratelimit-window': '60' }, NOW)?.quotas).toEqual([
      { limit: 60, window: 60_000, unit: 'requests' },
    ])
  })

  test('the RateLimit-Limit/-Remaining/-Reset trio of the early drafts is read', () => {
    expect(
      parseRateLimitHeaders(
        { 'ratelimit-limit': '10, 10;w=1', 'ratelimit-remaining': '2', 'ratelimit-reset': '1' },
        NOW,
      ),
    ).toMatchObject({ quotas: [{ limit: 10, window: 1000, unit: 'requests' }], remaining: 2, reset: 1000 })
  })

  test('a response without rate-limit headers says nothing', () => {
    expect(parseRateLimitHeaders({ 'content-type': 'application/json' }, NOW)).toBeUndefined()
  })
})
