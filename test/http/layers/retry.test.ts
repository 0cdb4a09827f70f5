import { describe, expect, test } from 'vitest'
import type { ClientEvents } from '../../../src/http/events.js'
import { NetworkError, TimeoutError } from '../../../src/http/errors.js'
import { retryLayer } from '../../../src/http/layers/retry.js'
import { resolveRetry } from '../../../src/http/retry.js'
import { answer, scripted, testCall } from './fixtures.js'

function layer(options: { adaptive?: boolean; closing?: AbortSignal } = {}) {
  const { call, clock, emitter } = testCall()
  const retries: ClientEvents['retry'][] = []
  emitter.on('retry', (e) => retries.push(e))
  const make = retryLayer({
    policy: resolveRetry({ attempts: 3, backoff: { base: 100, max: 1000 } }),
    adaptive: options.adaptive ?? true,
    clock,
    random: () => 0.5,
    emitter,
    closing: options.closing ?? new AbortController().signal,
  })
  return { call, clock, make, retries }
}

const info = { method: 'GET', url: 'https://api.test/items', attempts: 1, ms: 0 }

describe('retry layer', () => {
  test('a retryable status is sent again after the jittered backoff, up to the attempts', async () => {
    const { call, clock, make, retries } = layer()
    const next = scripted([answer(500), answer(500), answer(500)])
    const settled = make(next)(call)
    await clock.advance(49)
    expect(next.calls).toBe(1)
    await clock.advance(1) // 0.5 * 100
    expect(next.calls).toBe(2)
    await clock.advance(100) // 0.5 * 200
    expect((await settled).status).toBe(500)
    expect(next.calls).toBe(3)
    expect(retries.map((r) => [r.attempt, r.delay, r.source, r.reason])).toEqual([
      [1, 50, 'backoff', 'status 500'],
      [2, 100, 'backoff', 'status 500'],
    ])
  })

  test('a status outside the policy, and a success, are answers at once', async () => {
    for (const status of [200, 404]) {
      const { call, make } = layer()
      const next = scripted([answer(status)])
      expect((await make(next)(call)).status).toBe(status)
      expect(next.calls).toBe(1)
    }
  })

  test('timeouts and broken connections are retried; an other error is final', async () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })
    const { call, clock, make, retries } = layer()
    const next = scripted([
      new TimeoutError({ ...info, timeout: 5 }),
      new NetworkError(info, reset),
      answer(200),
    ])
    const settled = make(next)(call)
    await clock.advance(1000)
    expect((await settled).status).toBe(200)
    expect(retries.map((r) => r.reason)).toEqual(['TIMEOUT', 'NETWORK ECONNRESET'])

    const final = layer()
    const fatal = new Error('not retryable')
    await expect(make(scripted([fatal]))(final.call)).rejects.toBe(fatal)
  })

  test("a Retry-After is the delay; adaptive, the origin's pause does the waiting", async () => {
    const told = { ...answer(429), retryAfter: 3000 }
    const adaptive = layer({ adaptive: true })
    const next = scripted([told, answer(200)])
    const settled = adaptive.make(next)(adaptive.call)
    await adaptive.clock.flush()
    expect(next.calls).toBe(2) // no sleep of its own
    expect((await settled).status).toBe(200)
    expect(adaptive.retries[0]).toMatchObject({ delay: 3000, source: 'retry-after' })

    const plain = layer({ adaptive: false })
    const again = scripted([told, answer(200)])
    const waiting = plain.make(again)(plain.call)
    await plain.clock.advance(2999)
    expect(again.calls).toBe(1)
    await plain.clock.advance(1)
    expect((await waiting).status).toBe(200)
  })

  test.each([true, false])(
    'a 429 with Retry-After: 0 waits the floor, adaptive (%s) or not: never straight back',
    async (adaptive) => {
      const { call, clock, make, retries } = layer({ adaptive })
      const next = scripted([{ ...answer(429), retryAfter: 0 }, answer(200)])
      const settled = make(next)(call)
      await clock.advance(74) // floor for retry 1 at random 0.5: 100 / 2 + 0.5 * 100 / 2 = 75
      expect(next.calls).toBe(1)
      await clock.advance(1)
      expect((await settled).status).toBe(200)
      expect(retries[0]).toMatchObject({ delay: 75, source: 'backoff', status: 429 })
    },
  )

  test('closing the client ends a backoff at once', async () => {
    const closing = new AbortController()
    const { call, clock, make } = layer({ closing: closing.signal })
    const next = scripted([answer(503), answer(200)])
    const settled = make(next)(call)
    await clock.flush()
    closing.abort()
    expect((await settled).status).toBe(200)
    expect(clock.now()).toBe(0)
  })
})
