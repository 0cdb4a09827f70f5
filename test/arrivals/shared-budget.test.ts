import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, test } from 'vitest'
import { startMockServer } from '../../src/mock/index.js'
import { connectRedis, deletePrefix, REDIS_URL, uniquePrefix } from '../redis/helpers.js'
import { go, killAll, startWorkers } from '../redis/workers.js'

/**
 * Issue 12: one token budget held by 3 processes through Redis. The OpenAI-style mock enforces
 * 3,000 tokens/s (and 100 requests/s, which does not bind) exactly on arrival and charges each chat
 * completion its max_tokens plus a quarter of its prompt's characters up front. Each process runs a
 * third of the job with the Redis store, costing each call its tokens. Alone, each would spend the
 * whole budget: only the shared windows keep the three under it. Real time, judged at the server.
 */
const BUDGET = 3000
const PROCESSES = ['a', 'b', 'c']
const CHATS_EACH = 20

/** The processes' chat completions, of random sizes, the same every run. */
function chats(): { method: string; url: string; json: unknown }[][] {
  let seed = 11
  const random = () => (seed = (seed * 16_807) % 2_147_483_647) / 2_147_483_647
  return PROCESSES.map(() =>
    Array.from({ length: CHATS_EACH }, () => ({
      method: 'POST',
      url: '/v1/chat/completions',
      json: {
        model: 'm',
        max_tokens: 100 + Math.floor(random() * 500),
        messages: [{ role: 'user', content: 'x'.repeat(Math.floor(random() * 800)) }],
      },
    })),
  )
}

describe('3 processes sharing a token budget through Redis, against the OpenAI-style mock', () => {
  const prefix = uniquePrefix()
  const worker = fileURLToPath(new URL('./client-worker.mjs', import.meta.url))
  afterAll(async () => {
    killAll()
    const redis = await connectRedis()
    await deletePrefix(redis, prefix)
    redis.disconnect()
  })

  test.for([
    { how: 'given by hand', rate: `${BUDGET} tokens/s`, key: 'given' },
    { how: 'learned from the headers', rate: undefined, key: 'learned' },
  ])(
    'budget $how: no 429 after the first window, and at least 80% of the budget used',
    async ({ rate, key }, context) => {
      await using server = await startMockServer({
        profile: { name: 'openai', requests: '100/s', tokens: `${BUDGET}/s` },
        recordArrivals: true,
        seed: 3,
      })
      const workers = await startWorkers(
        chats().map((specs, i) => ({
          name: PROCESSES[i],
          url: server.url,
          redisUrl: REDIS_URL,
          prefix,
          key,
          rate,
          concurrency: 4,
          specs,
        })),
        worker,
      )
      go(workers)
      const results = await Promise.all(workers.map((w) => w.done))
      const { admitted } = server.arrivals()
      const stats = server.stats()
      // Until a process reads its first answer it knows no learned budget: only the calls it sent
      // before then may be refused (a refused POST fails; it is not retried).
      const refusedKnowing = results.reduce((sum, r) => sum + r.counts.refusedKnowing!, 0)
      const seconds = (admitted.at(-1)! - admitted[0]!) / 1000
      const use = stats.tokens.charged / (BUDGET * (seconds + 1))
      context.annotate(
        `${stats.rateLimited} refused (${refusedKnowing} sent after their process's first answer); charged ${stats.tokens.charged} tokens in ${seconds.toFixed(2)} s: ${(use * 100).toFixed(1)}% of the budget`,
      )
      expect(refusedKnowing).toBe(0)
      if (rate !== undefined) {
        expect(stats.rateLimited).toBe(0)
        expect(results.map((r) => r.counts.ok)).toEqual([CHATS_EACH, CHATS_EACH, CHATS_EACH])
      }
      expect(use).toBeGreaterThanOrEqual(0.8)
    },
  )
})
