import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { AbortError } from '../../src/errors.js'
import { createManualClock } from '../../src/limit/clock.js'
import { createLimiter } from '../../src/limit/limiter.js'
import { all } from '../../src/run/all.js'
import { group } from '../../src/run/group.js'
import type { Result } from '../../src/run/result.js'
import { type Pulled, withSource } from '../../src/run/source.js'
import { stream } from '../../src/run/stream.js'
import { sleep } from '../support/clock.js'
import { retainedHeap } from '../support/memory.js'

const ticks = (n: number) => new Promise<void>((resolve) => setImmediate(resolve)).then(() => n)

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const value of iterable) out.push(value)
  return out
}

describe('all', () => {
  it('settles every task and returns results in input order, errors as values', async () => {
    const clock = createManualClock()
    const done = all(
      [30, 10, 20, 0],
      async (ms, { index }) => {
        await sleep(clock, ms)
        if (index === 2) throw new Error('third failed')
        return ms * 2
      },
      { concurrency: 2 },
    )
    await clock.advance(100)
    const results = await done
    expect(results.map((r) => r.index)).toEqual([0, 1, 2, 3])
    expect(results.map((r) => (r.ok ? r.value : r.error.message))).toEqual([60, 20, 'third failed', 0])
    expect(results[2]).toMatchObject({ ok: false, item: 20 })
  })

  it('wraps a thrown non-Error so results always hold an Error', async () => {
    const [result] = await all([1], () => Promise.reject('plain string'))
    expect(result).toMatchObject({ ok: false })
    expect(!result!.ok && result!.error.message).toMatch(/plain string/)
  })

  it('keeps at most `concurrency` tasks in flight (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 60 }),
        async (concurrency, delays) => {
          let running = 0
          let most = 0
          const results = await all(
            delays,
            async (delay) => {
              running++
              most = Math.max(most, running)
              for (let i = 0; i < delay; i++) await ticks(i)
              running--
              return delay
            },
            { concurrency },
          )
          expect(most).toBeLessThanOrEqual(concurrency)
          expect(results.map((r) => r.ok && r.value)).toEqual(delays)
        },
      ),
      { numRuns: 100 },
    )
  })

  it('runs through a shared limiter, whose rate holds across calls', async () => {
    const clock = createManualClock()
    const limiter = createLimiter({ rate: '2/s', clock })
    const starts: number[] = []
    const task = () => starts.push(clock.now())
    const both = Promise.all([all([1, 2, 3], task, { limiter }), all([4, 5], task, { limiter })])
    await clock.advance(3000)
    await both
    expect(starts).toEqual([0, 0, 1000, 1000, 2000])
  })

  it('settles items not yet started as AbortErrors when the caller aborts, and aborts running tasks', async () => {
    const controller = new AbortController()
    const seen: boolean[] = []
    const results = await all(
      [0, 1, 2, 3, 4],
      async (i, { signal }) => {
        if (i === 1) controller.abort(new Error('enough'))
        seen.push(signal.aborted)
        return i
      },
      { concurrency: 1, signal: controller.signal },
    )
    expect(results.map((r) => r.ok)).toEqual([true, true, false, false, false])
    expect(seen).toEqual([false, true])
    const failed = results[3]!
    expect(!failed.ok && failed.error).toBeInstanceOf(AbortError)
    expect(!failed.ok && failed.error.message).toBe('Aborted: enough')
  })

  it('stops starting on stopSignal while running tasks finish undisturbed', async () => {
    const stop = new AbortController()
    const clock = createManualClock()
    const done = all(
      [0, 1, 2, 3],
      async (i, { signal }) => {
        await sleep(clock, 10)
        if (i === 0) stop.abort(new Error('401 from the API'))
        return signal.aborted ? 'aborted' : 'finished'
      },
      { concurrency: 2, stopSignal: stop.signal },
    )
    await clock.advance(50)
    const results = await done
    expect(results.map((r) => (r.ok ? r.value : r.error.message))).toEqual([
      'finished',
      'finished',
      'Aborted: 401 from the API',
      'Aborted: 401 from the API',
    ])
  })

  it('rejects bad options naming them', async () => {
    await expect(all([1], (x) => x, { concurrency: 0 })).rejects.toThrow(/all: option `concurrency`/)
    await expect(all([1], (x) => x, { limiter: createLimiter(), rate: '1/s' })).rejects.toThrow(
      /give `limiter` or `rate`, not both/,
    )
  })
})

describe('stream', () => {
  it('yields results as tasks complete, not in input order', async () => {
    const clock = createManualClock()
    const iterator = stream([30, 10, 20], async (ms) => {
      await sleep(clock, ms)
      return ms
    })
    const seen = collect(iterator)
    await clock.advance(100)
    expect((await seen).map((r) => r.ok && r.value)).toEqual([10, 20, 30])
  })

  it('pulls an async iterable lazily: no more than concurrency plus a read-ahead ahead of the consumer', async () => {
    let pulled = 0
    async function* numbers() {
      for (let i = 0; ; i++) {
        pulled++
        yield i
      }
    }
    let read = 0
    for await (const _ of stream(numbers(), async (i) => i, { concurrency: 4 })) {
      read++
      // In flight (4) plus the unread results the workers may run ahead by (2 x 4).
      expect(pulled - read).toBeLessThanOrEqual(4 + 4 * 2)
      if (read === 50) break
    }
    expect(read).toBe(50)
  })

  it('aborts running tasks and closes the source when the consumer breaks out', async () => {
    let closed = false
    let abortedSignals = 0
    let started = 0
    function* items() {
      try {
        for (let i = 0; ; i++) yield i
      } finally {
        closed = true
      }
    }
    for await (const result of stream(
      items(),
      (i, { signal }) =>
        new Promise<number>((resolve) => {
          started++
          if (i === 0) return resolve(0)
          signal.addEventListener('abort', () => {
            abortedSignals++
            resolve(i)
          })
        }),
      { concurrency: 3 },
    )) {
      expect(result.index).toBe(0)
      break
    }
    expect(closed).toBe(true)
    // Every task still running when the consumer left (all but task 0) saw its signal abort.
    expect(started).toBeGreaterThanOrEqual(3)
    expect(abortedSignals).toBe(started - 1)
  })

  it('settles every next() even when called again before the previous one settled', async () => {
    const iterator = stream([1, 2, 3], async (x) => x)
    const results = await Promise.all([iterator.next(), iterator.next(), iterator.next(), iterator.next()])
    expect(
      results
        .slice(0, 3)
        .map((r) => (r.value as Result<number, number>).index)
        .sort(),
    ).toEqual([0, 1, 2])
    expect(results[3]!.done).toBe(true)
  })

  it('stops pulling a slow source when the consumer leaves: queued pulls never reach it', async () => {
    let pulls = 0
    let release: (() => void) | undefined
    async function* slow() {
      for (let i = 0; ; i++) {
        pulls++
        if (i > 0) await new Promise<void>((resolve) => (release = resolve))
        yield i
      }
    }
    const iterator = stream(slow(), async (x) => x, { concurrency: 4 })
    expect((await iterator.next()).value).toMatchObject({ ok: true, index: 0 })
    const closing = iterator.return!()
    release!() // the one pull in progress gets its item; the three queued behind it must not run
    await closing
    expect(pulls).toBe(2)
  })

  it('throws the source error after yielding what had completed', async () => {
    async function* failing() {
      yield 1
      throw new Error('source broke')
    }
    const seen: Result<number, number>[] = []
    await expect(
      (async () => {
        for await (const result of stream(failing(), async (x) => x)) seen.push(result)
      })(),
    ).rejects.toThrow('source broke')
    expect(seen.map((r) => r.ok && r.value)).toEqual([1])
  })

  it('takes a string as the iterable of its characters', async () => {
    const seen = (await collect(stream('abc', async (c) => c.toUpperCase()))).map((r) => r.ok && r.value)
    expect(seen.sort()).toEqual(['A', 'B', 'C'])
  })

  it('pulls items with their own Source from it directly: indexes from it, at once while it has items, and a throw is the source error', async () => {
    const pulls: number[] = []
    let closed = 0
    // Hands out 3 items at once, then one after a promise, then throws.
    const source = {
      n: 0,
      next(): Pulled<string> | Promise<Pulled<string>> {
        const n = this.n++
        pulls.push(n)
        if (n < 3) return { item: `item ${n}`, index: 10 + n }
        if (n === 3) return ticks(1).then(() => ({ item: 'late', index: 13 }))
        throw new Error('input broke')
      },
      stop() {},
      async close() {
        closed++
      },
    }
    const seen: Result<string, string>[] = []
    await expect(
      (async () => {
        for await (const result of stream(withSource(source), async (x) => x, { concurrency: 1 }))
          seen.push(result)
      })(),
    ).rejects.toThrow('input broke')
    expect(seen.map((r) => [r.index, r.ok && r.value]).sort()).toEqual([
      [10, 'item 0'],
      [11, 'item 1'],
      [12, 'item 2'],
      [13, 'late'],
    ])
    expect(closed).toBe(1)
    // Anything else iterates them as usual, and closes the source at the end.
    const plain = withSource(Object.assign(source, { n: 0 }))
    const firstTwo: string[] = []
    for await (const item of plain) {
      firstTwo.push(item)
      if (firstTwo.length === 2) break
    }
    expect(firstTwo).toEqual(['item 0', 'item 1'])
    expect(closed).toBe(2)
  })

  it('keeps heap growth bounded over 200,000 items from an endless generator at concurrency 100', async () => {
    function* endless() {
      for (let i = 0; ; i++) yield { id: i, payload: 'x'.repeat(100) }
    }
    const before = retainedHeap()
    let count = 0
    let peak = 0
    for await (const result of stream(endless(), async (item) => item.id, { concurrency: 100 })) {
      if (!result.ok) throw result.error
      if (++count % 20_000 === 0) peak = Math.max(peak, retainedHeap() - before)
      if (count === 200_000) break
    }
    // Retaining the 200,000 items or results would hold > 40 MB; in flight are ~200 of them.
    expect(peak).toBeLessThan(5 * 1024 * 1024)
  })
})

describe('group', () => {
  it('resolves values in input order when every task succeeds', async () => {
    expect(await group([3, 1, 2], async (x) => x * 10, { concurrency: 2 })).toEqual([30, 10, 20])
  })

  it('fails fast: aborts running tasks, starts nothing more, rejects with an AggregateError', async () => {
    const started: number[] = []
    const abortedRunning: number[] = []
    const clock = createManualClock()
    const run = group(
      [0, 1, 2, 3, 4, 5],
      async (i, { signal }) => {
        started.push(i)
        if (i === 1) {
          await sleep(clock, 5)
          throw new Error('task 1 failed')
        }
        await new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => {
            abortedRunning.push(i)
            resolve()
          }),
        )
        throw new AbortError()
      },
      { concurrency: 3 },
    )
    const rejected = expect(run).rejects.toSatisfy((error: unknown) => {
      expect(error).toBeInstanceOf(AggregateError)
      expect((error as AggregateError).errors.map((e: Error) => e.message)).toEqual(['task 1 failed'])
      return true
    })
    await clock.advance(10)
    await rejected
    expect(started).toEqual([0, 1, 2])
    expect(abortedRunning.sort()).toEqual([0, 2])
  })

  it('rejects with an AggregateError holding an AbortError when the caller aborts', async () => {
    const controller = new AbortController()
    const run = group(
      [1, 2],
      (x, { signal }) => new Promise((resolve) => signal.addEventListener('abort', () => resolve(x))),
      {
        signal: controller.signal,
      },
    )
    controller.abort()
    await expect(run).rejects.toSatisfy(
      (error: unknown) =>
        error instanceof AggregateError && (error.errors[0] as { code?: string }).code === 'ABORTED',
    )
  })
})
