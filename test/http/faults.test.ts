import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { isVolleyError } from '../../src/errors.js'
import { createClient } from '../../src/http/client.js'
import type { RequestErrorInfo } from '../../src/http/errors.js'
import type { Response } from '../../src/http/response.js'
import type { RequestSpec } from '../../src/http/spec.js'
import { type MockServer, startMockServer } from '../../src/mock/index.js'
import type { Result } from '../../src/run/result.js'

let mock: MockServer
beforeAll(async () => {
  // 10% of admitted requests misbehave: 5xx, resets, and hangs that only a timeout ends.
  mock = await startMockServer({
    seed: 42,
    faults: { '500': 0.02, '502': 0.01, '503': 0.02, reset: 0.03, hang: 0.02 },
  })
})
afterAll(() => mock.close())

const attemptsOf = (r: Result<Response, RequestSpec>) =>
  r.ok ? r.value.attempts : (r.error as unknown as RequestErrorInfo).attempts

describe('faults at 10%', () => {
  test('every request ends ok or with a typed error after its attempts; none lost, none twice; POSTs sent once', async () => {
    const errorEvents: unknown[] = []
    await using api = createClient({
      baseUrl: mock.url,
      concurrency: 32,
      timeout: 1000,
      retry: { attempts: 4, backoff: { base: 5, max: 40 } },
      on: { error: (e) => errorEvents.push(e.id) },
    })
    const gets: RequestSpec[] = Array.from({ length: 400 }, (_, i) => ({
      url: `/items/${i}`,
      id: `get-${i}`,
    }))
    const posts: RequestSpec[] = Array.from({ length: 100 }, (_, i) => ({
      url: '/anything',
      method: 'POST',
      json: { i },
      id: `post-${i}`,
    }))
    const keyed: RequestSpec[] = Array.from({ length: 100 }, (_, i) => ({
      url: '/anything/keyed',
      method: 'POST',
      json: { i },
      idempotencyKey: `key-${i}`,
      id: `keyed-${i}`,
    }))
    const specs = [...gets, ...posts, ...keyed]
    const results = await api.all(specs)
    const stats = mock.stats()

    // None lost, none twice: one Result per spec, at its own index, and one error event per failure.
    expect(results).toHaveLength(specs.length)
    expect(results.map((r) => r.index)).toEqual(specs.map((_, i) => i))
    const failed = results.filter((r) => !r.ok)
    expect(errorEvents.sort()).toEqual(failed.map((r) => (r.item as { id: string }).id).sort())
    for (const r of failed) {
      expect(isVolleyError(r.error)).toBe(true)
      expect(['HTTP', 'TIMEOUT', 'NETWORK']).toContain((r.error as unknown as { code: string }).code)
    }

    // Every attempt the client counted reached the server, and no more.
    const sum = (rs: typeof results) => rs.reduce((n, r) => n + attemptsOf(r), 0)
    expect(stats.byPath['/items/:id']).toBe(sum(results.slice(0, 400)))
    expect(results.slice(0, 400).every((r) => attemptsOf(r) <= 4)).toBe(true)
    // Faults were met and retried past: most GETs succeed, some only after several attempts.
    expect(results.slice(0, 400).filter((r) => r.ok).length).toBeGreaterThan(390)
    expect(results.slice(0, 400).some((r) => r.ok && r.value.attempts > 1)).toBe(true)

    // A POST without opt-in is sent exactly once, whatever happened to it.
    expect(stats.byPath['/anything']).toBe(100)
    expect(results.slice(400, 500).every((r) => attemptsOf(r) === 1)).toBe(true)
    expect(results.slice(400, 500).some((r) => !r.ok)).toBe(true)

    // A POST with an Idempotency-Key is retried, and the server saw each key once per attempt.
    expect(results.slice(500).map((_, i) => stats.idempotencyKeys[`key-${i}`])).toEqual(
      results.slice(500).map(attemptsOf),
    )
    expect(results.slice(500).some((r) => attemptsOf(r) > 1)).toBe(true)
  }, 30_000)
})
