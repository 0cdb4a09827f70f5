import { describe, expect, it } from 'vitest'
import { AbortError, ClosedError, InvalidOptionError } from '../../src/errors.js'
import { createManualClock } from '../../src/limit/clock.js'
import { createLimiter } from '../../src/limit/limiter.js'
import { memoryStore } from '../../src/limit/memory-store.js'
import { sleep } from '../support/clock.js'

/** A task that records when it started (on the manual clock) and finishes after `ms`. */
function recorder(clock: ReturnType<typeof createManualClock>) {
  const log: { name: string; at: number }[] = []
  const task =
    (name: string, ms = 0) =>
    async () => {
      log.push({ name, at: clock.now() })
      if (ms > 0) await sleep(clock, ms)
      return name
    }
  return { log, task, names: () => log.map((entry) => entry.name) }
}

describe('Limiter options', () => {
  it('rejects a bad option at construction, naming it and its value', () => {
    expect(() => createLimiter({ concurrency: 0 })).toThrow(/`concurrency`.*got 0/)
    expect(() => createLimiter({ rate: '5/fortnight' })).toThrow(/`rate`.*"5\/fortnight"/)
    expect(() => createLimiter({ rate: ['5/s', { limit: 0, interval: 1 }] })).toThrow(/`rate`\[1\]/)
    expect(() => createLimiter({ key: '' })).toThrow(InvalidOptionError)
    expect(() => createLimiter({ rateMargin: 'a bit' })).toThrow(/`rateMargin`.*"a bit"/)
    expect(() => createLimiter({ smooth: 1 as unknown as boolean })).toThrow(
      /`smooth` must be true or false, got 1/,
    )
  })

  it('rejects a cost that no rate could ever allow, before queueing it', async () => {
    const limiter = createLimiter({ rate: '3/s' })
    await expect(limiter.run(() => 1, { cost: 4 })).rejects.toThrow(/cost 4 exceeds the rate 3\/1s/)
    await expect(limiter.run(() => 1, { cost: 0 })).rejects.toThrow(/`cost`/)
    expect(limiter.stats()).toMatchObject({ queued: 0, started: 0 })
  })

  it('rejects a queued task whose cost a lowered rate no longer allows, and runs the rest', async () => {
    const clock = createManualClock()
    const limiter = createLimiter({ rate: '10/s', clock })
    await limiter.run(() => 1, { cost: 10 })
    const costly = limiter.run(() => 'costly', { cost: 5 }).catch((error: unknown) => error)
    const cheap = limiter.run(() => 'cheap', { cost: 2 })
    limiter.setRate('2/s')
    await clock.advance(1000)
    expect(await costly).toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(/cost 5 exceeds the rate 2\/1s, so the task could never start/),
    })
    await expect(cheap).resolves.toBe('cheap')
  })
})

describe('Limiter concurrency', () => {
  it('starts at most `concurrency` tasks and starts the next as one ends', async () => {
    const clock = createManualClock()
    const limiter = createLimiter({ concurrency: 2, clock })
    const { log, task } = recorder(clock)
    const done = Promise.all([
      limiter.run(task('a', 10)),
      limiter.run(task('b', 30)),
      limiter.run(task('c', 10)),
    ])
    await clock.flush()
    expect(limiter.stats()).toMatchObject({ running: 2, queued: 1 })
    await clock.advance(10)
    expect(log).toEqual([
      { name: 'a', at: 0 },
      { name: 'b', at: 0 },
      { name: 'c', at: 10 },
    ])
    await clock.advance(20)
    expect(await done).toEqual(['a', 'b', 'c'])
  })

  it('frees the slot of a task that throws synchronously', async () => {
    const limiter = createLimiter({ concurrency: 1 })
    await expect(
      limiter.run(() => {
        throw new Error('sync')
      }),
    ).rejects.toThrow('sync')
    expect(await limiter.run(() => 'next')).toBe('next')
    expect(limiter.stats().running).toBe(0)
  })
})

describe('Limiter rate', () => {
  it('never starts more than N in a sliding window, even across what would be a bucket edge', async () => {
    const clock = createManualClock()
    const limiter = createLimiter({ rate: '2/s', clock })
    const { log, task } = recorder(clock)
    // One start at 0, then two more at 900 ms: a fixed 1 s bucket would let both start at 1000.
    void limiter.run(task('a'))
    await clock.advance(900)
    void limiter.run(task('b'))
    void limiter.run(task('c'))
    await clock.advance(2000)
    expect(log).toEqual([
      { name: 'a', at: 0 },
      { name: 'b', at: 900 },
      { name: 'c', at: 1000 },
    ])
  })

  it('counts a start from when the task really began, even if the thread stalled after the decision', async () => {
    const manual = createManualClock()
    let stall = 0
    // The clock jumps while the first task is being called: a GC pause or a descheduled thread.
    const clock = { ...manual, now: () => manual.now() + stall }
    const limiter = createLimiter({ rate: '1/s', clock })
    const starts: number[] = []
    void limiter.run(() => {
      stall = 30
      starts.push(clock.now())
    })
    void limiter.run(() => starts.push(clock.now()))
    await manual.advance(2000)
    expect(starts).toEqual([30, 1030])
  })

  it('holds every rate of several at once', async () => {
    const clock = createManualClock()
    const limiter = createLimiter({ rate: ['3/s', '4/10s'], clock })
    const { log, task } = recorder(clock)
    for (let i = 0; i < 6; i++) void limiter.run(task(String(i)))
    await clock.advance(25_000)
    expect(log.map((entry) => entry.at)).toEqual([0, 0, 0, 1000, 10_000, 10_000])
  })

  it('counts a task of cost 3 as three starts', async () => {
    const clock = createManualClock()
    const limiter = createLimiter({ rate: '4/s', clock })
    const { log, task } = recorder(clock)
    void limiter.run(task('heavy'), { cost: 3 })
    void limiter.run(task('light'))
    void limiter.run(task('heavy2'), { cost: 3 })
    await clock.advance(1500)
    expect(log).toEqual([
      { name: 'heavy', at: 0 },
      { name: 'light', at: 0 },
      { name: 'heavy2', at: 1000 },
    ])
  })

  it('reports the time until the next start is allowed', async () => {
    const clock = createManualClock()
    const limiter = createLimiter({ rate: '1/s', clock })
    expect(limiter.stats().nextStartIn).toBe(0)
    await limiter.run(() => 1)
    await clock.advance(250)
    expect(limiter.stats()).toMatchObject({ started: 1, nextStartIn: 750 })
  })

  it('keeps counting the starts already made when setRate changes the window', async () => {
    const clock = createManualClock()
    const limiter = createLimiter({ rate: '3/s', clock })
    const { log, task } = recorder(clock)
    for (let i = 0; i < 3; i++) void limiter.run(task(String(i)))
    await clock.advance(500)
    limiter.setRate('3/1200ms')
    void limiter.run(task('after'))
    await clock.advance(2000)
    expect(log.map((entry) => entry.at)).toEqual([0, 0, 0, 1200])
  })

  it('adopts new rates with setRate', async () => {
    const clock = createManualClock()
    const limiter = createLimiter({ clock })
    const { log, task } = recorder(clock)
    limiter.setRate('1/s')
    for (let i = 0; i < 3; i++) void limiter.run(task(String(i)))
    await clock.advance(2500)
    expect(log.map((entry) => entry.at)).toEqual([0, 1000, 2000])
  })
})

describe('Limiter countsFrom', () => {
  it.each([
    ['sent', [0, 1400]],
    ['start', [0, 1000]],
  ] as const)(
    "countsFrom '%s': a start counts from when the task says its work was sent",
    async (countsFrom, expected) => {
      const clock = createManualClock()
      const limiter = createLimiter({ rate: '1/s', clock })
      const starts: number[] = []
      let sendFirst = () => {}
      const task = ({ sent }: { sent: () => void }) => {
        starts.push(clock.now())
        sendFirst = sent
      }
      const both = Promise.all([limiter.run(task, { countsFrom }), limiter.run(task, { countsFrom })])
      // The first request waits 400 ms for its connection before it goes out.
      await clock.advance(400)
      sendFirst()
      sendFirst() // a second call changes nothing
      await clock.advance(2000)
      await both
      expect(starts).toEqual(expected)
    },
  )

  it('a task that is never sent keeps the start it was given', async () => {
    const clock = createManualClock()
    const limiter = createLimiter({ rate: '1/s', clock })
    const starts: number[] = []
    const task = () => {
      starts.push(clock.now())
    }
    const both = Promise.all([
      limiter.run(task, { countsFrom: 'sent' }),
      limiter.run(task, { countsFrom: 'sent' }),
    ])
    await clock.advance(2000)
    await both
    expect(starts).toEqual([0, 1000])
  })
})

describe('Limiter order', () => {
  it('runs higher priority first and FIFO within a priority', async () => {
    const clock = createManualClock()
    const limiter = createLimiter({ concurrency: 1, clock })
    const { names, task } = recorder(clock)
    void limiter.run(task('first', 10))
    void limiter.run(task('low1'), { priority: -1 })
    void limiter.run(task('mid1'))
    void limiter.run(task('high1'), { priority: 5 })
    void limiter.run(task('mid2'))
    void limiter.run(task('high2'), { priority: 5 })
    void limiter.run(task('low2'), { priority: -1 })
    await clock.advance(100)
    expect(names()).toEqual(['first', 'high1', 'high2', 'mid1', 'mid2', 'low1', 'low2'])
  })

  it('rejects a priority that is not a number, which could not be ordered', async () => {
    const limiter = createLimiter({ concurrency: 1 })
    await expect(limiter.run(() => 1, { priority: Number.NaN })).rejects.toThrow(
      /`priority` must be a number, got NaN/,
    )
    expect(limiter.stats()).toMatchObject({ queued: 0, started: 0 })
  })

  it('keeps FIFO order across many one-off priorities as levels come and go', async () => {
    const clock = createManualClock()
    const limiter = createLimiter({ concurrency: 1, clock })
    const { names, task } = recorder(clock)
    void limiter.run(task('blocker', 10))
    for (let i = 0; i < 100; i++) void limiter.run(task(`p${i}`), { priority: i % 7 === 0 ? 1 : -i })
    void limiter.run(task('late-high'), { priority: 1 })
    await clock.advance(20)
    const expected = [
      'blocker',
      ...Array.from({ length: 100 }, (_, i) => i)
        .filter((i) => i % 7 === 0)
        .map((i) => `p${i}`),
      'late-high',
      ...Array.from({ length: 100 }, (_, i) => i)
        .filter((i) => i % 7 !== 0)
        .map((i) => `p${i}`),
    ]
    expect(names()).toEqual(expected)
  })

  it('does not let a new task overtake queued ones when a slot frees', async () => {
    const clock = createManualClock()
    const limiter = createLimiter({ concurrency: 1, rate: '10/s', clock })
    const { names, task } = recorder(clock)
    void limiter.run(task('a', 5))
    void limiter.run(task('b'))
    await clock.advance(5)
    void limiter.run(task('c'))
    await clock.advance(100)
    expect(names()).toEqual(['a', 'b', 'c'])
  })
})

describe('Limiter order with budgets (tokens)', () => {
  it('lets a lighter task behind a waiting head start in the room left, and keeps FIFO without budgets', async () => {
    const clock = createManualClock()
    const { task, log } = recorder(clock)
    const budget = createLimiter({ rate: '1000 tokens/s', clock })
    void budget.run(task('600'), { cost: { tokens: 600 } })
    void budget.run(task('700'), { cost: { tokens: 700 } })
    void budget.run(task('500'), { cost: { tokens: 500 } })
    void budget.run(task('300'), { cost: { tokens: 300 } })
    await clock.advance(0)
    // 400 tokens are left: the 700 waits, and the lightest behind it that fits (300) goes first.
    expect(log).toEqual([
      { name: '600', at: 0 },
      { name: '300', at: 0 },
    ])
    await clock.advance(1000)
    expect(log.slice(2)).toEqual([{ name: '700', at: 1000 }])
    await clock.advance(1000)
    expect(log.slice(3)).toEqual([{ name: '500', at: 2000 }])

    // Costs in requests: the order stays FIFO (a start of 3 waits, and the start of 1 behind it too).
    const requests = createLimiter({ rate: '4/s', clock })
    const order = recorder(clock)
    void requests.run(order.task('a'), { cost: 2 })
    void requests.run(order.task('b'), { cost: 3 })
    void requests.run(order.task('c'), { cost: 1 })
    await clock.advance(0)
    expect(order.names()).toEqual(['a'])
  })

  it('counts what a task says it used instead of its estimate, down or up, once', async () => {
    const clock = createManualClock()
    const { task, log } = recorder(clock)
    const limiter = createLimiter({ rate: '1000 tokens/s', clock })
    await limiter.run((context) => context.used({ tokens: 300 }), { cost: { tokens: 800 } })
    // 500 of the 800 came back: a call of 700 fits at once.
    void limiter.run(task('700'), { cost: { tokens: 700 } })
    await clock.advance(0)
    expect(log).toEqual([{ name: '700', at: 0 }])
    // No more than the 500 came back: the window holds 300 + 700, and a call of 1 waits.
    void limiter.run(task('1'), { cost: { tokens: 1 } })
    await clock.advance(0)
    expect(log).toHaveLength(1)
    await clock.advance(1000)
    // Used more than estimated: the 400 more count from when it was said, so a call of 700 waits.
    await limiter.run(
      (context) => {
        context.used({ tokens: 600 })
        context.used({ tokens: 0 })
      },
      { cost: { tokens: 200 } },
    )
    void limiter.run(task('late'), { cost: { tokens: 700 } })
    await clock.advance(999)
    expect(log.map((entry) => entry.name)).toEqual(['700', '1'])
    await clock.advance(1)
    expect(log.at(-1)).toEqual({ name: 'late', at: 2000 })
    await expect(
      limiter.run((context) => context.used({ tokens: -1 }), { cost: { tokens: 1 } }),
    ).rejects.toThrow(/TaskContext.used: cost.tokens must be a finite number >= 0, got -1/)
  })

  it('charges use made outside the limiter at once, without taking a slot', async () => {
    const clock = createManualClock()
    const { task, log } = recorder(clock)
    const limiter = createLimiter({ rate: '1000 tokens/s', concurrency: 1, clock })
    void limiter.run(task('holds the slot', 1000), { cost: { tokens: 0 } })
    await clock.advance(100)
    limiter.charge({ requests: 0, tokens: 600 })
    expect(limiter.stats()).toMatchObject({ running: 1, queued: 0 })
    // 600 counted from 100: a call of 500 waits until they leave the window, at 1100.
    void limiter.run(task('500'), { cost: { tokens: 500 } })
    await clock.advance(999)
    expect(log.map((entry) => entry.name)).toEqual(['holds the slot'])
    await clock.advance(1)
    expect(log.at(-1)).toEqual({ name: '500', at: 1100 })
    expect(() => limiter.charge({ tokens: -1 })).toThrow(/Limiter.charge: cost.tokens must be/)
  })

  it('lets lighter tasks pass a waiting head for one window of the budget at most', async () => {
    const clock = createManualClock()
    const { task, log } = recorder(clock)
    const limiter = createLimiter({ rate: '1000 tokens/s', clock })
    // The window fills 100 tokens at a time, so it frees 100 at a time.
    for (let i = 0; i < 10; i++) {
      void limiter.run(task(`early-${i}`), { cost: { tokens: 100 } })
      await clock.advance(100)
    }
    void limiter.run(task('heavy'), { cost: { tokens: 1000 } })
    // A stream of light tasks would keep the budget from ever being whole again.
    for (let i = 0; i < 40; i++) void limiter.run(task(`light-${i}`), { cost: { tokens: 100 } })
    await clock.advance(5000)
    const heavy = log.find((entry) => entry.name === 'heavy')!
    // It first waited at 1000; lights passed it into the room freed until 2000 (exclusive), then
    // nothing did, and it started once the last of them left the window.
    expect(log.filter((entry) => entry.name.startsWith('light') && entry.at < heavy.at)).toEqual(
      Array.from({ length: 10 }, (_, i) => ({ name: `light-${i}`, at: 1000 + i * 100 })),
    )
    expect(heavy.at).toBe(2900)
  })
})

describe('Limiter abort', () => {
  it('removes an aborted queued task at once, rejecting it with an AbortError, and frees nothing', async () => {
    const clock = createManualClock()
    const limiter = createLimiter({ concurrency: 1, clock })
    const { names, task } = recorder(clock)
    const controller = new AbortController()
    const first = limiter.run(task('a', 10))
    const aborted = limiter.run(task('b'), { signal: controller.signal })
    const third = limiter.run(task('c'))
    controller.abort(new Error('user gave up'))
    await expect(aborted).rejects.toMatchObject({ code: 'ABORTED', message: 'Aborted: user gave up' })
    expect(limiter.stats()).toMatchObject({ running: 1, queued: 1 })
    await clock.advance(10)
    await Promise.all([first, third])
    expect(names()).toEqual(['a', 'c'])
    expect(limiter.stats()).toMatchObject({ running: 0, queued: 0 })
  })

  it('rejects at once when the signal is already aborted', async () => {
    const limiter = createLimiter()
    let called = false
    await expect(
      limiter.run(
        () => {
          called = true
        },
        { signal: AbortSignal.abort() },
      ),
    ).rejects.toBeInstanceOf(AbortError)
    expect(called).toBe(false)
  })

  it('aborts every queued task sharing a signal, with one listener and no warning', async () => {
    const clock = createManualClock()
    const limiter = createLimiter({ concurrency: 1, clock })
    const controller = new AbortController()
    const warnings: Error[] = []
    const onWarning = (warning: Error) => warnings.push(warning)
    process.on('warning', onWarning)
    try {
      const tasks = Array.from({ length: 50 }, (_, i) =>
        limiter.run(() => sleep(clock, 10).then(() => i), { signal: controller.signal }),
      )
      const settled = Promise.allSettled(tasks)
      await clock.advance(25)
      controller.abort()
      await clock.advance(10)
      const results = await settled
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3)
      expect(results.filter((r) => r.status === 'rejected')).toHaveLength(47)
      await new Promise((resolve) => setImmediate(resolve))
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([])
    } finally {
      process.off('warning', onWarning)
    }
  })

  it('passes the signal to the task', async () => {
    const limiter = createLimiter()
    const controller = new AbortController()
    const seen = await limiter.run(({ signal }) => signal, { signal: controller.signal })
    expect(seen).toBe(controller.signal)
  })
})

describe('Limiter pause', () => {
  it('holds every start until the pause ends, while running tasks go on', async () => {
    const clock = createManualClock()
    const limiter = createLimiter({ clock })
    const { log, task } = recorder(clock)
    const running = limiter.run(task('running', 50))
    await limiter.pause('2s')
    void limiter.run(task('held'))
    await clock.advance(1999)
    expect(log.map((entry) => entry.name)).toEqual(['running'])
    expect(await running).toBe('running')
    await clock.advance(1)
    expect(log).toEqual([
      { name: 'running', at: 0 },
      { name: 'held', at: 2000 },
    ])
  })

  it('pauses until a wall-clock date, as Retry-After gives', async () => {
    const clock = createManualClock()
    const limiter = createLimiter({ clock })
    const { log, task } = recorder(clock)
    await limiter.pauseUntil(new Date(clock.wallTime() + 3000))
    void limiter.run(task('held'))
    await clock.advance(3000)
    expect(log).toEqual([{ name: 'held', at: 3000 }])
  })

  it('never shortens a longer pause', async () => {
    const clock = createManualClock()
    const limiter = createLimiter({ clock })
    const { log, task } = recorder(clock)
    await limiter.pause(5000)
    await limiter.pause(1000)
    void limiter.run(task('held'))
    await clock.advance(6000)
    expect(log).toEqual([{ name: 'held', at: 5000 }])
  })
})

describe('Limiter close and idle', () => {
  it('rejects queued tasks with a ClosedError, lets running ones finish, and refuses new ones', async () => {
    const clock = createManualClock()
    const limiter = createLimiter({ concurrency: 1, clock })
    const { task } = recorder(clock)
    const running = limiter.run(task('a', 10))
    const queued = limiter.run(task('b'))
    const closed = limiter.close()
    await expect(queued).rejects.toBeInstanceOf(ClosedError)
    await expect(limiter.run(task('c'))).rejects.toThrow(/closed/)
    await clock.advance(10)
    await closed
    expect(await running).toBe('a')
  })

  it('resolves idle() when nothing runs or waits, and leaves no timer behind', async () => {
    const clock = createManualClock()
    const limiter = createLimiter({ concurrency: 2, rate: '2/s', clock })
    const { task } = recorder(clock)
    for (let i = 0; i < 5; i++) void limiter.run(task(String(i), 10))
    let idle = false
    void limiter.idle().then(() => (idle = true))
    await clock.advance(1500)
    expect(idle).toBe(false)
    expect(clock.pendingTimers()).toBeGreaterThan(0)
    await clock.advance(1000)
    expect(idle).toBe(true)
    expect(clock.pendingTimers()).toBe(0)
  })

  it('resolves close() once a running task ends, with a store that answers asynchronously', async () => {
    const memory = memoryStore()
    // The memory store behind promises: how the Redis store answers.
    const store = {
      synchronous: false,
      acquire: async (...args: Parameters<typeof memory.acquire>) => memory.acquire(...args),
      release: async (key: string) => memory.release(key),
      pause: async (...args: Parameters<typeof memory.pause>) => memory.pause(...args),
      peek: async (...args: Parameters<typeof memory.peek>) => memory.peek(...args),
    }
    const limiter = createLimiter({ concurrency: 1, store })
    let finish: (() => void) | undefined
    const running = limiter.run(() => new Promise<void>((resolve) => (finish = resolve)))
    await new Promise((resolve) => setImmediate(resolve))
    const closed = limiter.close()
    finish!()
    await running
    await closed
    expect(limiter.stats().running).toBe(0)
  })

  it('removes the timer when the last waiting task is aborted', async () => {
    const clock = createManualClock()
    const limiter = createLimiter({ rate: '1/s', clock })
    await limiter.run(() => 1)
    const controller = new AbortController()
    const waiting = limiter.run(() => 2, { signal: controller.signal })
    expect(clock.pendingTimers()).toBe(1)
    controller.abort()
    await expect(waiting).rejects.toBeInstanceOf(AbortError)
    expect(clock.pendingTimers()).toBe(0)
  })
})

describe('Limiters sharing a store', () => {
  it('share concurrency and rate under one key', async () => {
    const clock = createManualClock()
    const store = memoryStore()
    const a = createLimiter({ concurrency: 1, rate: '2/s', store, key: 'api', clock })
    const b = createLimiter({ concurrency: 1, rate: '2/s', store, key: 'api', clock })
    const { log, task } = recorder(clock)
    void a.run(task('a1', 100))
    void b.run(task('b1', 100))
    void b.run(task('b2', 100))
    await clock.advance(2000)
    expect(log).toEqual([
      { name: 'a1', at: 0 },
      { name: 'b1', at: 100 },
      { name: 'b2', at: 1000 },
    ])
  })
})
