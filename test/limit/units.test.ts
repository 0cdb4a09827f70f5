import { describe, expect, it } from 'vitest'
import { costError, costIn } from '../../src/limit/cost.js'
import { parseConcurrency, parseDuration, parseRate, parseRates } from '../../src/limit/units.js'

describe('parseDuration', () => {
  it.each([
    [250, 250],
    ['250ms', 250],
    ['30s', 30_000],
    ['1.5s', 1500],
    ['5m', 300_000],
    ['5min', 300_000],
    ['2 minutes', 120_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['2 days', 172_800_000],
    ['40', 40],
  ])('reads %j as %d ms', (input, ms) => {
    expect(parseDuration(input, 'timeout')).toBe(ms)
  })

  it.each([[-1], [Number.NaN], [Number.POSITIVE_INFINITY], ['5 parsecs'], ['fast'], [''], [null], [{}]])(
    'rejects %j with an error naming the option',
    (input) => {
      expect(() => parseDuration(input, 'option `timeout`')).toThrow(/option `timeout`/)
    },
  )
})

describe('parseRate', () => {
  it.each([
    ['5/s', 5, 1000],
    ['600/min', 600, 60_000],
    ['600/m', 600, 60_000],
    ['1000/h', 1000, 3_600_000],
    ['10000/day', 10_000, 86_400_000],
    ['100/10s', 100, 10_000],
    ['3/250ms', 3, 250],
    [{ limit: 7, interval: '2s' }, 7, 2000],
    [{ limit: 7, interval: 500 }, 7, 500],
  ])('reads %j as %d per %d ms', (input, limit, interval) => {
    expect(parseRate(input, 'rate')).toEqual({ limit, interval })
  })

  it.each([
    ['5'],
    ['5/x'],
    ['0/s'],
    ['-1/s'],
    ['1.5/s'],
    ['x/s'],
    [{ limit: 5 }],
    [{ limit: 5, interval: 0 }],
    [42],
  ])('rejects %j, naming the option and the value', (input) => {
    expect(() => parseRate(input, 'option `rate`')).toThrow(/option `rate`/)
  })

  it('names the position of a bad rate inside an array', () => {
    expect(() => parseRates(['5/s', '5/x'], 'option `rate`')).toThrow(/option `rate`\[1\].*"5\/x"/)
  })

  it('reads no rate as an empty list', () => {
    expect(parseRates(undefined, 'rate')).toEqual([])
  })
})

describe('parseConcurrency', () => {
  it('accepts whole numbers and Infinity, and treats undefined as no cap', () => {
    expect(parseConcurrency(4, 'c')).toBe(4)
    expect(parseConcurrency(undefined, 'c')).toBe(Number.POSITIVE_INFINITY)
    expect(parseConcurrency(Number.POSITIVE_INFINITY, 'c')).toBe(Number.POSITIVE_INFINITY)
  })

  it.each([[0], [1.5], [-2], ['4']])('rejects %j', (input) => {
    expect(() => parseConcurrency(input, 'option `concurrency`')).toThrow(/option `concurrency`/)
  })
})

describe('rates and costs in other units than requests (budgets)', () => {
  it.each([
    ['30000 tokens/min', { limit: 30_000, interval: 60_000, unit: 'tokens' }],
    ['500 requests/min', { limit: 500, interval: 60_000 }],
    [
      { limit: 90_000, interval: '1m', unit: 'input-tokens' },
      { limit: 90_000, interval: 60_000, unit: 'input-tokens' },
    ],
    [
      { limit: 5, interval: 1000, unit: 'requests' },
      { limit: 5, interval: 1000 },
    ],
  ])('reads %j as %j', (value, expected) => {
    expect(parseRate(value, 'rate')).toEqual(expected)
  })

  it.each([
    ['30000 tokens per/min', /rate must allow a whole number/],
    ['30000 tok ens/min', /rate must allow a whole number/],
    [{ limit: 5, interval: 1000, unit: '' }, /rate must name its unit with a word such as 'tokens'/],
    [{ limit: 5, interval: 1000, unit: 'to kens' }, /rate must name its unit/],
    [{ limit: 5, interval: 1000, unit: 7 }, /rate must name its unit/],
  ])('refuses %j, naming the option', (value, message) => {
    expect(() => parseRate(value, 'rate')).toThrow(message)
  })

  it('says what a cost takes from each rate: a number is requests; an object names its units, requests 1 unless given', () => {
    const requests = { limit: 10, interval: 1000 }
    const tokens = { limit: 1000, interval: 1000, unit: 'tokens' }
    expect([costIn(3, requests), costIn(3, tokens)]).toEqual([3, 0])
    expect([costIn({ tokens: 400 }, requests), costIn({ tokens: 400 }, tokens)]).toEqual([1, 400])
    expect(costIn({ requests: 2, tokens: 0.5 }, requests)).toBe(2)
  })

  it.each([
    [0, /option `cost` must be a whole number >= 1, or \{ unit: amount \}, got 0/],
    ['3', /option `cost` must be a number of requests or \{ unit: amount \}/],
    [{ tokens: -1 }, /option `cost`.tokens must be a finite number >= 0, got -1/],
    [{ tokens: Number.NaN }, /option `cost`.tokens must be a finite number >= 0, got NaN/],
    [{ requests: 1.5 }, /option `cost`.requests must be a whole number >= 0, got 1.5/],
  ])('refuses the cost %j, naming the option', (cost, message) => {
    expect(costError(cost, 'option `cost`')?.message).toMatch(message)
  })
})
