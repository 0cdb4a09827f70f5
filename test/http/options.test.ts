import { describe, expect, test } from 'vitest'
import { InvalidOptionError } from '../../src/errors.js'
import { createClient } from '../../src/http/client.js'
import { Emitter } from '../../src/http/events.js'
import { resolveClientOptions } from '../../src/http/options.js'
import { prepareRequest } from '../../src/http/spec.js'
import { createLimiter } from '../../src/limit/limiter.js'

describe('client options', () => {
  test.each<[Record<string, unknown>, RegExp]>([
    [
      { baseUrl: 'api.example.com' },
      /option `baseUrl` must be an absolute http\(s\) URL, got "api.example.com"/,
    ],
    [{ concurrency: 0 }, /option `concurrency` must be a whole number >= 1 .* got 0/],
    [{ rate: '5 per second' }, /option `rate` must be a rate such as '5\/s'.*got "5 per second"/],
    [{ rateMargin: -5 }, /option `rateMargin` must be a finite number of milliseconds >= 0, got -5/],
    [{ smooth: 'on' }, /option `smooth` must be true or false, got "on"/],
    [{ connections: 2.5 }, /option `connections` must be a whole number >= 1, got 2.5/],
    [{ http2: 'yes' }, /option `http2` must be true or false, got "yes"/],
    [{ timeout: 0 }, /option `timeout` must be a finite duration > 0 \(it is never infinite\), got 0/],
    [{ timeout: 'forever' }, /option `timeout` must be milliseconds or a duration/],
    [{ retry: -1 }, /option `retry` must be a whole number of retries >= 0, got -1/],
    [{ adaptive: 1 }, /option `adaptive` must be true or false, got 1/],
    [{ maxRetryAfter: 'soon' }, /option `maxRetryAfter` must be milliseconds or a duration/],
    [{ stopOn: [401, 'x'] }, /option `stopOn` must be an array of HTTP statuses/],
    [
      { allowOrigins: ['ftp://x'] },
      /option `allowOrigins\[0\]` must be an absolute http\(s\) URL, got "ftp:\/\/x"/,
    ],
    [{ headers: { 'bad name': 'x' } }, /option `headers`: header name "bad name" is not a valid token/],
    [
      { headers: { authorization: 'Bearer x\r\nInjected: 1' } },
      /header `authorization` must be a string or number without CR, LF or NUL/,
    ],
    // Neither would be sent: requests resolve against the base's path, and Basic auth is a header.
    [
      { baseUrl: 'https://u:pw-123456@api.example.com' },
      /option `baseUrl` must not hold a user name or password \(https:\/\/\[REDACTED\]@api\.example\.com\/\)/,
    ],
    [
      { baseUrl: 'https://api.example.com/v1?api_key=k-123456' },
      /option `baseUrl` must not hold a query \(https:\/\/api\.example\.com\/v1\?api_key=\[REDACTED\]\)/,
    ],
    [{ limiter: {} }, /option `limiter` must be a Limiter from createLimiter\(\)/],
    [{ limiter: createLimiter(), rate: '1/s' }, /give `limiter` or `rate`, not both/],
    [{ limiter: createLimiter(), smooth: true }, /give `limiter` or `smooth`, not both/],
    [{ dispatcher: { dispatch: () => true }, http2: true }, /give `dispatcher` or `http2`, not both/],
    [{ dispatcher: { dispatch: () => true }, tls: {} }, /give `dispatcher` or `tls`, not both/],
    [
      { tls: 'pem' },
      /option `tls` must be \{ ca, cert, key, rejectUnauthorized, servername \}, got a string/,
    ],
    [{ tls: { passphrase: 'x' } }, /option `tls` has an unknown field `passphrase`/],
    [
      { tls: { ca: 5 } },
      /option `tls.ca` must be a PEM string or Buffer, or a non-empty array of them, got a number/,
    ],
    [{ tls: { ca: [] } }, /option `tls.ca` must be .* got an empty array/],
    [{ tls: { cert: 'x' } }, /give `tls.cert` and `tls.key` together/],
    [
      { tls: { rejectUnauthorized: 'no' } },
      /option `tls.rejectUnauthorized` must be true or false, got "no"/,
    ],
    [{ tls: { servername: '' } }, /option `tls.servername` must be a non-empty host name, got ""/],
    [{ maxBodySize: -1 }, /option `maxBodySize` must be a whole number >= 0, got -1/],
    [{ key: '' }, /option `key` must be a non-empty string, got ""/],
    [
      { on: { progress: () => {} } },
      /`progress` must be one of request, response, retry, pause, quota, error/,
    ],
    [{ baseURL: 'http://x' }, /unknown option `baseURL`/],
  ])('%j is refused before anything is sent, naming the option and value', (options, message) => {
    expect(() => createClient(options as never)).toThrow(InvalidOptionError)
    expect(() => createClient(options as never)).toThrow(message)
  })

  test('a certificate or key is never shown in the error, a key is a secret', () => {
    for (const tls of [
      { key: 'PRIVATE-KEY', cert: 5 },
      { key: ['PRIVATE-KEY', 5], cert: 'x' },
      'PRIVATE-KEY',
    ]) {
      expect(() => createClient({ tls } as never)).toThrow(
        expect.objectContaining({ message: expect.not.stringContaining('PRIVATE-KEY') }),
      )
    }
  })

  test('a header value is never shown in the error, it may be a secret', () => {
    expect(() => createClient({ headers: { authorization: 'Bearer s3cr3t\n' } })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('s3cr3t') }),
    )
  })

  test('defaults: 30 s timeout, 3 attempts, adaptive, stopOn 401, 2 min maxRetryAfter, 50 MiB bodies', () => {
    const o = resolveClientOptions({ baseUrl: 'https://api.example.com/v1' })
    expect(o).toMatchObject({
      timeout: 30_000,
      adaptive: true,
      maxRetryAfter: 120_000,
      maxBodySize: 52_428_800,
    })
    expect(o.retry.attempts).toBe(3)
    expect([...o.stopOn]).toEqual([401])
    expect(o.base?.href).toBe('https://api.example.com/v1/')
    expect([...(o.origins ?? [])]).toEqual(['https://api.example.com'])
  })

  // API calls arrive a little unevenly even counted from the send: 20 ms covers that by default.
  // Generic tasks (createLimiter, all/stream/group) stay exact; rateMargin: 0 makes a client exact.
  test('rateMargin: 20 ms by default for a client, 0 when given, 0 for createLimiter', () => {
    expect(resolveClientOptions({ rate: '5/s' }).limits.policy.rateMargin).toBe(20)
    expect(resolveClientOptions({ rate: '5/s', rateMargin: 0 }).limits.policy.rateMargin).toBe(0)
    expect(createLimiter({ rate: '5/s' }).policy.rateMargin).toBe(0)
  })
})

describe('events', () => {
  test('a listener that throws does not break the emitter, and `has` tracks listeners', () => {
    const emitter = new Emitter()
    const seen: number[] = []
    expect(emitter.has.pause).toBe(false)
    const off = emitter.on('pause', () => {
      throw new Error('listener bug')
    })
    emitter.on('pause', (e) => seen.push(e.ms))
    expect(emitter.has.pause).toBe(true)
    emitter.emit('pause', { origin: 'http://x', ms: 5, reason: 'retry-after', status: 429 })
    expect(seen).toEqual([5])
    off()
    expect(emitter.has.pause).toBe(true)
  })
})

describe('request costs (budgets in other units than requests)', () => {
  const ctx = { base: new URL('https://api.example.com/'), origins: undefined, headers: {} }

  test('a request says its cost, or the client’s cost function does; the request’s own wins', () => {
    const cost = () => ({ tokens: 10 })
    expect(prepareRequest({ url: '/a', cost: { tokens: 900 } }, { ...ctx, cost }).cost).toEqual({
      tokens: 900,
    })
    expect(prepareRequest('/a', { ...ctx, cost }).cost).toEqual({ tokens: 10 })
    expect(prepareRequest('/a', ctx).cost).toBeUndefined()
  })

  test('a bad cost is refused, naming the field or the function', () => {
    expect(() => prepareRequest({ url: '/a', cost: { tokens: -5 } }, ctx)).toThrow(
      /`cost`.tokens must be a finite number >= 0, got -5/,
    )
    expect(() => prepareRequest('/a', { ...ctx, cost: () => ({ tokens: Number.NaN }) })).toThrow(
      /the client's `cost\(spec\)`.tokens must be a finite number >= 0, got NaN/,
    )
    expect(() => resolveClientOptions({ cost: 5 as never })).toThrow(
      /option `cost` must be a function spec => \(\{ tokens: n \}\), got 5/,
    )
  })
})
