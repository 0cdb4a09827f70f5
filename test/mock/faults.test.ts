import { request } from 'undici'
import { describe, expect, test } from 'vitest'
import { type MockServerOptions, startMockServer } from '../../src/mock/index.js'
import { call } from './client.js'

const fault = (kind: string) => ({ headers: { 'x-mock-fault': kind } })

describe('faults forced by x-mock-fault', () => {
  test.each(['500', '502', '503'])('%s answers that status with a JSON error', async (kind) => {
    await using server = await startMockServer()
    const reply = await call(`${server.url}/json`, fault(kind))
    expect(reply.status).toBe(Number(kind))
    expect(reply.json.error).toMatch(kind)
    expect(server.stats().byStatus).toEqual({ [kind]: 1 })
  })

  test('429 answers Too Many Requests with Retry-After and does not count as admitted', async () => {
    await using server = await startMockServer({ rate: '10/10s' })
    const reply = await call(`${server.url}/json`, fault('429'))
    expect(reply.status).toBe(429)
    expect(reply.headers['retry-after']).toBe('1')
    const next = await call(`${server.url}/json`)
    expect(next.headers['x-ratelimit-remaining']).toBe('9')
    expect(server.stats()).toMatchObject({ rateLimited: 1, maxWindowAdmitted: 1, maxWindowArrivals: 2 })
  })

  test('reset destroys the connection without any response', async () => {
    await using server = await startMockServer()
    await expect(request(`${server.url}/json`, fault('reset'))).rejects.toThrow(
      /other side closed|reset|socket/i,
    )
    await expect.poll(() => server.stats().openConnections).toBe(0)
    expect(server.stats()).toMatchObject({ requests: 1, resets: 1, byStatus: {}, inFlight: 0, aborted: 0 })
  })

  test('malformed answers 200 with a JSON content type and a body that does not parse', async () => {
    await using server = await startMockServer()
    const reply = await call(`${server.url}/items/7`, fault('malformed'))
    expect(reply.status).toBe(200)
    expect(reply.headers['content-type']).toMatch(/^application\/json/)
    expect(() => JSON.parse(reply.text)).toThrow()
    expect(server.stats()).toMatchObject({ malformed: 1, byStatus: { 200: 1 } })
  })

  test('hang never answers; the request counts as aborted once the client gives up', async () => {
    await using server = await startMockServer()
    const hung = request(`${server.url}/json`, { ...fault('hang'), signal: AbortSignal.timeout(200) })
    await expect(hung).rejects.toThrow()
    await expect.poll(() => server.stats().aborted).toBe(1)
    expect(server.stats()).toMatchObject({ hangs: 1, inFlight: 0, byStatus: {} })
  })

  test('x-mock-delay holds that request while others are answered', async () => {
    await using server = await startMockServer()
    const controller = new AbortController()
    const held = request(`${server.url}/json`, {
      headers: { 'x-mock-delay': '60000' },
      signal: controller.signal,
    }).catch((error: unknown) => error)
    await expect.poll(() => server.stats().inFlight).toBe(1)
    expect((await call(`${server.url}/json`)).status).toBe(200)
    expect(server.stats()).toMatchObject({ inFlight: 1, byStatus: { 200: 1 } })
    controller.abort()
    await held
    await expect.poll(() => server.stats().aborted).toBe(1)
  })

  test('an unknown x-mock-fault or a bad x-mock-delay is answered 400 naming the header', async () => {
    await using server = await startMockServer()
    expect((await call(`${server.url}/json`, fault('explode'))).json.error).toMatch(/x-mock-fault/)
    const badDelay = await call(`${server.url}/json`, { headers: { 'x-mock-delay': 'soon' } })
    expect(badDelay.status).toBe(400)
    expect(badDelay.json.error).toMatch(/x-mock-delay/)
  })
})

describe('latency and concurrency limits', () => {
  test('latency delays every endpoint but /__stats', async () => {
    await using server = await startMockServer({ latency: '1h' })
    const controller = new AbortController()
    const held = request(`${server.url}/json`, { signal: controller.signal }).catch((error: unknown) => error)
    await expect.poll(() => server.stats().inFlight).toBe(1)
    const stats = await call(`${server.url}/__stats`)
    expect(stats.json).toMatchObject({ requests: 1, inFlight: 1, byStatus: {} })
    controller.abort()
    await held
  })

  test('maxInFlight answers 503 with Retry-After: 1 to one request too many', async () => {
    await using server = await startMockServer({ maxInFlight: 2 })
    const controller = new AbortController()
    const held = [1, 2].map(() =>
      request(`${server.url}/delay/60000`, { signal: controller.signal }).catch((error: unknown) => error),
    )
    await expect.poll(() => server.stats().inFlight).toBe(2)
    const refused = await call(`${server.url}/json`)
    expect(refused.status).toBe(503)
    expect(refused.headers['retry-after']).toBe('1')
    controller.abort()
    await Promise.all(held)
    await expect.poll(() => server.stats().inFlight).toBe(0)
    expect((await call(`${server.url}/json`)).status).toBe(200)
  })
})

describe('faults by probability', () => {
  const statuses = async (options: MockServerOptions) => {
    await using server = await startMockServer(options)
    const seen: number[] = []
    for (let i = 0; i < 40; i++) seen.push((await call(`${server.url}/items/${i}`)).status)
    return seen
  }

  test('a seed makes the fault sequence reproducible, and another seed changes it', async () => {
    const options = { faults: { '500': 0.3, '502': 0.1, '503': 0.1 }, seed: 42 }
    const first = await statuses(options)
    expect(await statuses(options)).toEqual(first)
    expect(await statuses({ ...options, seed: 43 })).not.toEqual(first)
    expect(new Set(first)).toEqual(new Set([200, 500, 502, 503]))
  })

  test('the fault sequence does not change when latency is added', async () => {
    const faults = { '500': 0.4 }
    expect(await statuses({ faults, seed: 9, latency: { min: 0, max: 2 } })).toEqual(
      await statuses({ faults, seed: 9 }),
    )
  })
})

describe('auth', () => {
  test('a missing or wrong bearer token gets 401 without the token echoed; the right one passes', async () => {
    await using server = await startMockServer({ auth: 's3cret-token' })
    const missing = await call(`${server.url}/json`)
    expect(missing.status).toBe(401)
    expect(missing.headers['www-authenticate']).toMatch(/^Bearer/)
    const wrong = await call(`${server.url}/json`, { headers: { authorization: 'Bearer guess' } })
    expect(wrong.status).toBe(401)
    const right = await call(`${server.url}/anything`, { headers: { authorization: 'Bearer s3cret-token' } })
    expect(right.status).toBe(200)
    for (const reply of [missing, wrong, right]) expect(reply.text).not.toContain('s3cret-token')
    expect((await call(`${server.url}/__stats`)).status).toBe(200)
    expect(server.stats().byStatus).toEqual({ 200: 1, 401: 2 })
  })
})
