import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createClient } from '../../../src/http/client.js'
import type { ClientError } from '../../../src/http/errors.js'
import type { Layer } from '../../../src/http/pipeline.js'
import { createLimiter } from '../../../src/limit/limiter.js'
import { type TinyServer, tinyServer } from '../helpers.js'

// A server whose token expires: it accepts only the newest token it handed out.
let server: TinyServer
let currentToken = 'token-1'
beforeAll(async () => {
  server = await tinyServer((req, res) => {
    if (req.url === '/flaky' && server.seen.filter((s) => s.url === '/flaky').length === 1) {
      res.writeHead(503).end()
      return
    }
    const ok = req.headers.authorization === `Bearer ${currentToken}`
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end(JSON.stringify({ ok }))
  })
})
afterAll(() => server.close())

/** The docs' example: on a 401, refresh the token once and send the request again. */
function refreshOn401(refresh: () => Promise<string>): Layer {
  return (next) => async (request) => {
    const answer = await next(request)
    if (answer.status !== 401) return answer
    request.headers.authorization = `Bearer ${await refresh()}`
    return next(request)
  }
}

describe('a layer of your own', () => {
  test('401 -> refresh the token -> the request is sent again, through the limiter, and succeeds', async () => {
    server.seen.length = 0
    currentToken = 'token-2'
    let refreshes = 0
    const limiter = createLimiter({ concurrency: 2 })
    await using api = createClient({
      baseUrl: server.url,
      headers: { authorization: 'Bearer token-1' },
      limiter,
      layers: [refreshOn401(async () => `token-${1 + ++refreshes}`)],
    })
    const response = await api.get('/me')
    expect(response.status).toBe(200)
    expect(response.attempts).toBe(2)
    expect(refreshes).toBe(1)
    expect(server.seen.map((s) => s.headers.authorization)).toEqual(['Bearer token-1', 'Bearer token-2'])
    // Each call of next() was one more start of the origin's limiter.
    expect(limiter.stats().started).toBe(2)
  })

  test('a layer sees every attempt of a retried request: the retry policy sits above it', async () => {
    server.seen.length = 0
    currentToken = 'token-1'
    const attempts: number[] = []
    const watch: Layer = (next) => (request) => {
      attempts.push(request.attempts)
      return next(request)
    }
    await using api = createClient({
      baseUrl: server.url,
      headers: { authorization: 'Bearer token-1' },
      retry: { attempts: 2, backoff: { base: 1, max: 1 } },
      layers: [watch],
    })
    const response = await api.get('/flaky')
    expect(response.status).toBe(200)
    expect(attempts).toEqual([0, 1])
  })

  test('layers run outermost first', async () => {
    const order: string[] = []
    const named =
      (name: string): Layer =>
      (next) =>
      async (request) => {
        order.push(`${name} in`)
        const answer = await next(request)
        order.push(`${name} out`)
        return answer
      }
    await using api = createClient({ baseUrl: server.url, layers: [named('a'), named('b')] })
    await api.get('/me').catch(() => {})
    expect(order).toEqual(['a in', 'b in', 'b out', 'a out'])
  })

  test('a layer that passes on another request object is refused, naming the layer', async () => {
    const copy: Layer = (next) => (request) => next({ ...request })
    await using api = createClient({ baseUrl: server.url, layers: [copy] })
    const error = (await api.get('/me').catch((e: unknown) => e)) as ClientError
    expect(error.code).toBe('INVALID_OPTION')
    expect(error.message).toMatch(/layers\[0\] called next\(\) with a request it was not given/)
  })

  test('layers must be functions returning functions', () => {
    expect(() => createClient({ layers: [42 as unknown as Layer] })).toThrow(
      /option `layers` must be an array/,
    )
    const broken = (() => 'nope') as unknown as Layer
    expect(() => createClient({ layers: [broken] })).toThrow(/layers\[0\] must return a function/)
  })
})
