import { type ChildProcess, spawn } from 'node:child_process'
import { Agent, request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLimiter, type Limiter } from '../../src/limit/limiter.js'
import { type MockServer, startMockServer } from '../../src/mock/index.js'
import { redisStore } from '../../src/redis/index.js'
import { maxInWindow } from '../support/clock.js'
import { delay, recordArrivals } from './workers.js'
import { closedPort, connectRedis } from './helpers.js'

// A Redis of its own (a redis-server child on a free loopback port) that the tests kill and start
// again, with the mock API on the other side of the limiter.

let port: number
let redisProcess: ChildProcess | undefined
let mock: MockServer
const agent = new Agent()
const recorder = recordArrivals()

async function startRedis(): Promise<void> {
  redisProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  )
  // Bounded: it answers within a few hundred ms.
  for (let attempt = 0; ; attempt++) {
    try {
      ;(await connectRedis(`redis://127.0.0.1:${port}`)).disconnect()
      return
    } catch (error) {
      if (attempt === 50) throw error
      await delay(100)
    }
  }
}

async function killRedis(): Promise<void> {
  const child = redisProcess!
  redisProcess = undefined
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGKILL')
  await exited
}

/** When each task started, on this process's clock (the limiter's guarantees are about starts). */
const starts: number[] = []

/** One task: a request to the mock. */
const call = async () => {
  starts.push(performance.now())
  const response = await request(`${mock.url}/anything`, { dispatcher: agent })
  await response.body.dump()
  return response.statusCode
}

/** Runs `count` tasks through the limiter at once; every one settles (none is lost or hangs). */
function runMany(limiter: Limiter, count: number) {
  return Promise.allSettled(Array.from({ length: count }, () => limiter.run(call)))
}

/** Bounded wait until a task goes through again (ioredis reconnects within about a second). */
async function untilRuns(limiter: Limiter): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const [result] = await runMany(limiter, 1)
    if (result!.status === 'fulfilled') return
    if (attempt === 50) throw (result as PromiseRejectedResult).reason
    await delay(100)
  }
}

const arrivalsAfter = (since: number) =>
  recorder.arrivals.filter((arrival) => arrival.port === mock.port && arrival.at >= since)

const startsAfter = (since: number) => starts.filter((at) => at >= since)

beforeAll(async () => {
  port = await closedPort()
  await startRedis()
  mock = await startMockServer()
})

afterAll(async () => {
  redisProcess?.kill('SIGKILL')
  recorder.stop()
  await mock?.close()
  await agent.close()
})

describe('Redis lost in the middle of a run', () => {
  it('fails the queued tasks with a clear error, runs none without Redis, and works again once Redis is back', async () => {
    const url = `redis://127.0.0.1:${port}`
    const store = redisStore({ url })
    const limiter = createLimiter({ store, key: 'outage', concurrency: 4, rate: '40/s' })
    try {
      // 120 tasks at 40/s take 3 s: Redis dies once 20 have started, with most still queued.
      const before = starts.length
      const running = runMany(limiter, 120)
      for (let i = 0; i < 100 && starts.length - before < 20; i++) await delay(50)
      await killRedis()
      const killedAt = performance.now()
      const results = await running
      const ok = results.filter((result) => result.status === 'fulfilled')
      const failed = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []))
      expect(ok.length).toBeGreaterThanOrEqual(20)
      expect(failed.length).toBeGreaterThan(50)
      for (const error of failed) {
        expect(error).toMatchObject({ code: 'STORE_UNAVAILABLE' })
        expect((error as Error).message).toContain(url)
      }
      // Nothing ran unlimited: every request the mock saw came from a task that succeeded, and
      // none arrived after Redis died (but for ones granted just before, still on their way).
      expect(mock.stats().requests).toBe(ok.length)
      expect(arrivalsAfter(killedAt + 200)).toEqual([])

      // While Redis is down, new tasks fail at once too.
      const down = await runMany(limiter, 5)
      expect(down.map((result) => result.status)).toEqual(Array(5).fill('rejected'))

      await startRedis()
      await untilRuns(limiter)
      const back = performance.now()
      const after = await runMany(limiter, 60)
      expect(after.every((result) => result.status === 'fulfilled')).toBe(true)
      // And limited through Redis again: the new Redis holds the window of those starts (how
      // exactly windows hold is the other suites' subject).
      expect(startsAfter(back).length).toBe(60)
      const window = await connectRedis(url)
      expect(await window.llen('volley:{outage}:rate:40:1000')).toBe(40)
      window.disconnect()
    } finally {
      await limiter.close()
      await store.close()
    }
  })

  it('goes on at the stated fraction of the quota with the fallback option, then back on Redis', async () => {
    if (!redisProcess) await startRedis()
    const store = redisStore({ url: `redis://127.0.0.1:${port}`, fallback: 0.25 })
    // Each local decision is exact when made, but its task begins only after the failed Redis call
    // has come back, a few ms later and not always equally late: the margin covers that, as
    // docs/redis.md advises for every shared limiter.
    const limiter = createLimiter({ store, key: 'fallback', rate: '40/s', rateMargin: 20 })
    try {
      await untilRuns(limiter)
      await killRedis()
      const killedAt = performance.now()
      // 40/s at a quarter is 10/s: 25 tasks take over 2 s, and none fails.
      const during = await runMany(limiter, 25)
      expect(during.every((result) => result.status === 'fulfilled')).toBe(true)
      expect(arrivalsAfter(killedAt).length).toBe(25)
      // Counted at the start of each task: arrival times at the mock would add the jitter of a
      // loaded machine to a claim about the local limit (the multi-process tests measure arrivals).
      const times = startsAfter(killedAt)
      expect(times.length).toBe(25)
      expect(maxInWindow(times, 1000)).toBeLessThanOrEqual(10)
      await startRedis()
      // Tasks run either way now; wait (bounded) until one goes through Redis again.
      for (let attempt = 0; attempt < 50; attempt++) {
        const before = store.roundTrips
        await limiter.run(call)
        if (store.roundTrips > before) break
        await delay(100)
      }
      const back = performance.now()
      await runMany(limiter, 40)
      // On Redis again: the full 40/s, no longer a quarter of it.
      const again = startsAfter(back)
      expect(maxInWindow(again, 1000)).toBeGreaterThan(10)
      expect(maxInWindow(again, 1000)).toBeLessThanOrEqual(40)
    } finally {
      await limiter.close()
      await store.close()
    }
  })
})
