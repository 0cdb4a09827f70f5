import { describe, expect, it } from 'vitest'
import { Origins, OriginState } from '../../src/http/origins.js'
import { createLimiter } from '../../src/limit/limiter.js'
import { memoryStore } from '../../src/limit/memory-store.js'
import type { LimiterStore } from '../../src/limit/store.js'
import { createManualClock } from '../../src/limit/clock.js'
import { resolveLimits } from '../../src/limit/limits.js'

// The client's per-origin states, on a manual clock: what is forgotten, when, and what never is.

function origins(options: { rate?: string; baseOrigin?: string; pinned?: string[] } = {}) {
  const clock = createManualClock()
  const list = new Origins({
    baseOrigin: options.baseOrigin,
    pinned: options.pinned ?? [],
    limiter: undefined,
    limits: resolveLimits({ rate: options.rate, clock }, 'test'),
  })
  const names = () => list.all().map((state) => state.origin)
  /** One finished request to `origin`. */
  const request = (origin: string) => list.release(list.use(origin))
  return { clock, list, names, request }
}

const host = (i: number) => `https://host-${i}.example`

describe('Origins', () => {
  it('forgets origins idle for a minute when a later new origin sweeps, and closes their limiters', async () => {
    const { clock, list, names, request } = origins()
    request(host(1))
    const limiter = list.all()[0]!.limiter
    await clock.advance(59_999)
    request(host(2))
    expect(names()).toEqual([host(1), host(2)])
    // Sweeps run at most every 10 s, when an origin is created.
    await clock.advance(10_000)
    request(host(3))
    expect(names()).toEqual([host(2), host(3)])
    await expect(limiter.run(() => 1)).rejects.toMatchObject({ code: 'CLOSED' })
  })

  it('keeps an origin while a request holds it, however long', async () => {
    const { clock, list, names, request } = origins()
    const held = list.use(host(1))
    await clock.advance(10 * 60_000)
    request(host(2))
    expect(names()).toContain(host(1))
    list.release(held)
    await clock.advance(60_000)
    request(host(3))
    expect(names()).not.toContain(host(1))
  })

  it('keeps an origin until its longest window has passed, so its starts keep counting', async () => {
    const { clock, names, request } = origins({ rate: '10/5min' })
    request(host(1))
    await clock.advance(5 * 60_000 - 1)
    request(host(2))
    expect(names()).toContain(host(1))
    await clock.advance(10_000)
    request(host(3))
    expect(names()).not.toContain(host(1))
  })

  it('keeps a paused origin until the pause ends', async () => {
    const { clock, list, names, request } = origins()
    const state = list.use(host(1))
    await state.limiter.pause(90_000)
    list.release(state)
    await clock.advance(89_999)
    request(host(2))
    expect(names()).toContain(host(1))
    await clock.advance(10_000)
    request(host(3))
    expect(names()).not.toContain(host(1))
  })

  it('never forgets the baseUrl origin, the pinned ones, or one whose limiter was handed out', async () => {
    const { clock, list, names, request } = origins({ baseOrigin: host(1), pinned: [host(2)] })
    request(host(1))
    request(host(2))
    list.pin(host(3))
    request(host(4))
    await clock.advance(10 * 60_000)
    request(host(5))
    expect(names()).toEqual([host(1), host(2), host(3), host(5)])
  })

  it('remembers the quota a forgotten origin had learned, and enforces it on the next visit', async () => {
    const { clock, list, names, request } = origins()
    const state = list.use(host(1))
    state.learn(
      [{ limit: 5, window: 1000, unit: 'requests' }],
      [{ unit: 'requests', remaining: 5, reset: undefined }],
      clock.now(),
    )
    state.widen(clock.now())
    list.release(state)
    await clock.advance(70_000)
    request(host(2))
    expect(names()).not.toContain(host(1))
    const again = list.use(host(1))
    // The learned 5 per second, with the margin it had widened to (4%: 1,040 ms), before any response.
    expect(again.limiter.policy.rates).toEqual([{ limit: 5, interval: 1040 }])
    list.release(again)
  })

  it('keeps a crawl over 20,000 origins to the ones used in the last minute or so', async () => {
    const { clock, list, request } = origins({ rate: '5/s' })
    let most = 0
    for (let i = 0; i < 20_000; i++) {
      request(host(i))
      most = Math.max(most, list.all().length)
      await clock.advance(100)
    }
    // One new origin per 100 ms: a minute of them, plus up to one sweep interval (10 s) more.
    expect(most).toBeLessThanOrEqual(701)
    expect(most).toBeGreaterThanOrEqual(600)
  })
})

describe('OriginState.widen', () => {
  const quota = [{ limit: 5, window: 1000, unit: 'requests' as const }]
  const widened = (store: LimiterStore | undefined) => {
    const clock = createManualClock()
    const state = new OriginState('https://api.test', createLimiter({ clock, store }), true)
    state.learn(quota, [], clock.now())
    state.widen(clock.now())
    return state.limiter.policy.rates
  }

  it('doubles the learned margin in memory, and keeps it in a store shared with other processes', () => {
    expect(widened(undefined)).toEqual([{ limit: 5, interval: 1040 }])
    // A longer window would be another list in Redis, no longer shared with the other processes.
    const memory = memoryStore()
    const shared: LimiterStore = {
      synchronous: false,
      acquire: async (...args) => memory.acquire(...args),
      release: async (key) => memory.release(key),
      pause: async (...args) => memory.pause(...args),
      peek: async (...args) => memory.peek(...args),
    }
    expect(widened(shared)).toEqual([{ limit: 5, interval: 1020 }])
  })
})
