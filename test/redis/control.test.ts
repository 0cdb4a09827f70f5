import { AsyncLocalStorage } from 'node:async_hooks'
import { describe, expect, it } from 'vitest'
import { createLimiter } from '../../src/limit/limiter.js'
import { gate } from '../support/gate.js'
import { redisStores } from './helpers.js'

const store = redisStores()

/** Resolves once `check` holds, polling on real time (the Redis store answers over the network). */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5))
  expect(check()).toBe(true)
}

describe('runtime control with the Redis store', () => {
  it('applies a concurrency changed mid-run to every slot counted in Redis, down then up', async () => {
    const s = store()
    const limiter = createLimiter({ store: s, key: 'resize', concurrency: 4 })
    const work = gate()
    const runs = Array.from({ length: 20 }, () => limiter.run(work.task))
    await until(() => work.running === 4)
    limiter.setConcurrency(2)
    work.finish()
    await until(() => work.running === 2)
    // Held at the new cap: nothing more starts while two run.
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(work.running).toBe(2)
    expect(work.most).toBe(4)
    limiter.setConcurrency(6)
    await until(() => work.running === 6)
    while (limiter.stats().queued > 0 || work.running > 0) {
      work.finish()
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    await Promise.all(runs)
    expect(work.most).toBe(6)
    await limiter.close()
  })

  it('ends a timed pause for every limiter on the key when one of them lifts it', async () => {
    const a = createLimiter({ store: store(), key: 'resume' })
    const b = createLimiter({ store: store(), key: 'resume' })
    await a.pause('1h')
    let ran = false
    const waiting = b.run(() => (ran = true))
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(ran).toBe(false)
    await a.liftPause()
    await waiting
    expect(ran).toBe(true)
    await Promise.all([a.close(), b.close()])
  })

  it('runs each queued task in its caller’s async context though the store answers asynchronously', async () => {
    const storage = new AsyncLocalStorage<string>()
    const limiter = createLimiter({ store: store(), key: 'context', concurrency: 1 })
    const names = ['A', 'B', 'C', 'D']
    const seen = await Promise.all(
      names.map((name) => storage.run(name, () => limiter.run(async () => (await null, storage.getStore())))),
    )
    expect(seen).toEqual(names)
    await limiter.close()
  })
})
