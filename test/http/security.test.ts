import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createClient } from '../../src/http/client.js'
import { InvalidOptionError } from '../../src/errors.js'
import { InvalidRequestError } from '../../src/http/errors.js'
import { type MockServer, startMockServer } from '../../src/mock/index.js'
import { type TinyServer, tinyServer } from './helpers.js'

const TOKEN = 'tok-SECRET-123456'
const KEY = 'key-SECRET-987654'
const PARAM = 'param-SECRET-555555'

describe('stopOn', () => {
  let mock: MockServer
  beforeAll(async () => {
    mock = await startMockServer({ auth: 'the-right-token' })
  })
  afterAll(() => mock.close())

  test('a 401 stops the batch: what had not started settles as AbortErrors naming the cause', async () => {
    await using api = createClient({
      baseUrl: mock.url,
      concurrency: 4,
      headers: { authorization: `Bearer ${TOKEN}` },
    })
    const results = await api.all(Array.from({ length: 100 }, (_, i) => `/items/${i}`))
    const codes = results.map((r) => (r.ok ? 'ok' : (r.error as unknown as { code: string }).code))
    const unauthorized = codes.filter((c) => c === 'HTTP')
    // Only the first wave (the 4 in flight when the first 401 came) reached the server.
    expect(unauthorized.length).toBeGreaterThanOrEqual(1)
    expect(unauthorized.length).toBeLessThanOrEqual(4)
    expect(mock.stats().requests).toBe(unauthorized.length)
    const stopped = results.filter(
      (r) => !r.ok && (r.error as unknown as { code: string }).code === 'ABORTED',
    )
    expect(stopped).toHaveLength(100 - unauthorized.length)
    expect(stopped[0]!.ok === false && stopped[0]!.error.message).toMatch(/answered 401, which is in stopOn/)
  })

  test('with stopOn: [] a 401 is just one failed result among others', async () => {
    await using api = createClient({ baseUrl: mock.url, stopOn: [] })
    const before = mock.stats().requests
    const results = await api.all(['/items/1', '/items/2', '/items/3'], { concurrency: 1 })
    expect(results.map((r) => !r.ok && (r.error as { status?: number }).status)).toEqual([401, 401, 401])
    expect(mock.stats().requests - before).toBe(3)
  })
})

describe('where headers go', () => {
  let a: TinyServer
  let b: TinyServer
  beforeAll(async () => {
    b = await tinyServer((_req, res) => res.end('landed'))
    a = await tinyServer((req, res) => {
      if (req.url === '/away') res.writeHead(302, { location: `${b.url}/landing` }).end()
      else if (req.url === '/home') res.writeHead(307, { location: '/landing' }).end()
      else res.end('home')
    })
  })
  afterAll(async () => {
    await a.close()
    await b.close()
  })
  const headers = { authorization: `Bearer ${TOKEN}`, cookie: 'sid=1', 'x-api-key': KEY, 'x-trace': 'ok' }

  test('a redirect to another origin drops Authorization, Cookie, API keys and the client headers', async () => {
    await using api = createClient({ baseUrl: a.url, headers })
    const response = await api.get('/away')
    expect(response.text()).toBe('landed')
    expect(response.url).toBe(`${b.url}/landing`)
    const landing = b.seen.at(-1)!.headers
    expect(landing.authorization).toBeUndefined()
    expect(landing.cookie).toBeUndefined()
    expect(landing['x-api-key']).toBeUndefined()
    expect(landing['x-trace']).toBeUndefined()
    expect(a.seen.at(-1)!.headers.authorization).toBe(`Bearer ${TOKEN}`)
  })

  test('to an allowed origin the other client headers follow, credentials still do not', async () => {
    await using api = createClient({ baseUrl: a.url, headers, allowOrigins: [b.url] })
    await api.get('/away')
    const landing = b.seen.at(-1)!.headers
    expect(landing.authorization).toBeUndefined()
    expect(landing['x-trace']).toBe('ok')
  })

  test('a redirect within the origin keeps the credentials', async () => {
    await using api = createClient({ baseUrl: a.url, headers })
    expect((await api.get('/home')).text()).toBe('home')
    expect(a.seen.at(-1)).toMatchObject({ url: '/landing', headers: { authorization: `Bearer ${TOKEN}` } })
  })

  test('without a baseUrl, headers need allowOrigins: refused when no origin is named, sent only to those named', async () => {
    expect(() => createClient({ headers })).toThrow(InvalidOptionError)
    expect(() => createClient({ headers })).toThrow(
      /`headers` are sent only to the baseUrl's origin and `allowOrigins`/,
    )
    await using api = createClient({ headers, allowOrigins: [a.url] })
    await api.get(`${a.url}/x`)
    expect(a.seen.at(-1)!.headers.authorization).toBe(`Bearer ${TOKEN}`)
    const seen = b.seen.length
    await expect(api.get(`${b.url}/x`)).rejects.toThrow(InvalidRequestError)
    expect(b.seen.length).toBe(seen)
  })

  test('an absolute URL to another origin is refused before anything is sent, unless allowed', async () => {
    await using api = createClient({ baseUrl: a.url, headers })
    const seen = b.seen.length
    const error = await api.get(`${b.url}/x?token=${PARAM}`).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InvalidRequestError)
    expect((error as Error).message).toContain('neither the baseUrl')
    expect((error as Error).message).not.toContain(PARAM)
    expect(b.seen.length).toBe(seen)
    await using allowed = createClient({ baseUrl: a.url, headers, allowOrigins: [b.url] })
    await allowed.get(`${b.url}/x`)
    expect(b.seen.at(-1)!.headers.authorization).toBe(`Bearer ${TOKEN}`)
  })

  test('a URL with user:pass is refused, password hidden, rather than sent without them (they are not Basic auth)', async () => {
    await using api = createClient({ baseUrl: a.url })
    const seen = a.seen.length
    const withCredentials = a.url.replace('://', `://user:${PARAM}@`)
    const error = await api.get(`${withCredentials}/x`).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InvalidRequestError)
    expect((error as Error).message).toMatch(/holds a user name or password, which is not sent/)
    expect((error as Error).message).not.toContain(PARAM)
    expect(a.seen.length).toBe(seen)
  })
})

describe('secrets never show in errors', () => {
  let echo: TinyServer
  beforeAll(async () => {
    // A careless API that echoes the request's headers and URL in its error body.
    echo = await tinyServer((req, res) => {
      if (req.url?.startsWith('/reset')) {
        req.socket.destroy()
        return
      }
      res.writeHead(Number(req.url?.split('/')[1]?.split('?')[0] ?? 500) || 500, {
        'content-type': 'application/json',
      })
      res.end(JSON.stringify({ url: req.url, headers: req.headers }))
    })
  })
  afterAll(() => echo.close())

  test('no secret appears in any error message, string or JSON, whatever failed', async () => {
    await using api = createClient({
      baseUrl: echo.url,
      headers: { authorization: `Bearer ${TOKEN}`, 'x-api-key': KEY },
      retry: false,
      timeout: 200,
    })
    const failures = await Promise.all(
      [
        api.get('/400', { params: { token: PARAM } }),
        api.get('/429', { params: { api_key: PARAM } }),
        api.get('/503', { params: { access_token: PARAM } }),
        api.get('/reset', { params: { password: PARAM } }),
        api.get(`${echo.url}/400?signature=${PARAM}`, { headers: { cookie: `sid=${PARAM}` } }),
        api.get('/other', { params: { secret: PARAM } }),
        api.get(`http://127.0.0.1:1/?key=${PARAM}`),
      ].map((p) =>
        p.then(
          () => undefined,
          (e: unknown) => e as Error,
        ),
      ),
    )
    expect(failures.every((e) => e instanceof Error)).toBe(true)
    for (const error of failures) {
      const texts = [String(error), error!.message, error!.stack ?? '', JSON.stringify(error)]
      for (const text of texts) {
        for (const secret of [TOKEN, KEY, PARAM]) expect(text).not.toContain(secret)
      }
    }
    expect(JSON.stringify(failures[0])).toContain('[REDACTED]')
  })
})
