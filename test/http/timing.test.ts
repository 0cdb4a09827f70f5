import { afterEach, describe, expect, test } from 'vitest'
import { createClient } from '../../src/http/client.js'
import type { ClientEvents } from '../../src/http/events.js'
import { createManualClock } from '../../src/limit/clock.js'
import { eventually, type TinyServer, tinyServer } from './helpers.js'

/** Waits and timing below run on a manual clock: the server is real, time moves only when told. */
let server: TinyServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

/** A server answering the scripted [status, headers] in turn, then 200. */
async function scripted(...answers: [number, Record<string, string>][]): Promise<TinyServer> {
  let n = 0
  server = await tinyServer((_req, res) => {
    const [status, headers] = answers[n++] ?? [200, {}]
    res.writeHead(status, headers).end(`answer ${n}`)
  })
  return server
}

describe('timing on the manual clock', () => {
  test('a Retry-After pauses the whole origin: nothing starts until it has passed', async () => {
    const clock = createManualClock()
    const s = await scripted([429, { 'retry-after': '2' }])
    const pauses: ClientEvents['pause'][] = []
    await using api = createClient({ baseUrl: s.url, clock, on: { pause: (e) => pauses.push(e) } })
    const limiter = api.limiterFor()
    const first = api.get('/a')
    expect(await eventually(() => limiter.stats().queued === 1)).toBe(true)
    expect(pauses).toEqual([{ origin: new URL(s.url).origin, ms: 2000, reason: 'retry-after', status: 429 }])
    const second = api.get('/b')
    await clock.advance(1999)
    expect(limiter.stats().queued).toBe(2)
    expect(s.seen).toHaveLength(1)
    await clock.advance(1)
    const [a, b] = await Promise.all([first, second])
    expect([a.status, a.attempts, b.status, b.attempts]).toEqual([200, 2, 200, 1])
    expect(s.seen.map((r) => r.url)).toEqual(['/a', '/a', '/b'])
  })

  // GitHub refuses over its limits with a 403: a secondary limit with Retry-After, the primary one
  // with x-ratelimit-remaining: 0 until x-ratelimit-reset. A 403 without either is plain "forbidden".
  test.each([
    ['a secondary limit (Retry-After: 60)', { 'retry-after': '60' }, 60_000],
    [
      'the primary limit (remaining 0, reset in 30 s)',
      { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': 'RESET' },
      30_000,
    ],
  ])('a 403 for %s pauses the origin until then, and the request is retried', async (_name, headers, ms) => {
    const clock = createManualClock()
    const reset = String(Math.ceil(clock.wallTime() / 1000) + 30)
    const answer = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v === 'RESET' ? reset : v]))
    const s = await scripted([403, answer])
    await using api = createClient({ baseUrl: s.url, clock })
    const response = api.get('/repos')
    expect(await eventually(() => api.limiterFor().stats().queued === 1)).toBe(true)
    await clock.advance(ms - 1000)
    expect(s.seen).toHaveLength(1)
    await clock.advance(1000)
    expect(await response).toMatchObject({ status: 200, attempts: 2 })
  })

  test("a 403 at a reset already past by this clock (it runs ahead of the server's) waits a second, not none", async () => {
    const clock = createManualClock()
    const past = String(Math.floor(clock.wallTime() / 1000) - 2)
    const s = await scripted([403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': past }])
    await using api = createClient({ baseUrl: s.url, clock })
    const response = api.get('/repos')
    expect(await eventually(() => api.limiterFor().stats().queued === 1)).toBe(true)
    await clock.advance(999)
    expect(s.seen).toHaveLength(1)
    await clock.advance(1)
    expect(await response).toMatchObject({ status: 200, attempts: 2 })
  })

  test('a 403 that says nothing of limits is not retried', async () => {
    const clock = createManualClock()
    const s = await scripted([403, {}])
    await using api = createClient({ baseUrl: s.url, clock })
    await expect(api.get('/secret')).rejects.toMatchObject({ status: 403, attempts: 1 })
    expect(s.seen).toHaveLength(1)
  })

  // GitHub's secondary limit, by its message: with neither Retry-After nor remaining 0 it says no
  // time, and GitHub asks for at least a minute, longer if it keeps failing.
  const SECONDARY = JSON.stringify({
    message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
  })

  test('a secondary limit that says no time pauses the origin a minute, then two if it comes again', async () => {
    const clock = createManualClock()
    const statuses = [403, 429, 200]
    server = await tinyServer((_req, res) => {
      const status = statuses.shift() ?? 200
      res.writeHead(status, { 'content-type': 'application/json' }).end(status === 200 ? '{}' : SECONDARY)
    })
    const pauses: ClientEvents['pause'][] = []
    // One at a time: a success between the two refusals would start the doubling over.
    await using api = createClient({
      baseUrl: server.url,
      clock,
      concurrency: 1,
      on: { pause: (e) => pauses.push(e) },
    })
    const response = api.get('/repos/a/b/issues')
    expect(await eventually(() => pauses.length === 1)).toBe(true)
    expect(pauses[0]).toMatchObject({ ms: 60_000, reason: 'retry-after', status: 403 })
    // The whole origin waits, not only the refused request.
    const other = api.get('/users/x')
    await clock.advance(59_999)
    expect(server.seen).toHaveLength(1)
    await clock.advance(1)
    expect(await eventually(() => pauses.length === 2)).toBe(true)
    expect(pauses[1]).toMatchObject({ ms: 120_000, status: 429 })
    await clock.advance(119_999)
    expect(server.seen).toHaveLength(2)
    await clock.advance(1)
    const answers = await Promise.all([response, other])
    expect(answers.map((a) => a.status)).toEqual([200, 200])
    expect(server.seen).toHaveLength(4)
  })

  test.each([
    ['Retry-After: 30', { 'retry-after': '30' }],
    ['remaining 0 until the reset in 30 s', { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': 'RESET' }],
  ])('a secondary limit (429) with %s waits that long', async (_name, headers) => {
    const clock = createManualClock()
    const reset = String(Math.ceil(clock.wallTime() / 1000) + 30)
    const said = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v === 'RESET' ? reset : v]))
    server = await tinyServer((_req, res) => {
      if (server!.seen.length === 1) res.writeHead(429, said).end(SECONDARY)
      else res.writeHead(200).end('{}')
    })
    await using api = createClient({ baseUrl: server.url, clock })
    const response = api.get('/repos')
    expect(await eventually(() => api.limiterFor().stats().queued === 1)).toBe(true)
    await clock.advance(29_999)
    expect(server.seen).toHaveLength(1)
    await clock.advance(1)
    expect(await response).toMatchObject({ status: 200, attempts: 2 })
  })

  // GitHub's hour is a fixed window that resets whole: its limit, what is left and the reset (epoch
  // seconds) are all it says. The client counts its own sends against what is left.
  test('a fixed window (GitHub): what is left is sent at once, and the next start waits for the reset', async () => {
    const clock = createManualClock()
    const reset = String(Math.ceil(clock.wallTime() / 1000) + 10)
    const github = (remaining: number) => ({
      'x-ratelimit-limit': '60',
      'x-ratelimit-remaining': String(remaining),
      'x-ratelimit-reset': reset,
      'x-ratelimit-resource': 'core',
    })
    // Others have used 57 of 60 this window: 3 are left for this client, then 60 after the reset.
    const s = await scripted([200, github(2)], [200, github(1)], [200, github(0)], [200, github(59)])
    await using api = createClient({ baseUrl: s.url, clock, concurrency: 1 })
    for (const path of ['/a', '/b', '/c']) expect((await api.get(path)).status).toBe(200)
    // The reset said is 10 s off: the window is taken as 10 s, and 1% of it (100 ms) is added for
    // clocks that disagree.
    const fourth = api.get('/d')
    await clock.advance(10_099)
    expect(s.seen).toHaveLength(3)
    await clock.advance(1)
    expect((await fourth).status).toBe(200)
  })

  test('backoff waits the jittered delay before the retry enters the limiter', async () => {
    const clock = createManualClock()
    const s = await scripted([503, {}], [503, {}])
    const retries: ClientEvents['retry'][] = []
    await using api = createClient({
      baseUrl: s.url,
      clock,
      random: () => 0.5,
      retry: { attempts: 3, backoff: { base: 100, max: 1000 } },
      on: { retry: (e) => retries.push(e) },
    })
    const pending = api.get('/a')
    expect(await eventually(() => retries.length === 1)).toBe(true)
    expect(retries[0]).toMatchObject({
      attempt: 1,
      reason: 'status 503',
      status: 503,
      delay: 50,
      source: 'backoff',
    })
    await clock.advance(49)
    expect(s.seen).toHaveLength(1)
    await clock.advance(1)
    expect(await eventually(() => retries.length === 2)).toBe(true)
    expect(retries[1]).toMatchObject({ attempt: 2, delay: 100 })
    await clock.advance(99)
    expect(s.seen).toHaveLength(2)
    await clock.advance(1)
    const response = await pending
    expect([response.status, response.attempts]).toEqual([200, 3])
  })

  test('X-RateLimit-Remaining 0 pauses the origin until X-RateLimit-Reset', async () => {
    const clock = createManualClock()
    const s = await scripted([
      200,
      { 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '3' },
    ])
    const pauses: ClientEvents['pause'][] = []
    await using api = createClient({ baseUrl: s.url, clock, on: { pause: (e) => pauses.push(e) } })
    await api.get('/a')
    expect(pauses).toMatchObject([{ ms: 3000, reason: 'ratelimit', status: 200 }])
    const next = api.get('/b')
    await clock.advance(2999)
    expect(api.limiterFor().stats().queued).toBe(1)
    await clock.advance(1)
    expect((await next).status).toBe(200)
  })

  // 2 per 1 s learned with its 2% safety margin (20 ms); with a rateMargin (the client's default is
  // 20 ms), the larger one applies (the limiter adds rateMargin to every window), not both.
  test.each([
    { rateMargin: undefined, reported: 1000, startsAt: 1020 },
    { rateMargin: 0, reported: 1020, startsAt: 1020 },
    { rateMargin: 50, reported: 1000, startsAt: 1050 },
  ])(
    'a quota from RateLimit-Policy paces a client that has no rate of its own (rateMargin $rateMargin)',
    async ({ rateMargin, reported, startsAt }) => {
      const clock = createManualClock()
      const quota = { 'ratelimit-policy': '"default";q=2;w=1', ratelimit: '"default";r=1;t=1' }
      const s = await scripted([200, quota], [200, quota], [200, quota])
      const quotas: ClientEvents['quota'][] = []
      await using api = createClient({
        baseUrl: s.url,
        clock,
        concurrency: 1,
        rateMargin,
        on: { quota: (e) => quotas.push(e) },
      })
      const all = api.all(['/1', '/2', '/3'])
      expect(await eventually(() => s.seen.length === 2 && api.limiterFor().stats().queued === 1)).toBe(true)
      expect(quotas[0]!.rates).toEqual([{ limit: 2, interval: reported }])
      await clock.advance(startsAt - 1)
      expect(s.seen).toHaveLength(2)
      await clock.advance(1)
      expect((await all).every((r) => r.ok)).toBe(true)
    },
  )

  test('rateMargin and smooth pace the origin: one start per (interval + margin) / limit', async () => {
    const clock = createManualClock()
    const s = await scripted()
    await using api = createClient({ baseUrl: s.url, clock, rate: '4/s', rateMargin: 200, smooth: true })
    const all = api.all(['/1', '/2', '/3', '/4', '/5'])
    // (1000 + 200) / 4 = 300 ms apart.
    for (const [at, seen] of [
      [0, 1],
      [299, 1],
      [300, 2],
      [599, 2],
      [600, 3],
      [1200, 5],
    ] as const) {
      await clock.advance(at - clock.now())
      expect(await eventually(() => s.seen.length >= seen)).toBe(true)
      expect(s.seen).toHaveLength(seen)
    }
    expect((await all).every((r) => r.ok)).toBe(true)
  })

  test('a request in backoff keeps its origin through a sweep of idle origins, and retries on its limiter', async () => {
    const clock = createManualClock()
    const s = await scripted([503, {}])
    const other = await tinyServer((_req, res) => res.end('ok'))
    try {
      await using api = createClient({
        clock,
        random: () => 1,
        retry: { attempts: 2, backoff: { base: 80_000, max: 80_000 } },
      })
      const pending = api.get(`${s.url}/slow`)
      expect(await eventually(() => s.seen.length === 1)).toBe(true)
      // 70 s into its 80 s backoff nothing runs on its origin, yet the request still holds it: a
      // new origin's sweep must not forget it.
      await clock.advance(70_000)
      expect((await api.get(`${other.url}/b`)).status).toBe(200)
      await clock.advance(10_000)
      // The retry goes through the origin's limiter: a forgotten (closed) one would refuse it.
      const response = await pending
      expect([response.status, response.attempts]).toEqual([200, 2])
    } finally {
      await other.close()
    }
  })

  test('a Retry-After beyond maxRetryAfter fails at once, and the origin refuses until then', async () => {
    const clock = createManualClock()
    const s = await scripted([429, { 'retry-after': '3600' }])
    await using api = createClient({ baseUrl: s.url, clock, maxRetryAfter: '1m' })
    const error = await api.get('/a').catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'RATE_LIMITED', status: 429, retryAfter: 3_600_000, attempts: 1 })
    expect((error as Error).message).toMatch(
      /asked to wait 3600 s \(Retry-After\), more than maxRetryAfter \(60 s\)/,
    )
    const refused = await api.get('/b').catch((e: unknown) => e)
    expect(refused).toMatchObject({ code: 'RATE_LIMITED', attempts: 0 })
    expect(s.seen).toHaveLength(1)
    await clock.advance(3_600_000)
    expect((await api.get('/c')).status).toBe(200)
  })
})

describe('without adaptive limits', () => {
  test('a Retry-After beyond maxRetryAfter still fails at once instead of sleeping', async () => {
    const clock = createManualClock()
    const s = await scripted([503, { 'retry-after': '7200' }])
    await using api = createClient({ baseUrl: s.url, clock, adaptive: false, maxRetryAfter: '10s' })
    const error = await api.get('/a').catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'RATE_LIMITED', status: 503, retryAfter: 7_200_000, attempts: 1 })
  })
})
