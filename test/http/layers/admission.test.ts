import { describe, expect, test } from 'vitest'
import { admissionLayer } from '../../../src/http/layers/admission.js'
import { answer, testCall } from './fixtures.js'

describe('admission layer', () => {
  test("each pass is one attempt, started by the origin's limiter when its rate allows", async () => {
    const { call, clock } = testCall({ limits: { rate: '1/s' } })
    const starts: number[] = []
    const send = admissionLayer({ clock, isClosed: () => false })(async () => {
      starts.push(clock.now())
      return answer(200)
    })
    const first = send(call)
    const second = send(call)
    await clock.advance(1000)
    await Promise.all([first, second])
    expect(starts).toEqual([0, 1000])
    expect(call.attempts).toBe(2)
    expect(call.state.limiter.stats().started).toBe(2)
  })

  test('an aborted wait names the request and the attempts it had made', async () => {
    const { call, clock } = testCall({ limits: { rate: '1/s' } })
    const send = admissionLayer({ clock, isClosed: () => false })(async () => answer(200))
    await send(call)
    const aborting = new AbortController()
    Object.defineProperty(call, 'runOptions', { value: { signal: aborting.signal } })
    const waiting = send(call)
    aborting.abort()
    await expect(waiting).rejects.toMatchObject({
      code: 'ABORTED',
      attempts: 1,
      message: expect.stringMatching(/^GET https:\/\/api\.test\/items /),
    })
  })

  test("a 2xx answer's usage settles the budget, down or up; an error status keeps the estimate", async () => {
    const used = [300, 1200]
    const statuses = [200, 200, 500]
    const { call, clock } = testCall({ limits: { rate: '1000 tokens/s' }, cost: { tokens: 800 } })
    const send = admissionLayer({
      clock,
      isClosed: () => false,
      usage: (response) => {
        expect(response.status).toBe(200)
        return { tokens: used.shift()! }
      },
    })(async () => answer(statuses.shift()!))
    await send(call)
    // The window counts the 300 it used, not the 800 it was estimated at.
    expect(call.state.limiter.usedIn('tokens')).toBe(300)
    await clock.advance(1000)
    await send(call)
    expect(call.state.limiter.usedIn('tokens')).toBe(1200)
    await clock.advance(1000)
    await send(call)
    expect(call.state.limiter.usedIn('tokens')).toBe(800)
  })

  test('a closed client starts no attempt', async () => {
    const { call, clock } = testCall()
    let sent = 0
    const send = admissionLayer({ clock, isClosed: () => true })(async () => {
      sent++
      return answer(200)
    })
    await expect(send(call)).rejects.toMatchObject({
      code: 'CLOSED',
      message: 'Client: closed before attempt 1 of GET https://api.test/items',
    })
    expect(sent).toBe(0)
  })

  test('an error of the attempt itself is passed on as it is', async () => {
    const { call, clock } = testCall()
    const failure = new Error('from below')
    const send = admissionLayer({ clock, isClosed: () => false })(() => Promise.reject(failure))
    await expect(send(call)).rejects.toBe(failure)
  })
})
