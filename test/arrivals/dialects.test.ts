import { describe, expect, test } from 'vitest'
import { createClient } from '../../src/http/client.js'
import { startMockServer } from '../../src/mock/index.js'
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
      const judged = judgeArrivals(context, server, { limit: LIMIT, windowMs: WINDOW_MS })
      expect(judged.refusedAfterFirstWindow).toBe(0)
      expect(judged.accepted).toBe(GETS)
      expect(judged.quotaUse).toBeGreaterThanOrEqual(1 / 1.3)
    },
  )

  // GitHub says no window (an hour, fixed): what is left and when it resets brake the client.
  test('github (X-RateLimit-*, no window said): no refusal after the first window', async (context) => {
    await using server = await startExactServer({ limit: LIMIT, windowMs: WINDOW_MS, announce: 'github' })
    await using api = createClient({ baseUrl: server.url, concurrency: 2 })
    const results = await api.all(Array.from({ length: GETS }, (_, i) => `/items/${i}`))
    expect(results.every((r) => r.ok)).toBe(true)
    const judged = judgeArrivals(context, server, { limit: LIMIT, windowMs: WINDOW_MS })
    expect(judged.refusedAfterFirstWindow).toBe(0)
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
