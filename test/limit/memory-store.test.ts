import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { memoryStore } from '../../src/limit/memory-store.js'
import { CATCH_UP, paceSpacing } from '../../src/limit/pace.js'
import { maxInWindow, paceExcess } from '../support/clock.js'
import { policy } from '../support/policy.js'

/** The definition, computed the slow way: starts inside (now - interval, now] plus `cost` must fit. */
function naiveWait(starts: number[], limit: number, interval: number, cost: number, now: number): number {
  const inWindow = starts.filter((at) => at + interval > now).sort((a, b) => a - b)
  const excess = inWindow.length + cost - limit
  return excess <= 0 ? 0 : inWindow[excess - 1]! + interval - now
}

describe('memory store', () => {
  it('answers exactly what the sliding-window definition says, windows lengthened by the rate margin, for limits past its initial capacity', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 0, max: 100 }),
        fc.array(fc.record({ gap: fc.integer({ min: 0, max: 40 }), cost: fc.integer({ min: 1, max: 5 }) }), {
          maxLength: 400,
        }),
        (limit, interval, rateMargin, steps) => {
          const store = memoryStore()
          const limits = policy(Number.POSITIVE_INFINITY, [[limit, interval]], { rateMargin })
          const starts: number[] = []
          let now = 0
          for (const step of steps) {
            now += step.gap
            const cost = Math.min(step.cost, limit)
            const expected = naiveWait(starts, limit, interval + rateMargin, cost, now)
            expect(store.peek('k', limits, cost, now)).toBe(expected)
            expect(store.acquire('k', limits, cost, now)).toBe(expected)
            if (expected === 0) for (let i = 0; i < cost; i++) starts.push(now)
            store.release('k')
          }
        },
      ),
      { numRuns: 200 },
    )
  })

  it('paces starts when smooth: however late they come, never two at once, every window held', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 0, max: 20 }),
        // Lateness in quarter spacings (0 to 7 spacings): a late timer, a busy event loop, idleness.
        fc.array(fc.record({ late: fc.integer({ min: 0, max: 28 }), cost: fc.integer({ min: 1, max: 3 }) }), {
          maxLength: 150,
        }),
        (limit, spacing, margin, steps) => {
          // Whole-ms spacings keep every time an integer, so the checks below see no float noise.
          const rateMargin = Math.min(margin, spacing * limit - 1)
          const interval = spacing * limit - rateMargin
          const limits = policy(Number.POSITIVE_INFINITY, [[limit, interval]], { rateMargin, smooth: true })
          expect(paceSpacing(limits.rates[0]!, rateMargin)).toBe(spacing)
          const store = memoryStore()
          const starts: { at: number; cost: number }[] = []
          let now = 0
          for (const step of steps) {
            const cost = Math.min(step.cost, limit)
            now += store.peek('k', limits, cost, now) + (step.late * spacing) / 4
            expect(store.acquire('k', limits, cost, now)).toBe(0)
            starts.push({ at: now, cost })
            store.release('k')
          }
          // Under 1: no two paced starts ever happen at once, however late they come.
          expect(paceExcess(starts, spacing)).toBeLessThan(1)
          const expanded = starts.flatMap((start) => Array<number>(start.cost).fill(start.at))
          expect(maxInWindow(expanded, interval + rateMargin)).toBeLessThanOrEqual(limit)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('catches up with the pace after a late start, and starts it again from now after idling', () => {
    const store = memoryStore()
    const limits = policy(Number.POSITIVE_INFINITY, [[100, 1000]], { smooth: true })
    // 10 ms spacing: the schedule after a start at 0 says 10.
    expect(store.acquire('k', limits, 1, 0)).toBe(0)
    expect(store.acquire('k', limits, 1, 5)).toBe(5)
    // 7 ms late: the schedule moves on from 10, not from 17, so the next start may come 3 ms later.
    expect(store.acquire('k', limits, 1, 17)).toBe(0)
    expect(store.acquire('k', limits, 1, 17)).toBe(3)
    expect(store.acquire('k', limits, 1, 20)).toBe(0)
    // CATCH_UP spacings late or more (idle): the schedule starts again from now.
    expect(store.acquire('k', limits, 1, 30 + CATCH_UP * 10)).toBe(0)
    expect(store.acquire('k', limits, 1, 30 + CATCH_UP * 10)).toBe(10)
  })

  it('moves the pace with a restamped start, so a late start is not followed at once', () => {
    const store = memoryStore()
    const limits = policy(Number.POSITIVE_INFINITY, [[10, 1000]], { smooth: true })
    expect(store.acquire('k', limits, 1, 0)).toBe(0)
    // The task decided at 0 really began at 300 (a stalled event loop): the next waits 100 from there.
    store.restamp('k', 0, 300)
    expect(store.acquire('k', limits, 1, 300)).toBe(100)
  })

  it('leaves the pace where it was when a start that caught up with it goes out within its allowance', () => {
    const store = memoryStore()
    const limits = policy(Number.POSITIVE_INFINITY, [[10, 1000]], { smooth: true })
    // 100 ms spacing: the start at 100 caught up with the schedule after the one at 0.
    expect(store.acquire('k', limits, 1, 0)).toBe(0)
    expect(store.acquire('k', limits, 1, 100)).toBe(0)
    // It went out 3 ms after its turn: the schedule stays at 200, as if it had been sent at 100
    // (3 ms per start would otherwise add up: 3% of the pace at this spacing).
    store.restamp('k', 100, 103)
    expect(store.acquire('k', limits, 1, 200)).toBe(0)
    // Past the allowance (one spacing after the schedule it waited for), the pace moves with it.
    store.restamp('k', 200, 320)
    expect(store.acquire('k', limits, 1, 320)).toBe(100)
  })

  it('moves the pace with an earlier start sent after a newer one was granted (a cold connection)', () => {
    const store = memoryStore()
    const limits = policy(Number.POSITIVE_INFINITY, [[10, 1000]], { smooth: true })
    expect(store.acquire('k', limits, 1, 0)).toBe(0)
    expect(store.acquire('k', limits, 1, 100)).toBe(0)
    expect(store.acquire('k', limits, 1, 200)).toBe(0)
    // The start of 100 went out at 250, after the one of 200 was granted: the next waits 50 more.
    store.restamp('k', 100, 250)
    expect(store.acquire('k', limits, 1, 300)).toBe(50)
  })

  it('keeps the starts a longer window of another limiter on the key still counts', () => {
    const store = memoryStore()
    const withMargin = policy(Number.POSITIVE_INFINITY, [[1, 1000]], { rateMargin: 50 })
    const exact = policy(Number.POSITIVE_INFINITY, [[1, 1000]])
    expect(store.acquire('k', withMargin, 1, 0)).toBe(0)
    // The exact limiter only looks at 1010; the start at 0 must stay for the other's 1050 window.
    expect(store.peek('k', exact, 1, 1010)).toBe(0)
    expect(store.acquire('k', withMargin, 1, 1020)).toBe(30)
  })

  it('refuses a cost above a rate limit instead of reading past its window', () => {
    const store = memoryStore()
    expect(() => store.acquire('k', policy(Number.POSITIVE_INFINITY, [[2, 1000]]), 5, 0)).toThrow(
      /memoryStore: cost 5 exceeds the rate 2\/1s/,
    )
  })

  it('holds a huge limit without allocating for it up front', () => {
    const store = memoryStore()
    const limits = policy(Number.POSITIVE_INFINITY, [[1e9, 1000]])
    const before = process.memoryUsage().arrayBuffers
    for (let i = 0; i < 1000; i++) expect(store.acquire('k', limits, 1, i / 10)).toBe(0)
    // A ring sized to the limit would be 8 GB; what is held is the 1,000 starts in the window.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1024 * 1024)
  })

  it('counts concurrency across acquire and release, and reports Infinity while every slot is taken', () => {
    const store = memoryStore()
    const limits = policy(2)
    expect(store.acquire('k', limits, 1, 0)).toBe(0)
    expect(store.acquire('k', limits, 1, 0)).toBe(0)
    expect(store.acquire('k', limits, 1, 0)).toBe(Number.POSITIVE_INFINITY)
    store.release('k')
    expect(store.acquire('k', limits, 1, 0)).toBe(0)
  })

  it('keeps keys apart and lets a pause hold only its own key', () => {
    const store = memoryStore()
    const limits = policy(Number.POSITIVE_INFINITY, [[1, 1000]])
    store.pause('a', 500, 0)
    expect(store.acquire('a', limits, 1, 100)).toBe(400)
    expect(store.acquire('b', limits, 1, 100)).toBe(0)
  })
})
