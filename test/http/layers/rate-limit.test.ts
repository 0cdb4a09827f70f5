import { describe, expect, test } from 'vitest'
import type { ClientEvents } from '../../../src/http/events.js'
import { rateLimitLayer } from '../../../src/http/layers/rate-limit.js'
import { answer, scripted, testCall } from './fixtures.js'

function layer(adaptive: boolean) {
  const fixture = testCall()
  const pauses: ClientEvents['pause'][] = []
  fixture.emitter.on('pause', (e) => pauses.push(e))
  const make = rateLimitLayer({
    adaptive,
    clock: fixture.clock,
    emitter: fixture.emitter,
    maxRetryAfter: 60_000,
  })
  return { ...fixture, make, pauses }
}

describe('rate-limit layer', () => {
  test('the Retry-After of a 429 or 503 travels with the answer; adaptive, it pauses the origin', async () => {
    const { call, make, pauses } = layer(true)
    const told = await make(scripted([answer(429, { 'retry-after': '2' })]))(call)
    expect(told.retryAfter).toBe(2000)
    expect(pauses).toEqual([{ origin: 'https://api.test', ms: 2000, reason: 'retry-after', status: 429 }])
    expect(call.state.limiter.stats().nextStartIn).toBe(2000)

    const other = await make(scripted([answer(500, { 'retry-after': '2' })]))(call)
    expect(other.retryAfter).toBeUndefined()
  })

  test('not adaptive: the Retry-After is read, nothing is paused', async () => {
    const { call, make, pauses } = layer(false)
    expect((await make(scripted([answer(503, { 'retry-after': '1' })]))(call)).retryAfter).toBe(1000)
    expect(pauses).toEqual([])
    expect(call.state.limiter.stats().nextStartIn).toBe(0)
  })

  test.each([true, false])(
    'a Retry-After past maxRetryAfter fails at once (adaptive: %s), and adaptive blocks the origin until then',
    async (adaptive) => {
      const { call, clock, make } = layer(adaptive)
      const next = scripted([answer(429, { 'retry-after': '3600' }), answer(200)])
      await expect(make(next)(call)).rejects.toMatchObject({
        code: 'RATE_LIMITED',
        retryAfter: 3_600_000,
        message: expect.stringMatching(
          /asked to wait 3600 s \(Retry-After\), more than maxRetryAfter \(60 s\)/,
        ),
      })
      const again = make(next)(call)
      if (adaptive) {
        await expect(again).rejects.toMatchObject({ code: 'RATE_LIMITED', attempts: 0 })
        expect(next.calls).toBe(1)
        await clock.advance(3_600_000)
        expect((await make(next)(call)).status).toBe(200)
      } else {
        expect((await again).status).toBe(200)
      }
    },
  )

  test("counts the origin's requests in flight while they are on the wire", async () => {
    const { call, make } = layer(true)
    let seen = -1
    await make(async (c) => {
      seen = c.state.inFlight
      return answer(200)
    })(call)
    expect(seen).toBe(1)
    expect(call.state.inFlight).toBe(0)
  })
})
