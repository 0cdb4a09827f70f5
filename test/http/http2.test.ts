import { constants, createSecureServer } from 'node:http2'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { describe, expect, test } from 'vitest'
import { type Client, createClient } from '../../src/http/client.js'
import type { ClientOptions } from '../../src/http/options.js'
import type { RequestErrorInfo } from '../../src/http/errors.js'
import { type MockServer, type MockServerOptions, startMockServer } from '../../src/mock/index.js'
import { testTls } from '../fixtures/tls.js'

/** The mock over TLS, speaking HTTP/2 to clients that offer it (HTTP/1.1 to others). */
const h2Mock = (options: MockServerOptions = {}) => startMockServer({ ...options, tls: testTls, http2: true })
const trust = { ca: testTls.cert }
/** A client speaking HTTP/2 to `server` on one connection. */
const h2Client = (server: MockServer, options: ClientOptions = {}) =>
  createClient({ baseUrl: server.url, http2: true, tls: trust, connections: 1, ...options })

interface Echo {
  httpVersion: string
}

/** Holds `count` requests in flight at the server, runs `check`, then aborts them all. */
async function holdInFlight(
  api: Client,
  server: MockServer,
  count: number,
  check: () => void,
): Promise<void> {
  const stop = new AbortController()
  const held = api.all(
    Array.from({ length: count }, () => '/delay/60000'),
    { signal: stop.signal },
  )
  try {
    await expect.poll(() => server.stats().inFlight).toBe(count)
    check()
  } finally {
    stop.abort()
    expect((await held).every((r) => !r.ok)).toBe(true)
  }
}

describe('protocol negotiation', () => {
  test('http2 over TLS gets HTTP/2: many requests in flight at once on one connection', async () => {
    await using server = await h2Mock()
    await using api = h2Client(server)
    expect((await api.get('/anything')).json<Echo>().httpVersion).toBe('2.0')
    await holdInFlight(api, server, 30, () => expect(server.stats().connections).toBe(1))
    await expect.poll(() => server.stats().aborted).toBe(30)
  })

  test('without http2 the same server is spoken HTTP/1.1, and http2 over plain http stays HTTP/1.1', async () => {
    await using secure = await h2Mock()
    await using h1 = createClient({ baseUrl: secure.url, tls: trust })
    expect((await h1.get('/anything')).json<Echo>().httpVersion).toBe('1.1')
    await using plain = await startMockServer()
    await using cleartext = createClient({ baseUrl: plain.url, http2: true })
    expect((await cleartext.get('/anything')).json<Echo>().httpVersion).toBe('1.1')
  })

  test('http2 against a server that declines h2 never pipelines HTTP/1.1, even on one connection', async () => {
    // Headers first, the body 80 ms later: undici sends the next request on a socket only after the
    // previous response's headers, so a pipelining client would show 2 in progress on one socket.
    const inProgress = new Map<TLSSocket, number>()
    let most = 0
    const server = createServer({ ...testTls }, (req, res) => {
      const socket = req.socket as TLSSocket
      inProgress.set(socket, (inProgress.get(socket) ?? 0) + 1)
      most = Math.max(most, inProgress.get(socket)!)
      res.writeHead(200).flushHeaders()
      setTimeout(() => {
        inProgress.set(socket, inProgress.get(socket)! - 1)
        res.end('ok')
      }, 80)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
      await using api = createClient({ baseUrl: url, http2: true, tls: trust, connections: 1 })
      expect((await api.get('/warm')).status).toBe(200)
      expect((await api.all(['/1', '/2', '/3', '/4', '/5'])).every((r) => r.ok)).toBe(true)
      expect(most).toBe(1)
    } finally {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })

  test('http2 against a server that declines h2: HTTP/1.1, a connection per request in flight', async () => {
    await using server = await startMockServer({ tls: testTls })
    await using api = createClient({ baseUrl: server.url, http2: true, tls: trust })
    expect((await api.get('/anything')).json<Echo>().httpVersion).toBe('1.1')
    await holdInFlight(api, server, 10, () => expect(server.stats().connections).toBeGreaterThanOrEqual(10))
  })
})

describe('the client over HTTP/2', () => {
  test('against a server rate limit, every request succeeds: 429s pause the origin, no window goes over', async () => {
    await using server = await h2Mock({ rate: '50/2s', seed: 5 })
    const pauses: string[] = []
    await using api = h2Client(server, { concurrency: 100, on: { pause: (e) => pauses.push(e.reason) } })
    // The first 100 start before any quota is known: the server refuses the 50 past its limit.
    const results = await api.all(Array.from({ length: 200 }, (_, i) => `/items/${i}`))
    const stats = server.stats()
    expect(results.filter((r) => r.ok)).toHaveLength(200)
    expect(stats.maxWindowAdmitted).toBeLessThanOrEqual(50)
    expect(stats.rateLimited).toBeGreaterThan(0)
    expect(pauses).toContain('retry-after')
    expect(stats.byPath['/items/:id']).toBe(200 + stats.rateLimited)
    expect(stats.connections).toBe(1)
  }, 30_000)

  test('a stream reset is retried, on the same connection', async () => {
    await using server = await h2Mock({ faults: { reset: 0.2 }, seed: 11 })
    const reasons: string[] = []
    await using api = h2Client(server, {
      retry: { attempts: 8, backoff: { base: 1, max: 5 } },
      on: { retry: (e) => reasons.push(e.reason) },
    })
    const results = await api.all(Array.from({ length: 100 }, (_, i) => `/items/${i}`))
    const stats = server.stats()
    expect(results.every((r) => r.ok)).toBe(true)
    expect(stats.resets).toBeGreaterThan(0)
    expect(reasons).toEqual(Array.from({ length: stats.resets }, () => 'NETWORK ERR_HTTP2_STREAM_ERROR'))
    const attempts = results.reduce((sum, r) => sum + (r.ok ? r.value.attempts : 0), 0)
    expect(stats.byPath['/items/:id']).toBe(attempts)
    expect(stats.connections).toBe(1)
  })

  test('a stream the server cancels or half-closes before answering is retried (undici: UND_ERR_INFO)', async () => {
    // A raw HTTP/2 server: the first stream is cancelled (RST_STREAM CANCEL), the next answered.
    let streams = 0
    const server = createSecureServer({ ...testTls }, (req, res) => {
      if (streams++ === 0) req.stream.close(constants.NGHTTP2_CANCEL)
      else res.end('ok')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const reasons: string[] = []
    try {
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
      await using api = createClient({
        baseUrl: url,
        http2: true,
        tls: trust,
        retry: { attempts: 2, backoff: { base: 1, max: 1 } },
        on: { retry: (e) => reasons.push(e.reason) },
      })
      const response = await api.get('/cancelled-once')
      expect([response.status, response.attempts, await response.text()]).toEqual([200, 2, 'ok'])
      expect(reasons).toEqual(['NETWORK UND_ERR_INFO'])
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })

  test('a POST the retry policy would not resend runs alone on the connection; one with an Idempotency-Key is multiplexed', async () => {
    await using server = await h2Mock({ latency: 100 })
    await using api = h2Client(server)
    const posts = (idempotencyKey?: (i: number) => string) =>
      api.all(
        Array.from({ length: 5 }, (_, i) => ({
          url: '/anything',
          json: { i },
          ...(idempotencyKey ? { idempotencyKey: idempotencyKey(i) } : {}),
        })),
      )
    expect((await posts()).every((r) => r.ok)).toBe(true)
    // undici holds a request it may not resend until the connection is idle: one at a time.
    expect(server.stats().maxInFlight).toBe(1)
    server.resetStats()
    expect((await posts((i) => `order-${i}`)).every((r) => r.ok)).toBe(true)
    expect(server.stats().maxInFlight).toBe(5)
  })

  test('a hung request times out; the server sees its stream cancelled and the connection carries on', async () => {
    await using server = await h2Mock()
    await using api = h2Client(server, { timeout: 200, retry: false })
    const error = await api.get('/json', { headers: { 'x-mock-fault': 'hang' } }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'TIMEOUT', attempts: 1 })
    await expect.poll(() => server.stats().aborted).toBe(1)
    expect((await api.get('/json')).status).toBe(200)
    expect(server.stats()).toMatchObject({ hangs: 1, inFlight: 0, connections: 1 })
  })

  test('group fails fast: the server sees the streams in flight cancelled', async () => {
    await using server = await h2Mock()
    await using api = h2Client(server, { retry: false })
    const specs = [
      '/delay/60000',
      '/delay/60000',
      '/delay/60000',
      { url: '/delay/50', headers: { 'x-mock-fault': '500' } },
    ]
    const failure = await api.group(specs).catch((error: unknown) => error)
    expect((failure as AggregateError).errors.map((e: { code: string }) => e.code)).toEqual(['HTTP'])
    await expect.poll(() => server.stats().aborted).toBe(3)
    expect(server.stats()).toMatchObject({ inFlight: 0, connections: 1, openConnections: 1 })
  })

  test('maxBodySize and redirects work as over HTTP/1.1', async () => {
    await using server = await h2Mock()
    await using api = h2Client(server, { maxBodySize: 64 })
    const tooLarge = await api.get('/items/1').catch((e: unknown) => e)
    expect(tooLarge).toMatchObject({ code: 'BODY_TOO_LARGE', attempts: 1 })
    const redirected = await api.get('/redirect-to', { params: { url: '/json', status: 307 } })
    expect(redirected.url).toBe(`${server.url}/json`)
    expect(server.stats().byPath).toEqual({ '/items/:id': 1, '/redirect-to': 1, '/json': 1 })
  })
})

describe('tls option', () => {
  test('a self-signed server is refused unless its certificate is trusted (ca) or checks are off', async () => {
    await using server = await h2Mock()
    await using untrusting = createClient({ baseUrl: server.url, http2: true })
    const error = await untrusting.get('/json').catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'NETWORK', attempts: 1 })
    expect((error as RequestErrorInfo & { cause: { code: string } }).cause.code).toBe(
      'DEPTH_ZERO_SELF_SIGNED_CERT',
    )
    expect(server.stats().requests).toBe(0)
    await using careless = createClient({ baseUrl: server.url, tls: { rejectUnauthorized: false } })
    expect((await careless.get('/json')).status).toBe(200)
  })

  test('cert and key are presented to a server that requires a client certificate (mutual TLS)', async () => {
    let served = 0
    const server = createServer({ ...testTls, ca: testTls.cert, requestCert: true }, (req, res) => {
      served++
      const socket = req.socket as TLSSocket
      res.end(
        JSON.stringify({ authorized: socket.authorized, peer: socket.getPeerCertificate().subject?.CN }),
      )
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
    try {
      await using withCert = createClient({
        baseUrl: url,
        tls: { ...trust, cert: testTls.cert, key: testTls.key },
      })
      expect((await withCert.get('/')).json()).toEqual({ authorized: true, peer: 'localhost' })
      // Without a client certificate the server ends the handshake: no request gets through.
      await using without = createClient({ baseUrl: url, tls: trust, retry: false })
      expect(await without.get('/').catch((e: unknown) => e)).toMatchObject({ code: 'NETWORK' })
      expect(served).toBe(1)
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  test('servername is the name the certificate is checked against', async () => {
    await using server = await h2Mock()
    await using wrongName = createClient({
      baseUrl: server.url,
      tls: { ...trust, servername: 'api.example.com' },
    })
    const error = await wrongName.get('/json').catch((e: unknown) => e)
    expect((error as { cause: { code: string } }).cause.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID')
    await using rightName = createClient({ baseUrl: server.url, tls: { ...trust, servername: 'localhost' } })
    expect((await rightName.get('/json')).status).toBe(200)
  })
})
