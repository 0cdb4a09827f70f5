import { describe, expect, it } from 'vitest'
import { AbortError } from '../../src/errors.js'
import { createManualClock } from '../../src/limit/clock.js'
import type { Cost } from '../../src/limit/cost.js'
import { createLimiter } from '../../src/limit/limiter.js'
import { memoryStore } from '../../src/limit/memory-store.js'
import type { Admission, LimiterStore } from '../../src/limit/store.js'

/** Lets the microtasks queued so far (and those they queue) run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * The memory store behind promises, with acquireMany and giveBack, as the Redis store answers: each
 * call is kept in `calls` and decided (on the memory store, at the time it was asked) only when
 * the test answers it, so the test chooses what happens while calls are on their way.
 */
function networkStore() {
  const memory = memoryStore()
  const calls: { costs: readonly Cost[]; answer: () => void }[] = []
  const givenBack: Cost[][] = []
  const store: LimiterStore = {
    synchronous: false,
    acquire: async (key, policy, cost, now) => memory.acquire(key, policy, cost, now),
    acquireMany: (key, policy, costs, now) =>
      new Promise<Admission>((resolve) => {
        const answer = () => {
          let granted = 0
          let wait = 0
          for (const cost of costs) {
            wait = memory.acquire(key, policy, cost, now)
            if (wait > 0) break
            granted++
          }
          resolve({ granted, wait })
        }
        calls.push({ costs, answer })
      }),
    giveBack: async (key, _policy, _since, costs) => {
      givenBack.push([...costs])
      for (let n = 0; n < costs.length; n++) memory.release(key)
    },
    release: async (key) => memory.release(key),
    pause: async (key, ms, now) => memory.pause(key, ms, now),
    peek: async (key, policy, cost, now) => memory.peek(key, policy, cost, now),
  }
  /** Answers the oldest call not answered yet. */
  const answer = async () => {
    calls.shift()!.answer()
    await settle()
  }
  return { store, memory, calls, givenBack, answer }
}

describe('a store that answers over the network, asked in batches', () => {
  it('asks for the starts of the queued tasks in one call and starts them in order', async () => {
    const { store, calls, answer } = networkStore()
    const limiter = createLimiter({ store, concurrency: 8 })
    const started: number[] = []
    const runs = Array.from({ length: 20 }, (_, i) => limiter.run(() => void started.push(i)))
    await settle()
    // As many as the slots this process may take, in one call.
    expect(calls.map((call) => call.costs.length)).toEqual([8])
    await answer()
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    while (calls.length > 0) await answer()
    await Promise.all(runs)
    expect(started).toEqual(Array.from({ length: 20 }, (_, i) => i))
  })

  it('gives the grant of a task aborted meanwhile to the next in line, and a higher priority goes first', async () => {
    const { store, calls, givenBack, answer } = networkStore()
    const limiter = createLimiter({ store })
    const started: string[] = []
    const task = (name: string) => () => void started.push(name)
    const controller = new AbortController()
    const a = limiter.run(task('a'), { signal: controller.signal })
    const runs = [limiter.run(task('b')), limiter.run(task('c'))]
    await settle()
    expect(calls.map((call) => call.costs.length)).toEqual([3])
    controller.abort()
    await expect(a).rejects.toBeInstanceOf(AbortError)
    runs.push(limiter.run(task('d')), limiter.run(task('urgent'), { priority: 1 }))
    await answer()
    // Three grants for a, b, c: the head takes each (urgent, then b, c); d waits for its own call.
    expect(started).toEqual(['urgent', 'b', 'c'])
    expect(givenBack).toEqual([])
    while (calls.length > 0) await answer()
    await Promise.all(runs)
    expect(started).toEqual(['urgent', 'b', 'c', 'd'])
  })

  it('keeps FIFO across calls in flight: grants of a later call go to the tasks an earlier one was refused', async () => {
    const clock = createManualClock()
    const { store, memory, calls, answer } = networkStore()
    const limiter = createLimiter({ store, key: 'fifo', clock })
    const started: number[] = []
    const runs = Array.from({ length: 64 * 4 }, (_, i) => limiter.run(() => void started.push(i)))
    await settle()
    expect(calls.map((call) => call.costs.length)).toEqual([64])
    // A full call granted in full: the next calls go before they are answered.
    await answer()
    expect(calls.map((call) => call.costs.length)).toEqual([64, 64, 64])
    // The first of them is refused (a pause taken by someone else), the second granted (lifted).
    memory.pause('fifo', 100, clock.now())
    await answer()
    memory.resume('fifo')
    await answer()
    expect(started).toEqual(Array.from({ length: 128 }, (_, i) => i))
    while (calls.length > 0 || limiter.stats().queued > 0) {
      if (calls.length === 0) await clock.advance(100)
      else await answer()
    }
    await Promise.all(runs)
    expect(started).toEqual(Array.from({ length: 64 * 4 }, (_, i) => i))
  })

  it('gives back what it was granted while paused, and starts those tasks on resume', async () => {
    const { store, givenBack, answer } = networkStore()
    const limiter = createLimiter({ store, concurrency: 4 })
    const started: number[] = []
    const runs = Array.from({ length: 3 }, (_, i) => limiter.run(() => void started.push(i)))
    await settle()
    limiter.pause()
    await answer()
    expect(started).toEqual([])
    expect(givenBack).toEqual([[1, 1, 1]])
    limiter.resume()
    await settle()
    await answer()
    await Promise.all(runs)
    expect(started).toEqual([0, 1, 2])
  })

  it('gives back what was granted under rates that changed meanwhile, and asks again under the new ones', async () => {
    const { store, calls, givenBack, answer } = networkStore()
    const limiter = createLimiter({ store, rate: '1000/s' })
    const runs = Array.from({ length: 3 }, () => limiter.run(() => {}))
    await settle()
    limiter.setRate('2000/s')
    await answer()
    expect(givenBack).toEqual([[1, 1, 1]])
    expect(calls.map((call) => call.costs.length)).toEqual([3])
    await answer()
    await Promise.all(runs)
  })

  it('starts no more than a concurrency lowered while the call was on its way: the other grants go back', async () => {
    const { store, calls, givenBack, answer } = networkStore()
    const limiter = createLimiter({ store, concurrency: 8 })
    let finish!: () => void
    const hold = new Promise<void>((resolve) => {
      finish = resolve
    })
    let running = 0
    let most = 0
    const runs = Array.from({ length: 12 }, () =>
      limiter.run(async () => {
        most = Math.max(most, ++running)
        await hold
        running--
      }),
    )
    await settle()
    expect(calls.map((call) => call.costs.length)).toEqual([8])
    limiter.setConcurrency(2)
    await answer()
    expect(running).toBe(2)
    expect(givenBack).toEqual([[1, 1, 1, 1, 1, 1]])
    finish()
    for (await settle(); calls.length > 0; await settle()) await answer()
    await Promise.all(runs)
    expect(most).toBe(2)
  })

  it('asks nothing while the head waits for the rate, whatever is queued meanwhile, then one call', async () => {
    const clock = createManualClock()
    const { store, calls, answer } = networkStore()
    const limiter = createLimiter({ store, rate: '32/s', clock })
    const runs = Array.from({ length: 40 }, () => limiter.run(() => {}))
    // A call takes at most a sixteenth of the window: two starts each.
    let asked = 0
    await settle()
    while (calls.length > 0) {
      asked++
      await answer()
    }
    expect(asked).toBe(17)
    expect(limiter.stats()).toMatchObject({ started: 32, queued: 8 })
    runs.push(...Array.from({ length: 10 }, () => limiter.run(() => {})))
    await settle()
    await clock.advance(999)
    expect(calls).toEqual([])
    await clock.advance(1)
    expect(calls.map((call) => call.costs.length)).toEqual([2])
    while (calls.length > 0 || limiter.stats().queued > 0) {
      if (calls.length === 0) await clock.advance(1000)
      else await answer()
    }
    await Promise.all(runs)
  })
})
