import { Agent, request } from 'undici'
import { afterAll, describe, expect, test } from 'vitest'
import { describeMockServer, startMockServer } from '../../src/mock/index.js'
import { testTls } from '../fixtures/tls.js'
import { call } from './client.js'

const trust = { ca: testTls.cert }
/** An HTTP/2 client: one session, up to 100 streams at once. */
const h2 = new Agent({ allowH2: true, connections: 1, pipelining: 100, connect: trust })
/** An HTTP/1.1 client that trusts the test certificate. */
const h1 = new Agent({ connect: trust })
afterAll(() => Promise.all([h2.close(), h1.close()]))

const secure = { tls: testTls }
const both = { tls: testTls, http2: true }

describe('mock over TLS', () => {
  test('tls serves HTTPS with the given certificate; the echo reports HTTP/1.1', async () => {
    await using server = await startMockServer(secure)
    expect(server.url).toBe(`https://127.0.0.1:${server.port}`)
    expect(describeMockServer(server)).toMatch(/HTTPS/)
    const reply = await call(`${server.url}/anything`, { dispatcher: h1 })
    expect(reply.json).toMatchObject({ method: 'GET', httpVersion: '1.1' })
  })

  test('an untrusted certificate is refused by the client', async () => {
    await using server = await startMockServer(secure)
    await expect(call(`${server.url}/json`)).rejects.toThrow(/self-signed certificate/)
    expect(server.stats().requests).toBe(0)
  })

  test('with http2, an h2 client gets HTTP/2 and an HTTP/1.1 client still gets HTTP/1.1', async () => {
    await using server = await startMockServer(both)
    expect(describeMockServer(server)).toMatch(/HTTP\/2 and HTTP\/1.1/)
    expect((await call(`${server.url}/anything`, { dispatcher: h2 })).json.httpVersion).toBe('2.0')
    expect((await call(`${server.url}/anything`, { dispatcher: h1 })).json.httpVersion).toBe('1.1')
    expect(server.stats()).toMatchObject({ requests: 2, byStatus: { 200: 2 }, connections: 2 })
  })

  test('concurrent requests share one HTTP/2 session as concurrent streams', async () => {
    await using server = await startMockServer(both)
    const controller = new AbortController()
    const held = Array.from({ length: 40 }, () =>
      request(`${server.url}/delay/60000`, { dispatcher: h2, signal: controller.signal }).catch(
        (error: unknown) => error,
      ),
    )
    await expect.poll(() => server.stats().inFlight).toBe(40)
    expect(server.stats().connections).toBe(1)
    controller.abort()
    await Promise.all(held)
    // Each cancelled stream is seen as its client going away; the session stays open.
    await expect.poll(() => server.stats().aborted).toBe(40)
    expect(server.stats()).toMatchObject({ inFlight: 0, maxInFlight: 40, openConnections: 1 })
  })
})

describe('faults over HTTP/2', () => {
  test('reset resets that stream only: the session and its other streams carry on', async () => {
    await using server = await startMockServer(both)
    const slow = call(`${server.url}/delay/50`, { dispatcher: h2 })
    await expect.poll(() => server.stats().inFlight).toBe(1)
    const reset = call(`${server.url}/json`, { dispatcher: h2, headers: { 'x-mock-fault': 'reset' } })
    await expect(reset).rejects.toMatchObject({ code: 'ERR_HTTP2_STREAM_ERROR' })
    expect((await slow).status).toBe(200)
    expect(server.stats()).toMatchObject({
      requests: 2,
      resets: 1,
      byStatus: { 200: 1 },
      aborted: 0,
      inFlight: 0,
      connections: 1,
      openConnections: 1,
    })
  })

  test('hang holds a stream until the client cancels it (aborted), and close() ends hung ones', async () => {
    const server = await startMockServer(both)
    const controller = new AbortController()
    const cancelled = request(`${server.url}/json`, {
      dispatcher: h2,
      headers: { 'x-mock-fault': 'hang' },
      signal: controller.signal,
    }).catch((error: unknown) => error)
    await expect.poll(() => server.stats().inFlight).toBe(1)
    controller.abort()
    await cancelled
    await expect.poll(() => server.stats().aborted).toBe(1)

    const hung = request(`${server.url}/json`, { dispatcher: h2, headers: { 'x-mock-fault': 'hang' } }).catch(
      (error: unknown) => error,
    )
    await expect.poll(() => server.stats().inFlight).toBe(1)
    await server.close()
    expect(await hung).toBeInstanceOf(Error)
    // Cut by close(), so not counted as the client going away.
    expect(server.stats()).toMatchObject({ hangs: 2, aborted: 1, inFlight: 0, openConnections: 0 })
  })

  test('rate limit, maxInFlight, malformed bodies and 5xx answer as over HTTP/1.1', async () => {
    await using server = await startMockServer({ ...both, rate: '2/10s' })
    const ok = await call(`${server.url}/items/1`, { dispatcher: h2 })
    expect(ok.headers['ratelimit-policy']).toBe('"default";q=2;w=10')
    const malformed = await call(`${server.url}/items/2`, {
      dispatcher: h2,
      headers: { 'x-mock-fault': 'malformed' },
    })
    expect(malformed.status).toBe(200)
    expect(malformed.json).toBeUndefined()
    const limited = await call(`${server.url}/items/3`, { dispatcher: h2 })
    expect(limited.status).toBe(429)
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    expect(limited.headers['x-ratelimit-remaining']).toBe('0')
    expect(server.stats()).toMatchObject({ requests: 3, rateLimited: 1, malformed: 1, maxWindowAdmitted: 2 })

    await using busy = await startMockServer({ ...both, maxInFlight: 1 })
    const controller = new AbortController()
    const held = request(`${busy.url}/delay/60000`, { dispatcher: h2, signal: controller.signal }).catch(
      (error: unknown) => error,
    )
    await expect.poll(() => busy.stats().inFlight).toBe(1)
    const refused = await call(`${busy.url}/json`, { dispatcher: h2 })
    expect(refused.status).toBe(503)
    expect(refused.headers['retry-after']).toBe('1')
    expect(
      (await call(`${busy.url}/json`, { dispatcher: h2, headers: { 'x-mock-fault': '502' } })).status,
    ).toBe(503)
    controller.abort()
    await held
    await expect.poll(() => busy.stats().inFlight).toBe(0)
    expect(
      (await call(`${busy.url}/json`, { dispatcher: h2, headers: { 'x-mock-fault': '502' } })).status,
    ).toBe(502)
  })
})
