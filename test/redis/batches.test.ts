import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createManualClock } from '../../src/limit/clock.js'
import type { Cost } from '../../src/limit/cost.js'
import { createLimiter } from '../../src/limit/limiter.js'
import { memoryStore } from '../../src/limit/memory-store.js'
import type { Admission, LimitPolicy } from '../../src/limit/store.js'
import { policy } from '../support/policy.js'
import { redisStores } from './helpers.js'

// The Redis store takes the starts of several tasks in one script call (acquireMany), gives back
// what no task took (giveBack) and returns the slots of tasks that end together in one call. Store
// calls on a manual clock given to the store (the scripts count on it), except where a Limiter runs
// many tasks on real time.
const LONG_TTL = 1e9
const clock = createManualClock()
const store = redisStores({ clock, leaseTtl: LONG_TTL })
const realTime = redisStores()

/** What the memory store grants taking `costs` one by one at `now`, until one must wait. */
function oneByOne(
  memory: ReturnType<typeof memoryStore>,
  key: string,
  p: LimitPolicy,
  costs: readonly Cost[],
  now: number,
): Admission {
  let granted = 0
  for (const cost of costs) {
    const wait = memory.acquire(key, p, cost, now)
    if (wait > 0) return { granted, wait }
    granted++
  }
  return { granted, wait: 0 }
}

describe('acquireMany: the starts of several tasks in one call', () => {
  it('takes what the window allows now, in order, and says how long the first refused one waits', async () => {
    const s = store()
    const p = policy(Number.POSITIVE_INFINITY, [[3, 100]])
    const at = clock.now()
    expect(await s.acquireMany('window', p, [1, 1, 1, 1, 1], at)).toEqual({ granted: 3, wait: 100 })
    await clock.advance(100)
    // A second cost of 2 does not fit: the 1 after it, which would, waits too (FIFO).
    expect(await s.acquireMany('window', p, [2, 2, 1], clock.now())).toEqual({ granted: 1, wait: 100 })
    // With pacing, a call takes what is due at this instant: one start per spacing.
    const paced = policy(Number.POSITIVE_INFINITY, [[10, 1000]], { smooth: true })
    expect(await s.acquireMany('paced', paced, [1, 1, 1], clock.now())).toEqual({ granted: 1, wait: 100 })
  })

  it('matches the memory store taking the same costs one by one at the same instant, two processes sharing the key, on random sequences with slots, budgets, margins and pacing', async () => {
    const rate = fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 5, max: 200 }))
    const cost = fc.oneof(
      fc.integer({ min: 1, max: 3 }),
      fc.record({ tokens: fc.integer({ min: 0, max: 600 }), requests: fc.integer({ min: 0, max: 2 }) }),
    )
    const op = fc.oneof(
      fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 120 }) }),
      fc.record({
        op: fc.constant('many' as const),
        who: fc.constantFrom(0, 1),
        costs: fc.array(cost, { minLength: 1, maxLength: 6 }),
      }),
      fc.record({
        op: fc.constant('release' as const),
        who: fc.constantFrom(0, 1),
        count: fc.integer({ min: 1, max: 3 }),
      }),
      fc.record({ op: fc.constant('pause' as const), ms: fc.integer({ min: 0, max: 300 }) }),
    )
    // Two stores, as two processes would have: one window and one set of slots in Redis.
    const stores = [store(), store()]
    let run = 0
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(1, 3, 5, Number.POSITIVE_INFINITY),
        fc.array(rate, { maxLength: 2 }),
        fc.option(fc.integer({ min: 600, max: 2000 }), { nil: undefined }),
        fc.array(op, { minLength: 1, maxLength: 30 }),
        fc.record({ rateMargin: fc.integer({ min: 0, max: 30 }), smooth: fc.boolean() }),
        async (concurrency, rates, tokens, ops, politeness) => {
          const budget = tokens === undefined ? [] : [[tokens, 1000, 'tokens'] as const]
          const p = policy(concurrency, [...rates, ...budget], politeness)
          // Within every rate's limit: the Limiter refuses larger tasks before any store sees them.
          const fits = (c: Cost): Cost => {
            const most = Math.min(3, ...rates.map(([limit]) => limit))
            if (typeof c === 'number') return Math.min(c, most)
            return { tokens: Math.min(c.tokens!, tokens ?? 0), requests: Math.min(c.requests!, most) }
          }
          const memory = memoryStore()
          const key = `random-many-${run++}`
          const running = [0, 0]
          for (const step of ops) {
            const now = clock.now()
            if (step.op === 'advance') await clock.advance(step.ms)
            else if (step.op === 'pause') {
              memory.pause(key, step.ms, now)
              await stores[0]!.pause(key, step.ms, now)
            } else if (step.op === 'release') {
              const count = Math.min(step.count, running[step.who]!)
              running[step.who]! -= count
              for (let n = 0; n < count; n++) memory.release(key)
              // Released in the same turn: one RELEASE call for them all.
              await Promise.all(Array.from({ length: count }, () => stores[step.who]!.release(key, p, now)))
            } else {
              const costs = step.costs.map(fits)
              const expected = oneByOne(memory, key, p, costs, now)
              const actual = await stores[step.who]!.acquireMany(key, p, costs, now)
              expect(actual.granted).toBe(expected.granted)
              // The memory store says Infinity (wait for a release); Redis names the earliest lease
              // expiry, which these leases (ttl 1e9 ms) are far from.
              if (expected.wait === Number.POSITIVE_INFINITY)
                expect(actual.wait).toBeGreaterThan(LONG_TTL / 2)
              else expect(actual.wait).toBeCloseTo(expected.wait, 6)
              running[step.who]! += expected.granted
            }
          }
          for (const [who, count] of running.entries()) {
            await Promise.all(Array.from({ length: count }, () => stores[who]!.release(key, p, clock.now())))
          }
        },
      ),
      { numRuns: 40 },
    )
  })
})

describe('giveBack: starts no task took', () => {
  it('returns their slots and their place in every window, for every process sharing the key', async () => {
    const [a, b] = [store(), store()]
    const p = policy(3, [
      [3, 1000],
      [1000, 1000, 'tokens'],
    ])
    const now = clock.now()
    const costs = [{ tokens: 100 }, { tokens: 200 }, { tokens: 300 }]
    expect(await a.acquireMany('back', p, costs, now)).toEqual({ granted: 3, wait: 0 })
    expect(await b.peek('back', p, 1, now)).toBeGreaterThan(LONG_TTL / 2)
    await a.giveBack('back', p, now, costs.slice(1))
    expect(a.leasesHeld).toBe(1)
    // Two slots, two starts of the three per second and 500 tokens are free again.
    expect(await b.acquireMany('back', p, [{ tokens: 400 }, { tokens: 500 }, 1], now)).toEqual({
      granted: 2,
      wait: LONG_TTL,
    })
    // The budget holds 100 (a), 400 and 500 (b): full until they leave the window.
    await Promise.all([a.release('back', p, now), b.release('back', p, now), b.release('back', p, now)])
    expect(await b.peek('back', p, { requests: 0, tokens: 1 }, now)).toBe(1000)
  })

  it('gives back what a limiter paused while its call was on its way had been granted', async () => {
    const [mine, other] = [store(), store()]
    const limiter = createLimiter({ store: mine, key: 'paused', rate: '3/s', clock })
    const trips = mine.roundTrips
    const started: number[] = []
    const runs = [1, 2, 3].map((n) => limiter.run(() => void started.push(n)))
    // The call leaves once the tasks are queued; the limiter is paused before Redis answers.
    await Promise.resolve()
    limiter.pause()
    const p = policy(Number.POSITIVE_INFINITY, [[3, 1000]])
    // The give-back goes once the grant is answered; a reply on the same connection after it says it ran.
    for (let i = 0; i < 200 && mine.roundTrips - trips < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    await mine.peek('paused', p, 1, clock.now())
    expect(started).toEqual([])
    expect(await other.acquireMany('paused', p, [1, 1, 1], clock.now())).toEqual({ granted: 3, wait: 0 })
    const closed = limiter.close()
    await Promise.all(runs.map((run) => run.catch(() => {})))
    await closed
  })
})

describe('slots given back in batches', () => {
  it('returns the slots of tasks that end together in one call, and keeps renewing those still held', async () => {
    const holder = store({ leaseTtl: 3000 })
    const other = store({ leaseTtl: 3000 })
    const four = policy(4)
    const one = policy(1)
    // The scripts known to Redis first: a script's first call costs one more trip.
    expect(await holder.acquireMany('renew-many', four, [1], clock.now())).toEqual({ granted: 1, wait: 0 })
    await holder.release('renew-many', four, clock.now())
    expect(await holder.acquireMany('renew-many', four, [1, 1, 1, 1], clock.now())).toEqual({
      granted: 4,
      wait: 0,
    })
    const trips = holder.roundTrips
    await Promise.all([1, 2, 3].map(() => holder.release('renew-many', four, clock.now())))
    expect(holder.roundTrips - trips).toBe(1)
    expect(holder.leasesHeld).toBe(1)
    for (let i = 0; i < 5; i++) {
      await clock.advance(1000)
      // A reply on the holder's connection means its renewal (sent before) has run.
      await holder.peek('renew-many', four, 1, clock.now())
      expect(await other.peek('renew-many', one, 1, clock.now())).toBeGreaterThan(1000)
    }
    await holder.release('renew-many', four, clock.now())
    expect(await other.peek('renew-many', one, 1, clock.now())).toBe(0)
  })

  it('frees the slots of a batch whose holder stopped renewing them once the lease ttl has passed', async () => {
    const dead = store({ leaseTtl: 3000 })
    const alive = store({ leaseTtl: 3000 })
    const p = policy(3)
    expect(await dead.acquireMany('dead-many', p, [1, 1, 1], clock.now())).toEqual({ granted: 3, wait: 0 })
    await dead.close()
    await clock.advance(2999)
    expect(await alive.acquireMany('dead-many', p, [1, 1, 1], clock.now())).toEqual({ granted: 0, wait: 1 })
    await clock.advance(1)
    expect(await alive.acquireMany('dead-many', p, [1, 1, 1], clock.now())).toEqual({ granted: 3, wait: 0 })
  })
})

describe('a Limiter on the Redis store, many tasks queued', () => {
  it('costs under 0.2 round trips per task for 1,000 tasks, with a rate alone and with a concurrency cap', async () => {
    const s = realTime()
    const rateOnly = createLimiter({ store: s, key: 'many-rate', rate: '100000/s' })
    const capped = createLimiter({ store: s, key: 'many-capped', rate: '100000/s', concurrency: 32 })
    for (const limiter of [rateOnly, capped]) {
      // The first call of each script may cost one more (Redis learns the script).
      await limiter.run(() => {})
      const trips = s.roundTrips
      await Promise.all(Array.from({ length: 1000 }, () => limiter.run(() => {})))
      expect((s.roundTrips - trips) / 1000).toBeLessThan(0.2)
      await limiter.close()
    }
  })

  it('starts queued tasks in priority then FIFO order, whatever the calls they were asked in', async () => {
    const limiter = createLimiter({ store: realTime(), key: 'order', rate: '100000/s', concurrency: 5 })
    const started: number[] = []
    const priorities = Array.from({ length: 300 }, (_, i) => (i % 7 === 0 ? 1 : 0))
    await Promise.all(
      priorities.map((priority, i) =>
        limiter.run(
          async () => {
            started.push(i)
            await new Promise((resolve) => setTimeout(resolve, i % 3))
          },
          { priority },
        ),
      ),
    )
    const order = priorities.map((_, i) => i).sort((x, y) => priorities[y]! - priorities[x]! || x - y)
    expect(started).toEqual(order)
    await limiter.close()
  })
})
