import { describe, expect, it } from 'vitest'
import { createManualClock } from '../../src/limit/clock.js'
import { createLimiter } from '../../src/limit/limiter.js'
import { redisStore } from '../../src/redis/index.js'
import { policy } from '../support/policy.js'
import { closedPort, connectRedis, redisStores } from './helpers.js'

const store = redisStores()

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void
  const promise = new Promise<void>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

describe('round trips', () => {
  it('costs one round trip per task with only a rate, and two with a concurrency cap', async () => {
    const s = store()
    const rateOnly = createLimiter({ store: s, key: 'trips-rate', rate: '1000/s' })
    const capped = createLimiter({ store: s, key: 'trips-capped', rate: '1000/s', concurrency: 2 })
    // The first call of each script may cost one more (Redis learns the script).
    await rateOnly.run(() => {})
    await capped.run(() => {})
    // A reply on the store's connection means the release sent before it has been counted and run.
    await s.peek('trips-capped', capped.policy, 1, 0)
    let before = s.roundTrips
    for (let i = 0; i < 20; i++) await rateOnly.run(() => {})
    expect(s.roundTrips - before).toBe(20)
    before = s.roundTrips
    for (let i = 0; i < 20; i++) await capped.run(() => {})
    // The last release may still be on its way when run() settles.
    await s.peek('trips-capped', capped.policy, 1, 0)
    expect(s.roundTrips - before).toBe(41)
    await Promise.all([rateOnly.close(), capped.close()])
  })
})

describe('budgets', () => {
  it('shares a token budget, and lets a lighter task pass a head that waits for room, as in memory', async () => {
    const clock = createManualClock()
    const s = redisStores({ clock })()
    const a = createLimiter({ store: s, key: 'tokens', rate: '1000 tokens/s', clock })
    const b = createLimiter({ store: s, key: 'tokens', rate: '1000 tokens/s', clock })
    const started: string[] = []
    const task = (name: string) => () => void started.push(name)
    await a.run(task('a-600'), { cost: { tokens: 600 } })
    // b counts a's 600: 400 are left, so its 700 waits, and the 300 behind it goes first.
    const heavy = b.run(task('b-700'), { cost: { tokens: 700 } })
    const light = b.run(task('b-300'), { cost: { tokens: 300 } })
    await light
    expect(started).toEqual(['a-600', 'b-300'])
    expect(await s.peek('tokens', b.policy, { tokens: 101 }, clock.now())).toBe(1000)
    await clock.advance(1000)
    await heavy
    expect(started).toEqual(['a-600', 'b-300', 'b-700'])
    await Promise.all([a.close(), b.close()])
  })
})

describe('use settled from outside the limiter', () => {
  const clock = createManualClock()
  const settled = redisStores({ clock })
  const budget = policy(Number.POSITIVE_INFINITY, [[1000, 1000, 'tokens']])

  it('counts more at once for every process, whatever room is left, and never takes back', async () => {
    const [a, b] = [settled(), settled()]
    expect(await a.acquire('settled', budget, { tokens: 600 }, clock.now())).toBe(0)
    await clock.advance(100)
    // A server said 900 more were used (a quota learned late): counted now, though only 400 fit.
    a.settle('settled', budget, clock.now(), { requests: 0, tokens: 900 }, clock.now())
    // Less than estimated is not taken back: the window keeps the estimate.
    a.settle('settled', budget, 0, { tokens: -500 }, clock.now())
    // A reply on a's connection: what it sent before has run.
    expect(await a.peek('settled', budget, { tokens: 1 }, clock.now())).toBe(900)
    expect(await b.acquire('settled', budget, { tokens: 1 }, clock.now())).toBe(900)
    await clock.advance(900)
    // The 600 has left the window; the 900 counts from when it was settled, not from the start.
    expect(await b.acquire('settled', budget, { tokens: 200 }, clock.now())).toBe(100)
    await clock.advance(100)
    expect(await b.acquire('settled', budget, { tokens: 200 }, clock.now())).toBe(0)
  })

  it('counts in every rate of the policy: two budgets and the requests', async () => {
    const s = settled()
    const limits = policy(Number.POSITIVE_INFINITY, [
      [1000, 1000, 'tokens'],
      [1500, 60_000, 'tokens'],
      [5, 1000],
    ])
    s.settle('every-rate', limits, clock.now(), { requests: 3, tokens: 900 }, clock.now())
    // 100 tokens are left in the first budget, 600 in the second, 2 requests in the third.
    expect(await s.peek('every-rate', limits, { tokens: 100, requests: 2 }, clock.now())).toBe(0)
    expect(await s.peek('every-rate', limits, { tokens: 101 }, clock.now())).toBe(1000)
    expect(await s.peek('every-rate', limits, { requests: 3 }, clock.now())).toBe(1000)
    await clock.advance(1000)
    // The second budget's window is a minute: its 900 still count.
    expect(await s.peek('every-rate', limits, { tokens: 600 }, clock.now())).toBe(0)
    expect(await s.peek('every-rate', limits, { tokens: 601 }, clock.now())).toBe(59_000)
  })
})

describe('waking', () => {
  it(
    'starts a task waiting for a slot when another process releases it, without waiting for the lease ttl',
    {
      timeout: 10_000,
    },
    async () => {
      // Two stores are two connections, as two processes would have.
      const holderStore = store()
      const waiterStore = store()
      const holder = createLimiter({ store: holderStore, key: 'wake', concurrency: 1 })
      const waiter = createLimiter({ store: waiterStore, key: 'wake', concurrency: 1 })
      const started = deferred()
      const finish = deferred()
      const held = holder.run(async () => {
        started.resolve()
        await finish.promise
      })
      await started.promise
      const waiting = waiter.run(() => 'ran')
      // A reply on the waiter's connection means its acquire (sent before) found the slot taken.
      await waiterStore.peek('wake', waiter.policy, 1, 0)
      expect(waiter.stats().queued).toBe(1)
      finish.resolve()
      await held
      // Only a wake message can start it in time: the acquire said to come back at the lease expiry (30 s).
      expect(await waiting).toBe('ran')
      expect(waiterStore.leasesHeld).toBe(0)
      await Promise.all([holder.close(), waiter.close()])
    },
  )
})

describe('when Redis cannot be reached', () => {
  it('rejects tasks with an error naming the URL without its password, and runs none', async () => {
    const port = await closedPort()
    const s = store({ url: `redis://user:s3cret@127.0.0.1:${port}/2` })
    const limiter = createLimiter({ store: s, key: 'down', rate: '10/s' })
    let ran = 0
    const results = await Promise.allSettled([1, 2, 3].map(() => limiter.run(() => ran++)))
    expect(ran).toBe(0)
    for (const result of results) {
      expect(result.status).toBe('rejected')
      const error = (result as PromiseRejectedResult).reason as Error & { code: string }
      expect(error.code).toBe('STORE_UNAVAILABLE')
      expect(error.message).toContain(`redis://127.0.0.1:${port}/2`)
      expect(error.message).not.toContain('s3cret')
    }
    await limiter.close()
  })

  it('limits locally to the stated fraction of the quota with the fallback option', async () => {
    const clock = createManualClock()
    const s = store({ url: `redis://127.0.0.1:${await closedPort()}`, fallback: 0.5, clock })
    const limits = policy(4, [[10, 1000]], { rateMargin: 20 })
    const waits: number[] = []
    for (let i = 0; i < 3; i++) waits.push(await s.acquire('fallback', limits, 1, clock.now()))
    // Concurrency 4 at half is 2: the third waits for a release (Infinity: the local store wakes it).
    expect(waits).toEqual([0, 0, Number.POSITIVE_INFINITY])
    await s.release('fallback', limits, clock.now())
    await s.release('fallback', limits, clock.now())
    for (let i = 0; i < 3; i++) {
      expect(await s.acquire('fallback', limits, 1, clock.now())).toBe(0)
      await s.release('fallback', limits, clock.now())
    }
    // Rate 10/s at half is 5, and 5 have started: the next waits the window plus the 20 ms margin.
    expect(await s.acquire('fallback', limits, 1, clock.now())).toBe(1020)
    // A cost above the local share (5) could only overfill it: refused, with what and why.
    await expect(s.acquire('fallback', limits, 6, clock.now())).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
      message: expect.stringMatching(/a task of cost 6 exceeds the fallback's share of the quota \(5\/1s\)/),
    })
  })
})

describe('closing', () => {
  it('quits its connections and holds no lease once its tasks are done', async () => {
    const s = store()
    const limiter = createLimiter({ store: s, key: 'close', concurrency: 3, rate: '100/s' })
    await Promise.all(
      Array.from({ length: 6 }, () => limiter.run(() => new Promise((r) => setTimeout(r, 5)))),
    )
    await limiter.close()
    expect(s.leasesHeld).toBe(0)
    await s.close()
    const error = await s.acquire('close', limiter.policy, 1, 0).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'STORE_UNAVAILABLE' })
  })

  it('leaves a client it was given open', async () => {
    const client = await connectRedis()
    const s = store({ client })
    const limiter = createLimiter({ store: s, key: 'given', concurrency: 1 })
    await limiter.run(() => {})
    await limiter.close()
    await s.close()
    expect(await client.ping()).toBe('PONG')
    client.disconnect()
  })
})

describe('options', () => {
  it('names the option and the value when one is invalid', () => {
    expect(() => redisStore({ fallback: 2 })).toThrow(/option `fallback` must be a fraction.*got 2/)
    expect(() => redisStore({ url: 'http://x' })).toThrow(/option `url` must be a redis:\/\/.*"http:\/\/x"/)
    expect(() => redisStore({ leaseTtl: '1ms' })).toThrow(/option `leaseTtl` must be at least 30 ms/)
    // Options that moved to the limiter are refused, not silently dropped.
    const moved = { windowMargin: 20 } as Parameters<typeof redisStore>[0]
    expect(() => redisStore(moved)).toThrow(
      /option `windowMargin` moved to the limiter: createLimiter\(\{ rateMargin, smooth \}\)/,
    )
  })
})
