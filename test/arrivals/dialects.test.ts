import { describe, expect, test } from 'vitest'
import { createClient } from '../../src/http/client.js'
import { type MockServer, startMockServer } from '../../src/mock/index.js'
import { type ChatSpec, chargeOf, chatCompletions } from '../support/chats.js'
import { type Dialect, judgeArrivals, startExactServer } from '../support/far-api.js'

/**
 * Issue 12: a client told nothing learns the limit from the headers, in the server's own dialect.
 * Servers that enforce 5/s exactly on arrival and speak one dialect each; real time, judged at the
 * server. Until the first response is read nothing holds the client back, so only the first
 * window may draw refusals. The job takes at most 130% of the ideal time: the quota used is at
 * least 1 / 1.3 of it.
 */
const LIMIT = 5
const WINDOW_MS = 1000
const GETS = 30

describe('a client with no rate, against a server that announces 5/s in its own dialect', () => {
  test.for<Dialect>(['ietf', 'openai', 'anthropic'])(
    '%s: no refusal after the first window, and the job within 130% of the ideal time',
    async (dialect, context) => {
      await using server = await startExactServer({ limit: LIMIT, windowMs: WINDOW_MS, announce: dialect })
      await using api = createClient({ baseUrl: server.url, concurrency: 2 })
      const results = await api.all(Array.from({ length: GETS }, (_, i) => `/items/${i}`))
      expect(results.every((r) => r.ok)).toBe(true)
      const judged = await judgeArrivals(context, server, { limit: LIMIT, windowMs: WINDOW_MS })
      expect(judged.refusedAfterFirstWindow).toBe(0)
      expect(judged.accepted).toBe(GETS)
      expect(judged.quotaUse).toBeGreaterThanOrEqual(1 / 1.3)
    },
  )

  // GitHub, X and Discord say no window: theirs are fixed, and reset whole at x-ratelimit-reset
  // (epoch seconds; Discord also says it as seconds from now). The client keeps the server's count:
  // what is left until the reset, then the whole limit.
  test.for<{ dialect: Dialect; concurrency: number; gets: number }>([
    { dialect: 'github', concurrency: 2, gets: GETS },
    { dialect: 'github', concurrency: 16, gets: 60 },
    { dialect: 'x', concurrency: 2, gets: GETS },
    { dialect: 'discord', concurrency: 2, gets: GETS },
  ])(
    '$dialect (fixed windows, no window said), concurrency $concurrency: no refusal after the first window, and the job within 130% of the ideal time',
    async ({ dialect, concurrency, gets }, context) => {
      await using server = await startExactServer({
        limit: LIMIT,
        windowMs: WINDOW_MS,
        announce: dialect,
        fixed: true,
      })
      await using api = createClient({ baseUrl: server.url, concurrency })
      const results = await api.all(Array.from({ length: gets }, (_, i) => `/items/${i}`))
      expect(results.every((r) => r.ok)).toBe(true)
      const judged = await judgeArrivals(context, server, { limit: LIMIT, windowMs: WINDOW_MS })
      expect(judged.refusedAfterFirstWindow).toBe(0)
      expect(judged.accepted).toBe(gets)
      expect(judged.quotaUse).toBeGreaterThanOrEqual(1 / 1.3)
    },
  )
})

describe("a client with no rate, against the mock's github profile (5 per fixed 1 s window)", () => {
  test('no refusal after the first window, and the job within 130% of the ideal time', async (context) => {
    await using server = await startMockServer({
      profile: { name: 'github', requests: `${LIMIT}/s` },
      recordArrivals: true,
    })
    await using api = createClient({ baseUrl: server.url, concurrency: 2 })
    const results = await api.all(Array.from({ length: GETS }, (_, i) => `/items/${i}`))
    expect(results.every((r) => r.ok)).toBe(true)
    const { all, admitted } = server.arrivals()
    const late = (at: number) => at >= all[0]! + WINDOW_MS
    // The ideal: a whole window's quota at once, then one more window per LIMIT requests.
    const seconds = (admitted.at(-1)! - admitted[0]!) / 1000
    const use = admitted.length / (LIMIT * (seconds + 1))
    context.annotate(
      `${all.length - admitted.length} refused; ${admitted.length} admitted in ${seconds.toFixed(2)} s: ${(use * 100).toFixed(1)}% of the quota`,
    )
    expect(all.filter(late).length - admitted.filter(late).length).toBe(0)
    expect(use).toBeGreaterThanOrEqual(1 / 1.3)
  })
})

describe("a client with no rate, against the mock's LLM profiles (5 requests/s)", () => {
  test.for([
    { name: 'openai' as const, path: '/v1/chat/completions' },
    { name: 'anthropic' as const, path: '/v1/messages' },
  ])(
    '$name: learns 5/s from the headers: only the requests in flight before the first answer may be refused',
    async ({ name, path }) => {
      await using server = await startMockServer({ profile: { name, requests: '5/s', tokens: '100000/s' } })
      await using api = createClient({ baseUrl: server.url, concurrency: 2 })
      const body = { model: 'm', max_tokens: 100, messages: [{ role: 'user', content: 'Summarise this.' }] }
      const results = await api.all(
        Array.from({ length: GETS }, () => ({ method: 'POST', url: path, json: body })),
      )
      expect(results.every((r) => r.ok)).toBe(true)
      const stats = server.stats()
      // Only the requests sent before the first answer was read can go over: at most `concurrency`.
      expect(stats.rateLimited).toBeLessThanOrEqual(2)
      expect(stats.maxWindowAdmitted).toBeLessThanOrEqual(LIMIT)
    },
  )
})

describe("GitHub's secondary limit, against the mock's github profile (more than 2 in flight is refused)", () => {
  test('a 403 that says it is a secondary limit pauses the whole origin for its Retry-After, then the request is retried', async (context) => {
    // A sixtieth of the minute: Retry-After 1 s.
    await using server = await startMockServer({
      profile: { name: 'github', requests: '1000/min', secondary: 2 },
      recordArrivals: true,
    })
    await using api = createClient({ baseUrl: server.url, concurrency: 3, retry: 9 })
    const results = await api.all(Array.from({ length: 6 }, () => '/delay/100'))
    expect(results.every((r) => r.ok)).toBe(true)
    const { all, admitted } = server.arrivals()
    const refusedAt = all.filter((at) => !admitted.includes(at))
    context.annotate(
      `${all.length} arrivals, refused at ${refusedAt.map((t) => Math.round(t - all[0]!)).join(', ')} ms`,
    )
    expect(refusedAt.length).toBeGreaterThan(0)
    // Nothing reaches the server while the origin is paused: from the moment the client has read
    // the refusal (a few ms: what was already sent still arrives) to the end of the second it said.
    for (const at of refusedAt) {
      expect(all.filter((t) => t > at + 20 && t < at + 1000 - 20)).toEqual([])
    }
  })
})

describe("a client with no rate, against the mock's Shopify profile (a bucket of 100 leaking 5/s)", () => {
  // Shopify's bucket leaks its size in 20 s (40 at 2/s, 400 at 20/s): 100 at 5/s keeps that and a short test.
  const BUCKET = 100
  const LEAK_PER_S = 5
  const CALLS = 130

  test('no refusal but of the first requests in flight, and the job within 130% of the ideal time', async (context) => {
    await using server = await startMockServer({
      profile: { name: 'shopify', requests: `${LEAK_PER_S}/s`, bucket: BUCKET },
      recordArrivals: true,
    })
    const concurrency = 4
    await using api = createClient({ baseUrl: server.url, concurrency })
    const results = await api.all(Array.from({ length: CALLS }, (_, i) => `/items/${i}`))
    expect(results.every((r) => r.ok)).toBe(true)
    const { admitted } = server.arrivals()
    // Ideal: the bucket's size at once, then one call per leak.
    const ideal = ((CALLS - BUCKET) / LEAK_PER_S) * 1000
    const took = admitted.at(-1)! - admitted[0]!
    const { rateLimited } = server.stats()
    context.annotate(
      `refused ${rateLimited}, ${admitted.length} admitted in ${took.toFixed(0)} ms at the server: ${((took / ideal) * 100).toFixed(1)}% of the ideal ${ideal} ms`,
    )
    expect(rateLimited).toBeLessThanOrEqual(concurrency)
    expect(admitted).toHaveLength(CALLS)
    expect(took).toBeLessThanOrEqual(1.3 * ideal)
  })
})

describe('a token budget learned from the headers (OpenAI profile: 100 requests/s, 3,000 tokens/s)', () => {
  /** 60 chat calls of random sizes, the same every time. */
  const chats = () => chatCompletions(60, 7)

  // The mock charges up front and settles to the usage after, so `remaining` hides a low estimate:
  // the 429s it draws scale the estimates up (x1.25 once per window), and what the server says is
  // left corrects the count.
  test('estimates 30% low: at most 4 of 60 calls refused, the estimates scaled up by the refusals', async (context) => {
    await using server = await startMockServer({
      profile: { name: 'openai', requests: '100/s', tokens: '3000/s' },
      seed: 2,
    })
    await using api = createClient({
      baseUrl: server.url,
      concurrency: 4,
      cost: (spec) => ({ tokens: 0.7 * chargeOf((spec as ChatSpec).json) }),
    })
    const results = await api.all(chats())
    // POSTs are not retried: a 429 fails its call.
    const refused = results.filter((r) => !r.ok).length
    context.annotate(`${refused} of 60 calls refused`)
    expect(refused).toBeLessThanOrEqual(4)
    expect(server.stats().rateLimited).toBeLessThanOrEqual(4)
  })

  /**
   * The share of the budget charged from the first admitted request to the last (one window's
   * worth is available at the start), as the server charges it: up front.
   */
  const budgetUse = (server: MockServer, budget: number) => {
    const { admitted } = server.arrivals()
    const seconds = (admitted.at(-1)! - admitted[0]!) / 1000
    return { use: server.stats().tokens.charged / (budget * (seconds + 1)), seconds }
  }

  test.for([
    { estimates: 'exact', off: [1] },
    // Every third 30% low, every third 30% high (right on average): the calls in flight together
    // make up for each other, and what the server says is left corrects the count.
    { estimates: '30% off', off: [0.7, 1.3, 1] },
  ])(
    'estimates $estimates: no 429 after the first window, and at least 90% of the budget used',
    async ({ off }, context) => {
      const budget = 3000
      await using server = await startMockServer({
        profile: { name: 'openai', requests: '100/s', tokens: `${budget}/s` },
        recordArrivals: true,
        seed: 1,
      })
      await using api = createClient({
        baseUrl: server.url,
        concurrency: 4,
        cost: (spec) => {
          const json = (spec as ChatSpec).json
          return { tokens: off[json.max_tokens % off.length]! * chargeOf(json) }
        },
      })
      const results = await api.all(chats())
      const { all, admitted } = server.arrivals()
      const late = (at: number) => at >= all[0]! + 1000
      const refusedLate = all.filter(late).length - admitted.filter(late).length
      const { use, seconds } = budgetUse(server, budget)
      context.annotate(
        `${server.stats().rateLimited} refused (${refusedLate} after the first window); charged ${server.stats().tokens.charged} tokens in ${seconds.toFixed(2)} s: ${(use * 100).toFixed(1)}% of the budget`,
      )
      expect(refusedLate).toBe(0)
      // Four calls in flight cannot overfill the first window either: every call succeeds.
      expect(results.every((r) => r.ok)).toBe(true)
      // Measured 91-92% in both: FIFO leaves a part of each window unused
      // when the next call does not fit (lighter calls behind it may pass; see Overtaking), and
      // each window is 20 ms longer than the server's.
      expect(use).toBeGreaterThanOrEqual(0.9)
    },
  )
})
