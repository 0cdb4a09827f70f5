import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createManualClock } from '../../src/limit/clock.js'
import { memoryStore } from '../../src/limit/memory-store.js'
import { policy } from '../support/policy.js'
import { redisStores } from './helpers.js'

// Store calls made directly with a manual clock passed to the store: the scripts then count on it
// instead of Redis TIME, so the Lua semantics are compared with the memory store exactly.
const LONG_TTL = 1e9

const clock = createManualClock()
const store = redisStores({ clock, leaseTtl: LONG_TTL })

describe('the Redis scripts count like the memory store', () => {
  it('grants a start exactly when the start it would evict is one interval old', async () => {
    const s = store()
    const p = policy(Number.POSITIVE_INFINITY, [[3, 100]])
    const at = clock.now()
    const waits: number[] = []
    for (const offset of [0, 10, 20, 30, 99, 100, 109, 110, 120]) {
      await clock.advance(at + offset - clock.now())
      waits.push(await s.acquire('window', p, 1, clock.now()))
    }
    // Starts at 0, 10, 20; at 30 and 99 the start at 0 is still inside the window; at 100 it left.
    expect(waits).toEqual([0, 0, 0, 70, 1, 0, 1, 0, 0])
  })

  it('counts a task with cost n as n starts against every rate', async () => {
    const s = store()
    const p = policy(Number.POSITIVE_INFINITY, [
      [5, 100],
      [8, 1000],
    ])
    const at = clock.now()
    expect(await s.acquire('cost', p, 3, at)).toBe(0)
    expect(await s.acquire('cost', p, 3, at)).toBe(100)
    expect(await s.acquire('cost', p, 2, at)).toBe(0)
    await clock.advance(100)
    // The 5/100 window is empty again, but 5 of the 8 per 1000 are used.
    expect(await s.acquire('cost', p, 4, clock.now())).toBe(900)
    expect(await s.acquire('cost', p, 3, clock.now())).toBe(0)
  })

  it('counts a rate given twice once (yours, and the same one learned from the API), as the memory store does', async () => {
    const s = store()
    const memory = memoryStore()
    const p = policy(Number.POSITIVE_INFINITY, [
      [3, 100],
      [3, 100],
      [500, 100, 'tokens'],
      [500, 100, 'tokens'],
    ])
    const now = clock.now()
    // Three requests, 500 tokens: each rate full, once.
    for (const cost of [1, { tokens: 200 }, { tokens: 300 }]) {
      const expected = memory.acquire('twice', p, cost, now)
      expect(expected).toBe(0)
      expect(await s.acquire('twice', p, cost, now)).toBe(expected)
    }
    expect(await s.peek('twice', p, 1, now)).toBe(100)
    expect(memory.peek('twice', p, 1, now)).toBe(100)
    expect(await s.peek('twice', p, { requests: 0, tokens: 1 }, now)).toBe(100)
  })

  it('shares one window and one set of slots between stores on the same key', async () => {
    const a = store()
    const b = store()
    const p = policy(2, [[3, 1000]])
    const now = clock.now()
    expect(await a.acquire('shared', p, 1, now)).toBe(0)
    expect(await b.acquire('shared', p, 1, now)).toBe(0)
    expect(await a.peek('shared', p, 1, now)).toBeGreaterThan(LONG_TTL / 2)
    await b.release('shared', p, now)
    expect(await a.acquire('shared', p, 1, now)).toBe(0)
    await a.release('shared', p, now)
    expect(await b.acquire('shared', p, 1, now)).toBe(1000)
  })

  it('holds every store sharing the key during a pause, and never shortens a longer pause', async () => {
    const a = store()
    const b = store()
    const p = policy(Number.POSITIVE_INFINITY)
    await a.pause('paused', 500, clock.now())
    await b.pause('paused', 200, clock.now())
    expect(await b.acquire('paused', p, 1, clock.now())).toBe(500)
    await clock.advance(499)
    expect(await b.acquire('paused', p, 1, clock.now())).toBe(1)
    await clock.advance(1)
    expect(await b.acquire('paused', p, 1, clock.now())).toBe(0)
  })

  it('answers a full set of slots with the time until the earliest lease expires', async () => {
    const s = store({ leaseTtl: 3000 })
    const p = policy(2)
    expect(await s.acquire('full', p, 1, clock.now())).toBe(0)
    await clock.advance(200)
    expect(await s.acquire('full', p, 1, clock.now())).toBe(0)
    await clock.advance(300)
    // Leases taken at 0 and 200 expire at 3000 and 3200 unless renewed (the renewal is due at 1000).
    expect(await s.acquire('full', p, 1, clock.now())).toBe(2500)
  })

  it('matches the memory store on random sequences of acquire, release, pause and time, with margins and pacing', async () => {
    const rate = fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 5, max: 200 }))
    const op = fc.oneof(
      fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 120 }) }),
      fc.record({ op: fc.constant('acquire' as const), cost: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ op: fc.constant('peek' as const), cost: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ op: fc.constant('release' as const) }),
      fc.record({ op: fc.constant('pause' as const), ms: fc.integer({ min: 0, max: 300 }) }),
    )
    const s = store()
    let run = 0
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(1, 2, 3, Number.POSITIVE_INFINITY),
        fc.array(rate, { maxLength: 2 }),
        fc.array(op, { minLength: 1, maxLength: 40 }),
        fc.record({ rateMargin: fc.integer({ min: 0, max: 30 }), smooth: fc.boolean() }),
        async (concurrency, rates, ops, politeness) => {
          const p = policy(concurrency, rates, politeness)
          const maxCost = Math.min(...rates.map(([limit]) => limit), 3)
          const memory = memoryStore()
          const key = `random-${run++}`
          let running = 0
          for (const step of ops) {
            const now = clock.now()
            if (step.op === 'advance') await clock.advance(step.ms)
            else if (step.op === 'pause') {
              memory.pause(key, step.ms, now)
              await s.pause(key, step.ms, now)
            } else if (step.op === 'release') {
              if (running === 0) continue
              running--
              memory.release(key)
              await s.release(key, p, now)
            } else {
              const cost = Math.min(step.cost, maxCost)
              const expected =
                step.op === 'acquire' ? memory.acquire(key, p, cost, now) : memory.peek(key, p, cost, now)
              const actual =
                step.op === 'acquire' ? await s.acquire(key, p, cost, now) : await s.peek(key, p, cost, now)
              // The memory store says Infinity (wait for a release); Redis names the earliest lease
              // expiry, which these leases (ttl 1e9 ms) are far from.
              if (expected === Number.POSITIVE_INFINITY) expect(actual).toBeGreaterThan(LONG_TTL / 2)
              // Both count whole microseconds; the ms they answer may differ in the last float bits.
              else expect(actual).toBeCloseTo(expected, 6)
              if (step.op === 'acquire' && expected === 0) running++
            }
          }
          while (running-- > 0) await s.release(key, p, clock.now())
        },
      ),
      { numRuns: 40 },
    )
  })
})

describe('budgets (rates in tokens as well as requests)', () => {
  it('weighs each start by its cost in the unit, and frees the room when the oldest weight leaves', async () => {
    const s = store()
    const p = policy(Number.POSITIVE_INFINITY, [
      [10, 1000],
      [1000, 1000, 'tokens'],
    ])
    const at = clock.now()
    expect(await s.acquire('budget', p, { tokens: 600 }, at)).toBe(0)
    await clock.advance(100)
    expect(await s.acquire('budget', p, { tokens: 300 }, clock.now())).toBe(0)
    // 900 of 1000 used: 200 more must wait for the 600 (made at 0) to leave, at 1000.
    expect(await s.acquire('budget', p, { tokens: 200 }, clock.now())).toBe(900)
    // A task that costs nothing in tokens counts one request only.
    expect(await s.acquire('budget', p, 1, clock.now())).toBe(0)
    await clock.advance(900)
    expect(await s.acquire('budget', p, { tokens: 700 }, clock.now())).toBe(0)
    expect(await s.peek('budget', p, { tokens: 1 }, clock.now())).toBe(100)
  })

  it('matches the memory store on random sequences of weighted starts, with several units, margins and pacing', async () => {
    const unitRate = fc.tuple(
      fc.integer({ min: 50, max: 2000 }),
      fc.integer({ min: 5, max: 200 }),
      fc.constantFrom('tokens', 'input'),
    )
    const op = fc.oneof(
      fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 120 }) }),
      fc.record({
        op: fc.constantFrom('acquire' as const, 'peek' as const),
        tokens: fc.integer({ min: 0, max: 3000 }),
        input: fc.option(fc.double({ min: 0, max: 500, noNaN: true }), { nil: undefined }),
        requests: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
      }),
    )
    const s = store()
    let run = 0
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 5, max: 200 })), {
          maxLength: 1,
        }),
        fc.array(unitRate, { minLength: 1, maxLength: 2 }),
        fc.array(op, { minLength: 1, maxLength: 40 }),
        fc.record({ rateMargin: fc.integer({ min: 0, max: 30 }), smooth: fc.boolean() }),
        async (requestRates, unitRates, ops, politeness) => {
          const p = policy(Number.POSITIVE_INFINITY, [...requestRates, ...unitRates], politeness)
          const memory = memoryStore()
          const key = `random-budget-${run++}`
          for (const step of ops) {
            const now = clock.now()
            if (step.op === 'advance') {
              await clock.advance(step.ms)
              continue
            }
            // Within every rate's limit: the Limiter refuses larger tasks before any store sees them.
            const fits = (unit: string, amount: number) =>
              Math.min(amount, ...p.rates.filter((rate) => rate.unit === unit).map((rate) => rate.limit))
            const cost: Record<string, number> = { tokens: fits('tokens', step.tokens) }
            if (step.input !== undefined) cost.input = fits('input', step.input)
            if (step.requests !== undefined)
              cost.requests = Math.min(step.requests, ...requestRates.map(([limit]) => limit))
            const expected =
              step.op === 'acquire' ? memory.acquire(key, p, cost, now) : memory.peek(key, p, cost, now)
            const actual =
              step.op === 'acquire' ? await s.acquire(key, p, cost, now) : await s.peek(key, p, cost, now)
            expect(actual).toBeCloseTo(expected, 6)
          }
        },
      ),
      { numRuns: 40 },
    )
  })
})

describe('pacing', () => {
  it('spaces starts from the first one, carries the pace across a rate change, and paces no long window', async () => {
    const memory = memoryStore()
    const s = store()
    const tenPerSecond = policy(Number.POSITIVE_INFINITY, [[10, 1000]], { smooth: true })
    const twentyPerSecond = policy(Number.POSITIVE_INFINITY, [[20, 1000]], { smooth: true })
    const daily = policy(Number.POSITIVE_INFINITY, [[1000, 86_400_000]], { smooth: true })
    const both = async (p: typeof daily, key: string) => {
      const expected = memory.acquire(key, p, 1, clock.now())
      expect(await s.acquire(key, p, 1, clock.now())).toBeCloseTo(expected, 6)
      return expected
    }
    await clock.advance(5)
    expect(await both(tenPerSecond, 'paced')).toBe(0)
    expect(await both(tenPerSecond, 'paced')).toBe(100)
    // A new rate has no schedule yet: it starts after the last paced start, not at once.
    expect(await both(twentyPerSecond, 'paced')).toBe(50)
    await clock.advance(50)
    expect(await both(twentyPerSecond, 'paced')).toBe(0)
    // Pacing a daily quota would space starts minutes apart: windows over a minute are not paced.
    expect(await both(daily, 'long')).toBe(0)
    expect(await both(daily, 'long')).toBe(0)
  })
})

describe('rate margin', () => {
  it('makes a start that reuses a slot of the window wait the margin longer', async () => {
    const s = store()
    const p = policy(Number.POSITIVE_INFINITY, [[2, 1000]], { rateMargin: 20 })
    const now = clock.now()
    expect(await s.acquire('margin', p, 1, now)).toBe(0)
    expect(await s.acquire('margin', p, 1, now)).toBe(0)
    expect(await s.acquire('margin', p, 1, now)).toBe(1020)
  })
})

describe('leases', () => {
  it('returns the slots of a store that stopped renewing them once the lease ttl has passed', async () => {
    const dead = store({ leaseTtl: 3000 })
    const alive = store({ leaseTtl: 3000 })
    const p = policy(1)
    expect(await dead.acquire('lease', p, 1, clock.now())).toBe(0)
    // The holder "dies": its connection and renewal timer go away without releasing.
    await dead.close()
    await clock.advance(2999)
    expect(await alive.acquire('lease', p, 1, clock.now())).toBe(1)
    await clock.advance(1)
    expect(await alive.acquire('lease', p, 1, clock.now())).toBe(0)
  })

  it('keeps the slots of a live store past the ttl by renewing them while its tasks run', async () => {
    const holder = store({ leaseTtl: 3000 })
    const other = store({ leaseTtl: 3000 })
    const p = policy(1)
    expect(await holder.acquire('renew', p, 1, clock.now())).toBe(0)
    for (let i = 0; i < 10; i++) {
      await clock.advance(1000)
      // A reply on the holder's connection means its renewal (sent before) has run.
      await holder.peek('renew', p, 1, clock.now())
      expect(await other.acquire('renew', p, 1, clock.now())).toBeGreaterThan(1000)
    }
    await holder.release('renew', p, clock.now())
    expect(holder.leasesHeld).toBe(0)
    expect(await other.acquire('renew', p, 1, clock.now())).toBe(0)
  })
})
