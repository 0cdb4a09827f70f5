import { describe, expect, test } from 'vitest'
import {
  parsePolicies,
  parseRateLimitField,
  parseRateLimitHeaders,
  parseResetValue,
  parseRetryAfter,
} from '../../src/http/ratelimit-headers.js'

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
  ])('%j announces %j', (value, quotas) => {
    expect(parsePolicies(value)).toEqual(quotas)
  })
})

describe('RateLimit', () => {
  test.each([
    ['"default";r=50;t=30', { remaining: 50, reset: 30_000 }],
    ['"a";r=5;t=1, "b";r=0;t=40', { remaining: 0, reset: 40_000 }],
    ['"a";r=3;t=1, "b";r=3;t=9', { remaining: 3, reset: 9000 }],
    ['limit=100, remaining=7, reset=12', { remaining: 7, reset: 12_000 }],
    ['limit=100;remaining=7;reset=12', { remaining: 7, reset: 12_000 }],
  ])('%j leaves %j', (value, standing) => {
    expect(parseRateLimitField(value)).toEqual(standing)
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
    expect(parseResetValue(value, NOW)).toBe(ms)
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
    expect(info).toEqual({ quotas: [{ limit: 20, window: 1000 }], remaining: 4, reset: 1000 })
  })

  test('X-RateLimit-* give remaining and reset; the limit teaches a quota only with a window', () => {
    const headers = {
      'x-ratelimit-limit': '60',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': String(NOW / 1000 + 42),
    }
    expect(parseRateLimitHeaders(headers, NOW)).toEqual({ quotas: [], remaining: 0, reset: 42_000 })
    expect(parseRateLimitHeaders({ ...headers, 'x-ratelimit-window': '60' }, NOW)?.quotas).toEqual([
      { limit: 60, window: 60_000 },
    ])
  })

  test('the RateLimit-Limit/-Remaining/-Reset trio of the early drafts is read', () => {
    expect(
      parseRateLimitHeaders(
        { 'ratelimit-limit': '10, 10;w=1', 'ratelimit-remaining': '2', 'ratelimit-reset': '1' },
        NOW,
      ),
    ).toEqual({ quotas: [{ limit: 10, window: 1000 }], remaining: 2, reset: 1000 })
  })

  test('a response without rate-limit headers says nothing', () => {
    expect(parseRateLimitHeaders({ 'content-type': 'application/json' }, NOW)).toBeUndefined()
  })
})
