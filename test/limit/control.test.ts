import { AsyncLocalStorage } from 'node:async_hooks'
import { describe, expect, it } from 'vitest'
import { AbortError, InvalidOptionError } from '../../src/errors.js'
import { createManualClock } from '../../src/limit/clock.js'
import { createLimiter } from '../../src/limit/limiter.js'
import { memoryStore } from '../../src/limit/memory-store.js'
import type { LimiterStore, LimitPolicy } from '../../src/limit/store.js'
import { sleep } from '../support/clock.js'
import { gate } from '../support/gate.js'

describe('async context through the queue', () => {
  it('runs each queued task in the context it was queued from, not in the one that freed its slot', async () => {
    const storage = new AsyncLocalStorage<string>()
    const limiter = createLimiter({ concurrency: 1 })
    const seen = await Promise.all(
      ['A', 'B', 'C'].map((name) =>
        storage.run(name, () => limiter.run(async () => (await Promise.resolve(), storage.getStore()))),
      ),
    )
    expect(seen).toEqual(['A', 'B', 'C'])
  })

  it('keeps the context of a task that waited for the rate, whoever woke the queue', async () => {
    const storage = new AsyncLocalStorage<number>()
    const clock = createManualClock()
    const limiter = createLimiter({ rate: '2/s', clock })
    const runs = Array.from({ length: 6 }, (_, i) =>
      storage.run(i, () => limiter.run(() => storage.getStore())),
    )
    await clock.advance(3000)
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3, 4, 5])
  })
})

describe('changing the limits mid-run', () => {
  it('starts more at once when concurrency goes up, and none until enough end when it goes down', async () => {
    const limiter = createLimiter({ concurrency: 2 })
    const work = gate()
    const runs = Array.from({ length: 12 }, () => limiter.run(work.task))
    expect(work.running).toBe(2)
    limiter.setConcurrency(5)
    expect(limiter.concurrency).toBe(5)
    expect(work.running).toBe(5)
    limiter.setConcurrency(1)
    work.finish(3)
    await Promise.resolve()
    // Two of the five still run: above the new cap, so nothing new has started.
    expect(work.running).toBe(2)
    work.finish(1)
    await Promise.resolve()
    expect(work.running).toBe(1)
    work.finish(1)
    await Promise.resolve()
    expect(work.running).toBe(1)
    expect(limiter.stats().queued).toBe(6)
    while (limiter.stats().queued > 0 || work.running > 0) {
      work.finish()
      await new Promise((resolve) => setImmediate(resolve))
    }
    await Promise.all(runs)
    expect(work.most).toBe(5)
  })

  it('refuses a bad concurrency naming the method, and a write to the read-only getter', () => {
    const limiter = createLimiter({ concurrency: 2 })
    expect(() => limiter.setConcurrency(0)).toThrow(InvalidOptionError)
    expect(() => limiter.setConcurrency(0)).toThrow(/Limiter.setConcurrency: concurrency .*got 0/)
    expect(() => {
      ;(limiter as { concurrency: number }).concurrency = 3
    }).toThrow(TypeError)
    expect(limiter.concurrency).toBe(2)
  })

  it('applies a new rate to the queue at once, up and down', async () => {
    const clock = createManualClock()
    const limiter = createLimiter({ rate: '2/s', clock })
    const started: number[] = []
    const runs = Array.from({ length: 10 }, () => limiter.run(() => void started.push(clock.now())))
    expect(started).toEqual([0, 0])
    limiter.setRate('5/s')
    expect(started).toEqual([0, 0, 0, 0, 0])
    expect(limiter.rates).toMatchObject([{ limit: 5, interval: 1000 }])
    limiter.setRate('1/s')
    await clock.advance(5000)
    await Promise.all(runs)
    expect(started.slice(5)).toEqual([1000, 2000, 3000, 4000, 5000])
  })
})

describe('limits that change while the store answers', () => {
  it('gives back a start granted under the old limits and asks again under the new', async () => {
    const memory = memoryStore()
    const asked: { rates: number; policy: LimitPolicy }[] = []
    const answers: (() => void)[] = []
    let released = 0
    // A store over the network: each acquire answers when the test says, as Redis would later.
    const remote: LimiterStore = {
      synchronous: false,
      acquire: (key, policy, cost, now) => {
        asked.push({ rates: policy.rates.length, policy })
        return new Promise((resolve) => answers.push(() => resolve(memory.acquire(key, policy, cost, now))))
      },
      release: async (key) => {
        released++
        memory.release(key)
      },
      pause: async (...args) => memory.pause(...args),
      peek: async (...args) => memory.peek(...args),
    }
    const clock = createManualClock()
    const limiter = createLimiter({ store: remote, key: 'learned', clock })
    let ran = false
    const run = limiter.run(() => (ran = true))
    await until(() => answers.length === 1)
    // A quota learned while the acquire was on its way: the grant counted no start against it.
    limiter.setRate('1/s')
    answers.shift()!()
    await until(() => answers.length === 1)
    expect(ran).toBe(false)
    expect(released).toBe(1)
    answers.shift()!()
    await run
    expect(ran).toBe(true)
    expect(asked.map((a) => a.rates)).toEqual([0, 1])
    expect(memory.used(limiter.key, asked[1]!.policy, 'requests', 0)).toBe(1)

    // The same rates again (a re-learned quota) or another concurrency: the grant stands.
    await clock.advance(1000)
    const releasedBefore = released
    const kept = limiter.run(() => 'kept')
    await until(() => answers.length === 1)
    limiter.setRate('1/s')
    limiter.setConcurrency(3)
    answers.shift()!()
    expect(await kept).toBe('kept')
    // Its own release when it ended, and no other: nothing was given back, nothing asked again.
    expect(released - releasedBefore).toBe(1)
    expect(asked).toHaveLength(3)
  })
})

/** Resolves once `check` holds, letting promises and I/O callbacks run in between. */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((resolve) => setImmediate(resolve))
  expect(check()).toBe(true)
}

describe('pause, resume and clear', () => {
  it('pause() holds every start until resume(); running tasks go on', async () => {
    const limiter = createLimiter({ concurrency: 2 })
    const work = gate()
    const runs = Array.from({ length: 4 }, () => limiter.run(work.task))
    limiter.pause()
    expect(limiter.isPaused).toBe(true)
    work.finish()
    await new Promise((resolve) => setImmediate(resolve))
    expect(work.running).toBe(0)
    expect(limiter.stats()).toMatchObject({ running: 0, queued: 2 })
    // A new task queues too, even with a free slot.
    const late = limiter.run(() => 'late')
    expect(limiter.stats().queued).toBe(3)
    await limiter.resume()
    expect(limiter.isPaused).toBe(false)
    expect(work.running).toBe(2)
    work.finish()
    await expect(late).resolves.toBe('late')
    await Promise.all(runs)
  })

  it('a task that pauses the limiter as it starts stops the queue right behind it', async () => {
    const limiter = createLimiter()
    limiter.pause()
    const started: number[] = []
    const runs = [0, 1, 2].map((i) =>
      limiter.run(() => {
        started.push(i)
        if (i === 0) limiter.pause()
      }),
    )
    await limiter.resume()
    expect(started).toEqual([0])
    await limiter.resume()
    await Promise.all(runs)
    expect(started).toEqual([0, 1, 2])
  })

  it('resume() lifts only the open pause; liftPause() ends a timed one early', async () => {
    const clock = createManualClock()
    const limiter = createLimiter({ clock })
    await limiter.pause('1h')
    let ran = false
    const run = limiter.run(() => (ran = true))
    limiter.pause()
    limiter.resume()
    await clock.advance(1000)
    // The timed pause (a server's Retry-After, as the HTTP client sets it) is not the user's to resume.
    expect(ran).toBe(false)
    await limiter.liftPause()
    await run
    expect(ran).toBe(true)
    expect(clock.now()).toBe(1000)
  })

  it('pause(undefined) is a bad duration, not an open pause', async () => {
    const limiter = createLimiter()
    const pause = limiter.pause as (duration?: unknown) => Promise<void> | void
    await expect(pause.call(limiter, undefined)).rejects.toThrow(/Limiter.pause: duration/)
    expect(limiter.isPaused).toBe(false)
  })

  it('an open pause is not counted as a wait for the rate', async () => {
    const clock = createManualClock()
    const limiter = createLimiter({ rate: '1/s', clock })
    await limiter.run(() => 1)
    const next = limiter.run(() => 2)
    await clock.advance(100)
    limiter.pause()
    await clock.advance(5000)
    limiter.resume()
    await next
    expect(limiter.waitedForRate).toBe(100)
  })

  it('clear() rejects what waits with an AbortError naming the reason, and lets running tasks end', async () => {
    const limiter = createLimiter({ concurrency: 1 })
    const work = gate()
    const running = limiter.run(work.task)
    const queued = [limiter.run(work.task), limiter.run(work.task)].map((p) =>
      p.catch((error: unknown) => error),
    )
    const reason = new Error('shutting down')
    expect(limiter.clear(reason)).toBe(2)
    const errors = await Promise.all(queued)
    for (const error of errors) {
      expect(error).toBeInstanceOf(AbortError)
      expect(error).toMatchObject({
        message: 'Limiter.clear: removed from the queue: shutting down',
        cause: reason,
      })
    }
    expect(work.running).toBe(1)
    work.finish()
    await running
    await limiter.idle()
    // The limiter goes on taking tasks.
    await expect(limiter.run(() => 'after')).resolves.toBe('after')
  })
})

describe('awaitable queue states', () => {
  it('onSizeLessThan holds a producer so that the queue never grows past it', async () => {
    const clock = createManualClock()
    const limiter = createLimiter({ concurrency: 4, rate: '50/s', clock })
    let longest = 0
    const produced: Promise<number>[] = []
    const producer = (async () => {
      for (let i = 0; i < 200; i++) {
        await limiter.onSizeLessThan(10)
        produced.push(limiter.run(() => i))
        longest = Math.max(longest, limiter.stats().queued)
      }
    })()
    while (produced.length < 200 || limiter.stats().queued > 0) await clock.advance(100)
    await producer
    expect(await Promise.all(produced)).toEqual(Array.from({ length: 200 }, (_, i) => i))
    expect(longest).toBe(10)
  })

  it('onEmpty resolves when nothing waits though tasks still run; idle when nothing runs either', async () => {
    const clock = createManualClock()
    const limiter = createLimiter({ concurrency: 1, clock })
    const events: string[] = []
    const runs = [limiter.run(() => sleep(clock, 100)), limiter.run(() => sleep(clock, 100))]
    void limiter.onEmpty().then(() => events.push(`empty at ${clock.now()}`))
    void limiter.idle().then(() => events.push(`idle at ${clock.now()}`))
    await clock.advance(100)
    expect(events).toEqual(['empty at 100'])
    await clock.advance(100)
    expect(events).toEqual(['empty at 100', 'idle at 200'])
    await Promise.all(runs)
  })

  it('refuses a size that is not above 0, naming the method', async () => {
    await expect(createLimiter().onSizeLessThan(0)).rejects.toThrow(/Limiter.onSizeLessThan: size .*got 0/)
  })
})

describe('what the queue waited for', () => {
  it('counts the time it waited for a rate or a timed pause, not for a slot', async () => {
    const clock = createManualClock()
    const limiter = createLimiter({ rate: '2/s', concurrency: 1, clock })
    const runs = Array.from({ length: 4 }, () => limiter.run(() => sleep(clock, 100)))
    // 0 runs; 1 waits for the slot until 100; 2 for the slot until 200, then for the rate until
    // 1000 (two starts in its window); 3 for the slot until 1100, when the start at 100 leaves.
    await clock.advance(1200)
    await Promise.all(runs)
    expect(limiter.waitedForRate).toBe(800)
    // At 1200 a pause of 300 ms, then the rate (starts at 1000 and 1100) holds the next until 2000.
    await limiter.pause(300)
    const paused = limiter.run(() => 'after')
    await clock.advance(800)
    await paused
    expect(limiter.waitedForRate).toBe(1600)
  })
})

describe('when a task runs, and what keeps its slot', () => {
  it('calls fn before run() returns when nothing waits and a slot is free (as p-queue; p-limit defers)', async () => {
    const limiter = createLimiter({ concurrency: 1 })
    let value = 1
    const seen = limiter.run(() => value)
    value = 2
    expect(await seen).toBe(1)
  })

  it('keeps the slot of a running task whose signal aborts until its fn settles', async () => {
    const limiter = createLimiter({ concurrency: 1 })
    const controller = new AbortController()
    const work = gate()
    const ignoring = limiter.run(work.task, { signal: controller.signal })
    const next = limiter.run(() => 'next')
    controller.abort()
    await new Promise((resolve) => setImmediate(resolve))
    expect(limiter.stats()).toMatchObject({ running: 1, queued: 1 })
    work.finish()
    await ignoring
    await expect(next).resolves.toBe('next')
  })
})
