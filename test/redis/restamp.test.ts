import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createManualClock } from '../../src/limit/clock.js'
import { createLimiter } from '../../src/limit/limiter.js'
import { memoryStore } from '../../src/limit/memory-store.js'
import { sleep } from '../../src/limit/sleep.js'
import { policy } from '../support/policy.js'
import { redisStores } from './helpers.js'

// A start that goes out after its grant (a request waiting for a new connection) is moved to when
// it went out, as the memory store does, but across processes and without a round trip of its own
// in the common case. Store calls on a manual clock given to the store: the scripts count on it.
const clock = createManualClock()
const store = redisStores({ clock, leaseTtl: 1e9 })
const twoPerSecond = policy(Number.POSITIVE_INFINITY, [[2, 1000]])

/** Two starts at t and t + 1 by `a`; the first goes out 150 ms late. Returns t. */
async function lateStart(a: ReturnType<typeof store>, key: string): Promise<number> {
  const t = clock.now()
  expect(await a.acquire(key, twoPerSecond, 1, t)).toBe(0)
  await clock.advance(1)
  expect(await a.acquire(key, twoPerSecond, 1, t + 1)).toBe(0)
  await clock.advance(149)
  a.restamp(key, t, t + 150)
  return t
}

describe('restamping a start in Redis when it goes out late', () => {
  it('moves the start for every process: another one waits for the window from the send, not the grant', async () => {
    const [a, b] = [store(), store()]
    const t = await lateStart(a, 'late')
    // The restamp rides on a's next acquire (refused: the window is full), costing no trip of its own.
    const trips = a.roundTrips
    expect(await a.acquire('late', twoPerSecond, 1, clock.now())).toBe(1000)
    expect(a.roundTrips - trips).toBe(1)
    await clock.advance(t + 1001 - clock.now())
    // Counted from the grant, both starts would have left the window by now. (Both moved: a restamp
    // moves every start from the late one's grant on, as the memory store does.)
    expect(await b.acquire('late', twoPerSecond, 1, clock.now())).toBe(149)
  })

  it('sends the restamp alone when no acquire carries it within a quarter of the window', async () => {
    const [a, b] = [store(), store()]
    const t = await lateStart(a, 'alone')
    const trips = a.roundTrips
    await clock.advance(249)
    expect(a.roundTrips).toBe(trips)
    await clock.advance(1)
    // One trip, or two the first time Redis meets the script.
    expect(a.roundTrips).toBeGreaterThan(trips)
    await clock.advance(t + 1001 - clock.now())
    expect(await b.acquire('alone', twoPerSecond, 1, clock.now())).toBe(149)
  })

  it('leaves a start that went out at once where it is, with nothing to send', async () => {
    const [a, b] = [store(), store()]
    const t = clock.now()
    expect(await a.acquire('at-once', twoPerSecond, 1, t)).toBe(0)
    expect(await a.acquire('at-once', twoPerSecond, 1, t + 0.5)).toBe(0)
    a.restamp('at-once', t, t + 0.5)
    const trips = a.roundTrips
    await clock.advance(1000)
    expect(a.roundTrips).toBe(trips)
    expect(await b.acquire('at-once', twoPerSecond, 1, clock.now())).toBe(0)
  })

  it('moves the pace with the start (smooth)', async () => {
    const [a, b] = [store(), store()]
    const paced = policy(Number.POSITIVE_INFINITY, [[2, 1000]], { smooth: true })
    const t = clock.now()
    expect(await a.acquire('paced', paced, 1, t)).toBe(0)
    await clock.advance(150)
    a.restamp('paced', t, t + 150)
    await clock.advance(450)
    // The next start was due 500 ms after the grant; it is now due 500 ms after the send.
    expect(await a.acquire('paced', paced, 1, clock.now())).toBe(50)
    expect(await b.acquire('paced', paced, 1, clock.now())).toBe(50)
  })

  it('leaves the pace of a start that caught up with it and went out within its allowance', async () => {
    const a = store()
    const paced = policy(Number.POSITIVE_INFINITY, [[2, 1000]], { smooth: true })
    expect(await a.acquire('caught-up', paced, 1, clock.now())).toBe(0)
    await clock.advance(500)
    const t = clock.now()
    // Its turn came on the schedule; it went out 20 ms later: the next stays due 500 ms after its turn.
    expect(await a.acquire('caught-up', paced, 1, t)).toBe(0)
    await clock.advance(20)
    a.restamp('caught-up', t, t + 20)
    await clock.advance(480)
    // The acquire carries the restamp (or Redis has it already): the pace did not move.
    expect(await a.acquire('caught-up', paced, 1, clock.now())).toBe(0)
  })

  it('costs no round trip of its own while acquires keep coming: one per task, plus one at the end', async () => {
    const s = store()
    const limiter = createLimiter({ store: s, key: 'trips', rate: '1000/s', clock })
    // The first call of a script may cost one more (Redis learns it).
    await limiter.run(() => {})
    const trips = s.roundTrips
    for (let i = 0; i < 20; i++) {
      let running!: () => void
      const started = new Promise<void>((resolve) => (running = resolve))
      const done = limiter.run(
        async ({ sent }) => {
          const late = sleep(clock, 5)
          running()
          await late
          sent()
        },
        { countsFrom: 'sent' },
      )
      // Its acquire crossed the network: time moves only once it runs.
      await started
      await clock.advance(5)
      await done
    }
    // Each task's move rode on the next task's acquire; the last one's goes alone.
    expect(s.roundTrips - trips).toBe(20)
    await clock.advance(250)
    expect(s.roundTrips - trips).toBeGreaterThanOrEqual(21)
    await limiter.close()
  })

  it('gives the same waits as the memory store for any grants and late sends, in budgets too', async () => {
    let run = 0
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            after: fc.integer({ min: 1, max: 400 }),
            late: fc.option(fc.integer({ min: 2, max: 300 })),
            tokens: fc.integer({ min: 0, max: 1000 }),
          }),
          { minLength: 1, maxLength: 25 },
        ),
        async (steps) => {
          const key = `same-${run++}`
          const redis = store()
          const memory = memoryStore()
          // Every third run also keeps a budget of 1,000 tokens per second, its starts weighted.
          const budget = run % 3 === 0
          const p = policy(
            Number.POSITIVE_INFINITY,
            budget
              ? [
                  [3, 1000],
                  [1000, 1000, 'tokens'],
                ]
              : [[3, 1000]],
            { smooth: run % 2 === 0 },
          )
          const sends: { since: number; at: number }[] = []
          for (const step of steps) {
            await clock.advance(step.after)
            const now = clock.now()
            // Sends due by now go out first, in time order, in both stores.
            for (const send of sends.filter((s) => s.at <= now).sort((x, y) => x.at - y.at)) {
              redis.restamp(key, send.since, send.at)
              memory.restamp(key, send.since, send.at)
            }
            sends.splice(0, sends.length, ...sends.filter((s) => s.at > now))
            const cost = budget ? { tokens: step.tokens } : 1
            const fromRedis = await redis.acquire(key, p, cost, now)
            // Redis counts whole microseconds; the manual clock's sums carry float noise.
            expect(fromRedis).toBeCloseTo(memory.acquire(key, p, cost, now), 3)
            if (fromRedis === 0 && step.late !== null) sends.push({ since: now, at: now + step.late })
          }
        },
      ),
      { numRuns: 30 },
    )
  })
})
