import { generateKeyPairSync } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import { isVolleyError } from '../../src/errors.js'
import { createChoices } from '../../src/mock/choices.js'
import { type MockServerOptions, startMockServer } from '../../src/mock/index.js'
import { resolveMockOptions } from '../../src/mock/options.js'
import { testTls } from '../fixtures/tls.js'

async function expectRefusal(options: MockServerOptions, message: RegExp): Promise<void> {
  const error = await startMockServer(options).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(isVolleyError(error) && error.code).toBe('INVALID_OPTION')
  expect((error as Error).message).toMatch(message)
}

function catchError(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  return undefined
}

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
      connectDelay: 0,
      recordArrivals: false,
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
    [{ connectDelay: -5 }, /option `connectDelay` must be .* >= 0, got -5/],
    [{ connectDelay: 'abc' }, /option `connectDelay` must be milliseconds or a duration .*"abc"/],
    [{ recordArrivals: 'yes' as never }, /option `recordArrivals` must be true or false, got "yes"/],
    [{ latancy: 5 } as never, /unknown option `latancy`/],
  ])('rejects %j with an error naming the option and value', async (options, message) => {
    await expectRefusal(options, message)
  })

  test.each<[string, MockServerOptions, RegExp]>([
    ['http2 without tls', { http2: true }, /option `http2` needs `tls`: clients negotiate HTTP\/2 by ALPN/],
    [
      'http2 not a boolean',
      { tls: testTls, http2: 'yes' as never },
      /option `http2` must be true or false, got "yes"/,
    ],
    [
      'tls without a key',
      { tls: { cert: testTls.cert } as never },
      /option `tls.key` must be a non-empty PEM/,
    ],
    [
      'tls with a ca',
      { tls: { ...testTls, ca: testTls.cert } as never },
      /option `tls` must be \{ key, cert \}.*got a field `ca`/,
    ],
    [
      'tls with a bad certificate',
      { tls: { key: testTls.key, cert: 'junk' } },
      /option `tls` is not a usable key and certificate pair/,
    ],
  ])('rejects %s, naming the option', async (_, options, message) => {
    await expectRefusal(options, message)
  })

  test('a key that does not match its certificate is refused, and no key material is ever shown', () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }) as string
    const attempts: unknown[] = [
      { key: other, cert: testTls.cert },
      testTls.key,
      { key: testTls.key, cert: testTls.cert, passphrase: 'x' },
    ]
    for (const tls of attempts) {
      const error = catchError(() => resolveMockOptions({ tls: tls as never }))
      expect(isVolleyError(error) && error.code).toBe('INVALID_OPTION')
      expect((error as Error).message).toMatch(/option `tls`/)
      expect((error as Error).message).not.toMatch(/PRIVATE KEY|BEGIN/)
    }
    expect(
      (catchError(() => resolveMockOptions({ tls: { key: other, cert: testTls.cert } })) as Error).message,
    ).toMatch(/not a usable key and certificate pair/)
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
