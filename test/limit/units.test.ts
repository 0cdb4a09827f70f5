import { describe, expect, it } from 'vitest'
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
