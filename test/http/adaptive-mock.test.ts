import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createClient } from '../../src/http/client.js'
import { type MockServer, startMockServer } from '../../src/mock/index.js'

let mock: MockServer
beforeAll(async () => {
  mock = await startMockServer({ rate: '20/s', seed: 3 })
})
afterAll(() => mock.close())

describe('adaptive limits against a server limiting at 20/s', () => {
  test('500 requests with no client rate all succeed, no window goes over 20, and under 5% draw a 429', async () => {
    const pauses: number[] = []
    const quotas: unknown[] = []
    await using api = createClient({
      baseUrl: mock.url,
      concurrency: 10,
      on: { pause: (e) => pauses.push(e.ms), quota: (e) => quotas.push(e.rates) },
    })
    const specs = Array.from({ length: 500 }, (_, i) => `/items/${i}`)
    const results = await api.all(specs)
    const stats = mock.stats()
    expect(results.filter((r) => r.ok)).toHaveLength(500)
    expect(stats.maxWindowAdmitted).toBeLessThanOrEqual(20)
    expect(stats.byPath['/items/:id']).toBe(500 + stats.rateLimited)
    expect(stats.rateLimited).toBeLessThan(25)
    // The learned 2% (20 ms) is the client's default rateMargin, which the limiter adds: nothing more.
    expect(quotas[0]).toEqual([{ limit: 20, interval: 1000 }])
  }, 60_000)
})
