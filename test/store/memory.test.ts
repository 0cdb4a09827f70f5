import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { memoryStore } from '../../src/store/memory.js'
import type { LimitPolicy } from '../../src/store/types.js'

/** The definition, computed the slow way: starts inside (now - interval, now] plus `cost` must fit. */
function naiveWait(starts: number[], limit: number, interval: number, cost: number, now: number): number {
  const inWindow = starts.filter((at) => at + interval > now).sort((a, b) => a - b)
  const excess = inWindow.length + cost - limit
  return excess <= 0 ? 0 : inWindow[excess - 1]! + interval - now
}

describe('memory store', () => {
  it('answers exactly what the sliding-window definition says, for limits past its initial capacity', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 500 }),
        fc.array(fc.record({ gap: fc.integer({ min: 0, max: 40 }), cost: fc.integer({ min: 1, max: 5 }) }), {
          maxLength: 400,
        }),
        (limit, interval, steps) => {
          const store = memoryStore()
          const policy: LimitPolicy = { concurrency: Number.POSITIVE_INFINITY, rates: [{ limit, interval }] }
          const starts: number[] = []
          let now = 0
          for (const step of steps) {
            now += step.gap
            const cost = Math.min(step.cost, limit)
            const expected = naiveWait(starts, limit, interval, cost, now)
            expect(store.peek('k', policy, cost, now)).toBe(expected)
            expect(store.acquire('k', policy, cost, now)).toBe(expected)
            if (expected === 0) for (let i = 0; i < cost; i++) starts.push(now)
            store.release('k')
          }
        },
      ),
      { numRuns: 200 },
    )
  })

  it('holds a huge limit without allocating for it up front', () => {
    const store = memoryStore()
    const policy: LimitPolicy = {
      concurrency: Number.POSITIVE_INFINITY,
      rates: [{ limit: 1e9, interval: 1000 }],
    }
    const before = process.memoryUsage().arrayBuffers
    for (let i = 0; i < 1000; i++) expect(store.acquire('k', policy, 1, i / 10)).toBe(0)
    // A ring sized to the limit would be 8 GB; what is held is the 1,000 starts in the window.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1024 * 1024)
  })

  it('counts concurrency across acquire and release, and reports Infinity while every slot is taken', () => {
    const store = memoryStore()
    const policy: LimitPolicy = { concurrency: 2, rates: [] }
    expect(store.acquire('k', policy, 1, 0)).toBe(0)
    expect(store.acquire('k', policy, 1, 0)).toBe(0)
    expect(store.acquire('k', policy, 1, 0)).toBe(Number.POSITIVE_INFINITY)
    store.release('k')
    expect(store.acquire('k', policy, 1, 0)).toBe(0)
  })

  it('keeps keys apart and lets a pause hold only its own key', () => {
    const store = memoryStore()
    const policy: LimitPolicy = {
      concurrency: Number.POSITIVE_INFINITY,
      rates: [{ limit: 1, interval: 1000 }],
    }
    store.pause('a', 500, 0)
    expect(store.acquire('a', policy, 1, 100)).toBe(400)
    expect(store.acquire('b', policy, 1, 100)).toBe(0)
  })
})
