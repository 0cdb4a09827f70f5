import { describe, expect, test } from 'vitest'
import { startMockServer } from '../../src/mock/index.js'
import { call } from './client.js'

// Generous windows: the whole burst lands well inside one window even on a loaded machine.
describe('server-side rate limit', () => {
  test('a burst of 2N at N per window admits exactly N and answers N 429s with correct headers', async () => {
    await using server = await startMockServer({ rate: '5/10s' })
    const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => call(`${server.url}/items/${i}`)))
    const admitted = replies.filter((r) => r.status === 200)
    const refused = replies.filter((r) => r.status === 429)
    expect(admitted).toHaveLength(5)
    expect(refused).toHaveLength(5)
    expect(admitted.map((r) => r.headers['x-ratelimit-remaining']).sort()).toEqual(['0', '1', '2', '3', '4'])
    for (const reply of refused) {
      const retryAfter = Number(reply.headers['retry-after'])
      expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 10).toBe(true)
      expect(reply.headers['ratelimit-policy']).toBe('"default";q=5;w=10')
      expect(reply.headers.ratelimit).toBe(`"default";r=0;t=${retryAfter}`)
      expect(reply.headers['x-ratelimit-limit']).toBe('5')
      expect(reply.headers['x-ratelimit-remaining']).toBe('0')
      const reset = Number(reply.headers['x-ratelimit-reset'])
      expect(Math.abs(reset - Date.now() / 1000)).toBeLessThanOrEqual(11)
    }
    expect(server.stats()).toMatchObject({
      requests: 10,
      rateLimited: 5,
      maxWindowAdmitted: 5,
      maxWindowArrivals: 10,
      statsWindow: 10_000,
      byStatus: { 200: 5, 429: 5 },
    })
  })

  test('requests below the limit get no 429 and see their remaining quota count down', async () => {
    await using server = await startMockServer({ rate: '20/10s' })
    const remaining: string[] = []
    for (let i = 0; i < 10; i++) {
      const reply = await call(`${server.url}/json`)
      expect(reply.status).toBe(200)
      expect(reply.headers['retry-after']).toBeUndefined()
      remaining.push(reply.headers['x-ratelimit-remaining']!)
    }
    expect(remaining).toEqual(['19', '18', '17', '16', '15', '14', '13', '12', '11', '10'])
    expect(server.stats()).toMatchObject({ rateLimited: 0, maxWindowAdmitted: 10 })
  })

  test('every endpoint shares one limit, and /__stats is never limited or counted', async () => {
    await using server = await startMockServer({ rate: '2/10s' })
    await call(`${server.url}/json`)
    await call(`${server.url}/anything`, { method: 'POST', json: {} })
    expect((await call(`${server.url}/items/1`)).status).toBe(429)
    for (let i = 0; i < 5; i++) expect((await call(`${server.url}/__stats`)).status).toBe(200)
    expect(server.stats()).toMatchObject({ requests: 3, rateLimited: 1 })
  })
})

describe('recorded arrivals', () => {
  test('with recordArrivals, arrivals() lists every arrival and the admitted ones, on performance.now()', async () => {
    const before = performance.now()
    await using server = await startMockServer({ rate: '3/10s', recordArrivals: true })
    for (let i = 0; i < 5; i++) await call(`${server.url}/items/${i}`)
    await call(`${server.url}/__stats`)
    const { all, admitted } = server.arrivals()
    expect(all).toHaveLength(5)
    expect(admitted).toEqual(all.slice(0, 3))
    expect(all.every((at, i) => at >= before && (i === 0 || at >= all[i - 1]!))).toBe(true)
    expect(all.at(-1)).toBeLessThanOrEqual(performance.now())
    server.resetStats()
    expect(server.arrivals()).toEqual({ all: [], admitted: [] })
  })

  test('without recordArrivals, arrivals() throws an error naming the option', async () => {
    await using server = await startMockServer()
    expect(() => server.arrivals()).toThrow(/recordArrivals: true/)
  })
})
