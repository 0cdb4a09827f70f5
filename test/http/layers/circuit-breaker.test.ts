import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { AbortError } from '../../../src/errors.js'
import { createClient } from '../../../src/http/client.js'
import type { ClientError } from '../../../src/http/errors.js'
import { circuitBreakerLayer } from '../../../src/http/layers/circuit-breaker.js'
import type { Call, CallSend } from '../../../src/http/call.js'
import { type TinyServer, tinyServer } from '../helpers.js'
import { answer, testCall, testManyCall } from './fixtures.js'

/** A next step that answers `status`, its attempt sent at the clock's now. */
function answering(status: () => number, now: () => number): CallSend & { calls: number } {
  const send = Object.assign(
    (call: Call) => {
      send.calls++
      call.attempts++
      call.sentAt = now()
      return Promise.resolve(answer(status()))
    },
    { calls: 0 },
  )
  return send
}

describe('circuit breaker layer', () => {
  test('opens after `failures` refusals in a row, fails at once while open, then lets one probe through', async () => {
    const many = testManyCall([])
    const { call, clock } = testCall({ many })
    let status = 429
    const next = answering(() => status, clock.now)
    const send = circuitBreakerLayer({ policy: { failures: 3, cooldown: 1000 }, clock })(next)
    for (let i = 0; i < 3; i++) {
      await send(call)
      await clock.advance(10) // each attempt sent after the last refusal came back
    }
    expect(call.state.circuit.isOpen).toBe(true)
    expect((many.stop.signal.reason as AbortError).stop).toMatchObject({
      code: 'CIRCUIT_OPEN',
      origin: 'https://api.test',
    })
    await expect(send(call)).rejects.toMatchObject({
      code: 'CIRCUIT_OPEN',
      failures: 3,
      retryIn: 990,
      attempts: 3,
    })
    expect(next.calls).toBe(3)
    // After the cooldown one probe goes; while it is out, the others still fail at once.
    await clock.advance(990)
    status = 200
    const probe = send(call)
    await expect(send(call)).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' })
    expect((await probe).status).toBe(200)
    expect(call.state.circuit.isOpen).toBe(false)
    expect((await send(call)).status).toBe(200)
  })

  test('a refused probe opens it again for another cooldown', async () => {
    const { call, clock } = testCall()
    const next = answering(() => 503, clock.now)
    const send = circuitBreakerLayer({ policy: { failures: 1, cooldown: 500 }, clock })(next)
    await send(call)
    await clock.advance(500)
    await send(call)
    await clock.advance(499)
    await expect(send(call)).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' })
    expect(next.calls).toBe(2)
  })

  test('refusals of one burst already on the wire count once; a success resets the count', async () => {
    const { call, clock } = testCall()
    let status = 429
    const next = answering(
      () => status,
      () => 0,
    ) // every attempt sent at 0: one burst
    const send = circuitBreakerLayer({ policy: { failures: 2, cooldown: 1000 }, clock })(next)
    await clock.advance(5)
    for (let i = 0; i < 10; i++) await send(call)
    expect(call.state.circuit.failures).toBe(1)
    expect(call.state.circuit.isOpen).toBe(false)
    status = 200
    await send(call)
    expect(call.state.circuit.failures).toBe(0)
  })

  test('a status that is not a refusal (404, 501) never counts', async () => {
    const { call, clock } = testCall()
    const statuses = [404, 501, 404, 501]
    const next = answering(() => statuses.shift()!, clock.now)
    const send = circuitBreakerLayer({ policy: { failures: 1, cooldown: 1000 }, clock })(next)
    for (let i = 0; i < 4; i++) {
      await send(call)
      await clock.advance(1)
    }
    expect(call.state.circuit.failures).toBe(0)
  })
})

describe('a 429 storm, end to end', () => {
  let storm: TinyServer
  beforeAll(async () => {
    storm = await tinyServer((_req, res) => res.writeHead(429).end())
  })
  afterAll(() => storm.close())

  test('the circuit opens and stops the call: the server sees a few rounds, not the whole input', async () => {
    await using api = createClient({
      baseUrl: storm.url,
      concurrency: 8,
      retry: { attempts: 3, backoff: { base: 5, max: 20 } },
      circuitBreaker: { failures: 3, cooldown: '1m' },
    })
    const results = await api.all(Array.from({ length: 500 }, (_, i) => `/items/${i}`))
    // 3 counted rounds, each at most `concurrency` requests, plus what was on the wire when it opened.
    expect(storm.seen.length).toBeLessThanOrEqual(4 * 8)
    const codes = results.map((r) => (r.ok ? 'ok' : r.error.code))
    expect(codes).not.toContain('ok')
    const stopped = results.filter((r) => !r.ok && r.error.code === 'ABORTED')
    expect(stopped.length).toBeGreaterThanOrEqual(500 - 4 * 8)
    for (const r of stopped)
      expect((r.ok ? undefined : (r.error as AbortError).stop)?.code).toBe('CIRCUIT_OPEN')
    // The origin stays refused: the next request is not even sent.
    const seen = storm.seen.length
    const error = (await api.get('/again').catch((e: unknown) => e)) as ClientError
    expect(error.code).toBe('CIRCUIT_OPEN')
    expect(storm.seen.length).toBe(seen)
  })

  test('circuitBreaker: false keeps sending (the old behaviour, for APIs whose refusals are per request)', async () => {
    await using api = createClient({
      baseUrl: storm.url,
      concurrency: 4,
      retry: { attempts: 1 },
      circuitBreaker: false,
    })
    const before = storm.seen.length
    const results = await api.all(Array.from({ length: 20 }, (_, i) => `/items/${i}`))
    expect(results.every((r) => !r.ok && r.error.code === 'RATE_LIMITED')).toBe(true)
    expect(storm.seen.length - before).toBe(20)
  })
})
