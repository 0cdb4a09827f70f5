import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClient } from '../../src/http/client.js'
import { RateLimitError, TimeoutError } from '../../src/http/errors.js'
import { tinyServer, type TinyServer } from './helpers.js'

let server: TinyServer
const tried = new Set<string>()

beforeAll(async () => {
  server = await tinyServer((req, res) => {
    const url = req.url ?? ''
    if (url.startsWith('/hang')) return // never answers: the attempt times out
    if (url.startsWith('/block')) return void res.writeHead(429, { 'retry-after': '3600' }).end()
    if (url.startsWith('/flaky/') && !tried.has(url)) {
      tried.add(url)
      res.writeHead(503).end()
      return
    }
    setTimeout(() => res.writeHead(200).end('{}'), url.startsWith('/slow') ? 40 : 0)
  })
})
afterAll(() => server.close())

describe('per-attempt timings', () => {
  it('gives each attempt of a retried request its wait, latency and status, in order', async () => {
    const api = createClient({ baseUrl: server.url, retry: { attempts: 2, backoff: { base: 30, max: 30 } } })
    const before = Date.now()
    const response = await api.get('/flaky/1')
    const { start, attempts } = response.timings
    expect(start).toBeGreaterThanOrEqual(before - 1)
    expect(attempts.map((a) => a.status)).toEqual([503, 200])
    const [first, second] = attempts as [(typeof attempts)[0], (typeof attempts)[0]]
    // The second asked for its turn after the first ended and the backoff passed.
    expect(second.at).toBeGreaterThanOrEqual(first.at + first.wait + first.ms)
    for (const a of attempts) expect(a.ms).toBeGreaterThan(0)
    expect(response.ms).toBeGreaterThanOrEqual(second.at + second.wait + second.ms - 1)
    await api.close()
  })

  it('splits a wait into the part spent on the rate and the part spent on a slot', async () => {
    const rated = createClient({ baseUrl: server.url, rate: '2/s', rateMargin: 0 })
    const byRate = await Promise.all([1, 2, 3].map((i) => rated.get(`/fast/${i}`)))
    const third = byRate[2]!.timings.attempts[0]!
    expect(third.wait).toBeGreaterThan(500)
    expect(third.rate).toBeGreaterThan(third.wait - 20)
    await rated.close()
    const capped = createClient({ baseUrl: server.url, concurrency: 1 })
    const bySlot = await Promise.all([1, 2].map((i) => capped.get(`/slow/${i}`)))
    const second = bySlot[1]!.timings.attempts[0]!
    expect(second.wait).toBeGreaterThan(30)
    expect(second.rate).toBe(0)
    await capped.close()
  })

  it('puts the timings on an error too, with the failed attempt’s code', async () => {
    const api = createClient({ baseUrl: server.url, timeout: 50, retry: false })
    const error = await api.get('/hang').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TimeoutError)
    expect((error as TimeoutError).timings?.attempts).toEqual([
      expect.objectContaining({ error: 'TIMEOUT', ms: expect.any(Number) }),
    ])
    await api.close()
  })

  it('keeps no timing for an attempt refused before it went out (its origin blocked)', async () => {
    const api = createClient({ baseUrl: server.url, maxRetryAfter: '1s', retry: false })
    const first = (await api.get('/block').catch((e: unknown) => e)) as RateLimitError
    expect(first.timings?.attempts.map((a) => a.status)).toEqual([429])
    const refused = (await api.get('/fast/after').catch((e: unknown) => e)) as RateLimitError
    expect(refused).toBeInstanceOf(RateLimitError)
    expect(refused.attempts).toBe(0)
    expect(refused.timings?.attempts).toEqual([])
    await api.close()
  })
})
