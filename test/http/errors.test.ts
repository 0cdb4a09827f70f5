import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { isVolleyError } from '../../src/errors.js'
import { createClient } from '../../src/http/client.js'
import {
  BodyTooLargeError,
  HttpError,
  InvalidRequestError,
  NetworkError,
  RateLimitError,
  TimeoutError,
} from '../../src/http/errors.js'
import { type MockServer, startMockServer } from '../../src/mock/index.js'
import { tinyServer } from './helpers.js'

let mock: MockServer
beforeAll(async () => {
  mock = await startMockServer({ seed: 2 })
})
afterAll(() => mock.close())

const fault = (kind: string) => ({ 'x-mock-fault': kind })

describe('each failure has its typed error and code', () => {
  test('an error status is an HttpError (HTTP) with status, body excerpt, method, URL, attempts and ms', async () => {
    await using api = createClient({
      baseUrl: mock.url,
      retry: { attempts: 3, backoff: { base: 1, max: 2 } },
    })
    const error = await api.get('/status/503').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(HttpError)
    expect(error).toMatchObject({
      code: 'HTTP',
      status: 503,
      method: 'GET',
      url: `${mock.url}/status/503`,
      attempts: 3,
    })
    expect((error as HttpError).body).toContain('503')
    expect((error as HttpError).ms).toBeGreaterThanOrEqual(0)
    expect((error as Error).message).toMatch(
      /^GET http:\/\/127\.0\.0\.1:\d+\/status\/503 answered 503 .*after 3 attempts/,
    )
    expect(isVolleyError(error)).toBe(true)
    const notRetried = await api.get('/status/404').catch((e: unknown) => e)
    expect(notRetried).toMatchObject({ code: 'HTTP', status: 404, attempts: 1 })
  })

  test('a 429 that retries do not get past is a RateLimitError (RATE_LIMITED) with retryAfter', async () => {
    await using api = createClient({ baseUrl: mock.url, retry: false })
    const error = await api.get('/json', { headers: fault('429') }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RateLimitError)
    expect(error).toBeInstanceOf(HttpError)
    expect(error).toMatchObject({ code: 'RATE_LIMITED', status: 429, retryAfter: 1000, attempts: 1 })
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({
      code: 'RATE_LIMITED',
      status: 429,
      retryAfter: 1000,
    })
  })

  test('an attempt past its timeout is a TimeoutError (TIMEOUT), and the server sees the request abandoned', async () => {
    await using api = createClient({ baseUrl: mock.url, timeout: 100, retry: false })
    const error = await api.get('/delay/5000').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TimeoutError)
    expect(error).toMatchObject({ code: 'TIMEOUT', timeout: 100, attempts: 1 })
  })

  test('a reset connection is a NetworkError (NETWORK) with the socket error as cause', async () => {
    await using api = createClient({ baseUrl: mock.url, retry: false })
    const error = await api.get('/json', { headers: fault('reset') }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NetworkError)
    expect(error).toMatchObject({ code: 'NETWORK', attempts: 1 })
    expect((error as Error).cause).toBeInstanceOf(Error)
    expect(JSON.parse(JSON.stringify(error)).cause.name).toBeTypeOf('string')
  })

  test('a refused connection is a NetworkError, retried like a reset', async () => {
    const gone = await tinyServer((_req, res) => res.end())
    await gone.close()
    await using api = createClient({
      baseUrl: gone.url,
      retry: { attempts: 2, backoff: { base: 1, max: 1 } },
    })
    const error = await api.get('/x').catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'NETWORK', attempts: 2 })
    expect(((error as Error).cause as { code: string }).code).toBe('ECONNREFUSED')
  })

  test('aborting the signal is an AbortError (ABORTED) that still names the request', async () => {
    await using api = createClient({ baseUrl: mock.url })
    const controller = new AbortController()
    const pending = api.get('/delay/5000', { signal: controller.signal })
    setTimeout(() => controller.abort(new Error('user gave up')), 30)
    const error = await pending.catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ABORTED', method: 'GET', url: `${mock.url}/delay/5000` })
    expect((error as Error).message).toContain('user gave up')
  })

  test('a bad spec is an InvalidRequestError (INVALID_REQUEST) naming the field, and nothing is sent', async () => {
    await using api = createClient({ baseUrl: mock.url })
    const before = mock.stats().requests
    const cases: [unknown, string, RegExp][] = [
      [{ url: '/a', method: 'GE T' }, 'method', /`method` must be an HTTP method name .* got "GE T"/],
      [{ url: '/a', json: {}, body: 'x' }, 'body', /give `json` or `body`, not both/],
      [
        { url: '/a', params: { q: { deep: 1 } } },
        'params.q',
        /`params.q` must be a string, number or boolean/,
      ],
      [{ url: '/a', headers: { 'x-a': 'line\r\nbreak' } }, 'headers.x-a', /without CR, LF or NUL/],
      [{ url: '/a', verb: 'GET' }, 'verb', /unknown field `verb`/],
      [{ method: 'GET' }, 'url', /has no `url`/],
      [42, 'spec', /must be a URL string, a \[url, params\] tuple or an object/],
      ['ftp://x/y', 'url', /must be an http: or https: URL/],
      [{ url: '/a', method: 'GET', json: 1 }, 'body', /GET request cannot have a body/],
    ]
    for (const [spec, field, message] of cases) {
      const error = await api.request(spec as never).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(InvalidRequestError)
      expect(error).toMatchObject({ code: 'INVALID_REQUEST', field })
      expect((error as Error).message).toMatch(message)
    }
    const results = await api.all([{ url: '/json' }, { url: '/json', method: 7 } as never])
    expect(results[0]!.ok).toBe(true)
    expect(results[1]).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST', field: 'method' } })
    expect(mock.stats().requests - before).toBe(1)
  })

  test('a body past maxBodySize fails with BODY_TOO_LARGE and is not retried', async () => {
    await using api = createClient({ baseUrl: mock.url, maxBodySize: 10 })
    const error = await api.get('/json').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(BodyTooLargeError)
    expect(error).toMatchObject({ code: 'BODY_TOO_LARGE', limit: 10, attempts: 1 })
  })
})

describe('what an error keeps', () => {
  test('an HttpError keeps the response headers without their secrets (a logged error must not leak a session)', async () => {
    const server = await tinyServer((_req, res) => {
      res.writeHead(500, { 'set-cookie': 'session=abc123secret', 'x-request-id': 'r-1' })
      res.end('boom')
    })
    try {
      await using api = createClient({ baseUrl: server.url, retry: false })
      const error = (await api.get('/x').catch((e: unknown) => e)) as HttpError
      expect(error.headers['x-request-id']).toBe('r-1')
      expect(error.headers['set-cookie']).toBe('[REDACTED]')
      expect(JSON.stringify(error.headers)).not.toContain('abc123secret')
    } finally {
      await server.close()
    }
  })
})
