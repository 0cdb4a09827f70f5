import { describe, expect, test } from 'vitest'
import { isVolleyError } from '../../src/errors.js'
import { createChoices } from '../../src/mock/choices.js'
import { type MockServerOptions, startMockServer } from '../../src/mock/index.js'
import { resolveMockOptions } from '../../src/mock/options.js'

describe('mock options', () => {
  test('defaults to loopback, port 0, no limits, the default batch size and job duration', () => {
    const resolved = resolveMockOptions(undefined)
    expect(resolved).toMatchObject({
      port: 0,
      host: '127.0.0.1',
      rates: [],
      maxInFlight: Number.POSITIVE_INFINITY,
      latency: { min: 0, max: 0 },
      batchMax: 100,
      jobDuration: 1000,
      statsWindow: 1000,
    })
    expect(resolved.faults.size).toBe(0)
  })

  test('the stats window defaults to the first rate interval', () => {
    expect(resolveMockOptions({ rate: ['5/2s', '100/min'] }).statsWindow).toBe(2000)
    expect(resolveMockOptions({ rate: '5/2s', statsWindow: '250ms' }).statsWindow).toBe(250)
  })

  test.each<[MockServerOptions, RegExp]>([
    [{ rate: 'fast' }, /option `rate`.*"fast"/],
    [{ port: 70_000 }, /option `port`.*70000/],
    [{ maxInFlight: 0 }, /option `maxInFlight`.*0/],
    [{ latency: { min: 50, max: 10 } }, /option `latency`.*min <= max/],
    [{ latency: 'soon' }, /option `latency`.*"soon"/],
    [{ faults: { '500': 1.5 } }, /option `faults.500`.*1.5/],
    [{ faults: { teapot: 0.1 } as never }, /option `faults`.*"teapot"/],
    [{ faults: { '500': 0.6, reset: 0.6 } }, /option `faults`.*add up to at most 1/],
    [{ seed: 1.5 }, /option `seed`.*1.5/],
    [{ batchMax: -1 }, /option `batchMax`.*-1/],
    [{ jobDuration: 'later' }, /option `jobDuration`.*"later"/],
    [{ statsWindow: 0 }, /option `statsWindow`.*0/],
    [{ latancy: 5 } as never, /unknown option `latancy`/],
  ])('rejects %j with an error naming the option and value', async (options, message) => {
    const error = await startMockServer(options).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(isVolleyError(error) && error.code).toBe('INVALID_OPTION')
    expect((error as Error).message).toMatch(message)
  })

  test('a bad auth token is refused without being repeated in the message', () => {
    expect(() => resolveMockOptions({ auth: 'secret value' })).toThrow(/option `auth`/)
    expect(() => resolveMockOptions({ auth: 'secret value' })).not.toThrow(/secret/)
  })
})

describe('seeded choices', () => {
  const faults = new Map([
    ['500', 0.2],
    ['reset', 0.1],
  ] as const)

  test('the same seed gives the same faults and latencies, another seed different ones', () => {
    const draw = (seed: number) => {
      const choices = createChoices(faults, { min: 10, max: 50 }, seed)
      return Array.from({ length: 200 }, () => [choices.fault(), choices.latency()])
    }
    expect(draw(7)).toEqual(draw(7))
    expect(draw(7)).not.toEqual(draw(8))
  })

  test('faults come at about their probabilities and latency stays within its bounds', () => {
    const choices = createChoices(faults, { min: 10, max: 50 }, 3)
    const counts = new Map<string | undefined, number>()
    let shortest = Number.POSITIVE_INFINITY
    let longest = 0
    for (let i = 0; i < 10_000; i++) {
      const fault = choices.fault()
      counts.set(fault, (counts.get(fault) ?? 0) + 1)
      const ms = choices.latency()
      shortest = Math.min(shortest, ms)
      longest = Math.max(longest, ms)
    }
    expect(shortest).toBeGreaterThanOrEqual(10)
    expect(longest).toBeLessThanOrEqual(50)
    expect(longest - shortest).toBeGreaterThan(35)
    expect(counts.get('500')).toBeGreaterThan(1800)
    expect(counts.get('500')).toBeLessThan(2200)
    expect(counts.get('reset')).toBeGreaterThan(850)
    expect(counts.get('reset')).toBeLessThan(1150)
  })
})
