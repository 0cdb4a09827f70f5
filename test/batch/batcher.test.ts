import { getEventListeners } from 'node:events'
import { describe, expect, it } from 'vitest'
import { batcher } from '../../src/batch/batcher.js'
import { BatchContractError, MissingResultError } from '../../src/batch/results.js'
import { AbortError, ClosedError, InvalidOptionError } from '../../src/errors.js'
import { createManualClock } from '../../src/limit/clock.js'
import { createLimiter } from '../../src/limit/limiter.js'
import { sleep } from '../../src/limit/sleep.js'
import { outcome, recordingBatch } from './support.js'

const double = (key: number) => key * 2

describe('batcher options', () => {
  it('rejects a bad option at construction, naming it and its value', () => {
    const batch = async (keys: number[]) => keys
    expect(() => batcher({ batch: 'nope' as never })).toThrow(/`batch` must be a function.*"nope"/)
    expect(() => batcher({ batch, maxBatchSize: 0 })).toThrow(/`maxBatchSize`.*got 0/)
    expect(() => batcher({ batch, maxWait: 'soon' })).toThrow(/`maxWait`.*"soon"/)
    expect(() => batcher({ batch, cache: {} as never })).toThrow(/`cache`.*get, set, delete and clear/)
    expect(() => batcher({ batch, retry: -1 })).toThrow(
      /`retry` must be a whole number of retries >= 0, got -1/,
    )
    expect(() => batcher({ batch, retry: { attempts: 0 } })).toThrow(/`retry`.attempts.*>= 1.*got 0/)
    expect(() => batcher({ batch, retry: { attempts: 2, backoff: { base: 'later' } } })).toThrow(
      /`retry`.backoff.base.*"later"/,
    )
    expect(() => batcher({ batch, concurrency: 1.5 })).toThrow(/batcher: option `concurrency`.*1.5/)
    expect(() => batcher({ batch, rate: '5/fortnight' })).toThrow(/batcher: option `rate`/)
    expect(() => batcher({ batch, limiter: createLimiter(), rate: '1/s' })).toThrow(/not both/)
    expect(() => batcher({ batch, dedupe: 'yes' as never })).toThrow(InvalidOptionError)
  })
})

describe('batcher timing', () => {
  it('sends a batch as soon as it holds maxBatchSize keys, without waiting for maxWait', async () => {
    const clock = createManualClock()
    const { batch, keys } = recordingBatch(clock, double)
    const load = batcher({ batch, maxBatchSize: 3, maxWait: 1000, clock })
    const results = Promise.all([1, 2, 3, 4].map((key) => load(key)))
    await clock.flush()
    expect(keys()).toEqual([[1, 2, 3]])
    await clock.advance(1000)
    expect(keys()).toEqual([[1, 2, 3], [4]])
    expect(await results).toEqual([2, 4, 6, 8])
  })

  it('sends a partial batch when its first key has waited maxWait, and not a moment before', async () => {
    const clock = createManualClock()
    const { batch, calls } = recordingBatch(clock, double)
    const load = batcher({ batch, maxBatchSize: 10, maxWait: '10ms', clock })
    const first = load(1)
    await clock.advance(5)
    const second = load(2)
    await clock.advance(4.9)
    expect(calls).toEqual([])
    await clock.advance(0.1)
    expect(calls.map(({ keys, at }) => ({ keys, at }))).toEqual([{ keys: [1, 2], at: 10 }])
    expect([await first, await second]).toEqual([2, 4])
  })

  it('runs no timer while nothing is queued', async () => {
    const clock = createManualClock()
    const { batch } = recordingBatch(clock, double)
    const load = batcher({ batch, maxBatchSize: 2, maxWait: 50, clock })
    expect(clock.pendingTimers()).toBe(0)
    const one = load(1)
    expect(clock.pendingTimers()).toBe(1)
    await clock.advance(50)
    expect(await one).toBe(2)
    expect(clock.pendingTimers()).toBe(0)
    // A batch that fills up cancels its maxWait timer.
    await Promise.all([load(3), load(4)])
    expect(clock.pendingTimers()).toBe(0)
  })

  it('with maxWait 0 sends everything loaded in one tick as one batch, awaits included', async () => {
    const clock = createManualClock()
    const { batch, keys } = recordingBatch(clock, double)
    const load = batcher({ batch, clock })
    const early = [load(1), load(2)]
    await Promise.resolve()
    const late = load(3)
    expect(await Promise.all([...early, late])).toEqual([2, 4, 6])
    await new Promise((resolve) => setImmediate(resolve))
    expect(await load(4)).toBe(8)
    expect(keys()).toEqual([[1, 2, 3], [4]])
    expect(clock.pendingTimers()).toBe(0)
  })

  it('flush sends what is queued at once and resolves when it is answered', async () => {
    const clock = createManualClock()
    const { batch, keys } = recordingBatch(clock, double)
    const load = batcher({ batch, maxWait: '1h', clock })
    const one = outcome(load(1))
    await load.flush()
    expect(keys()).toEqual([[1]])
    expect(one).toEqual({ state: 'fulfilled', value: 2 })
    expect(clock.pendingTimers()).toBe(0)
  })
})

describe('batcher dedupe and cache', () => {
  it('sends an equal key once per batch and hands the result to every load of it', async () => {
    const clock = createManualClock()
    const { batch, keys } = recordingBatch(clock, double)
    const load = batcher({ batch, maxWait: 10, clock })
    const results = Promise.all([load(1), load(2), load(1), load(1)])
    await clock.advance(10)
    expect(keys()).toEqual([[1, 2]])
    expect(await results).toEqual([2, 4, 2, 2])
  })

  it('dedupes a repeat that follows keys loaded in increasing order, and tells 1 from "1"', async () => {
    const clock = createManualClock()
    const { batch, keys } = recordingBatch(clock, (key: number | string) => `v${key}`)
    const load = batcher({ batch, maxWait: 10, clock })
    const results = Promise.all([1, 2, 3, 2, '1', 'a', 'b', 'a'].map((key) => load(key)))
    await clock.advance(10)
    expect(keys()).toEqual([[1, 2, 3, '1', 'a', 'b']])
    expect(await results).toEqual(['v1', 'v2', 'v3', 'v2', 'v1', 'va', 'vb', 'va'])
  })

  it('sends a key once when it is loaded again after its only load was aborted', async () => {
    const clock = createManualClock()
    const { batch, keys } = recordingBatch(clock, double)
    const load = batcher({ batch, maxWait: 10, clock })
    const controller = new AbortController()
    const aborted = outcome(load(2, { signal: controller.signal }))
    const three = load(3)
    controller.abort()
    const results = Promise.all([load(2), load(2), three])
    await clock.advance(10)
    expect(keys()).toEqual([[3, 2]])
    expect(await results).toEqual([4, 4, 6])
    expect(aborted.error).toBeInstanceOf(AbortError)
  })

  it('counts distinct keys against maxBatchSize, so repeats do not close a batch early', async () => {
    const clock = createManualClock()
    const { batch, keys } = recordingBatch(clock, double)
    const load = batcher({ batch, maxBatchSize: 2, maxWait: 10, clock })
    const results = Promise.all([load(1), load(1), load(1), load(2), load(3)])
    await clock.advance(10)
    expect(keys()).toEqual([[1, 2], [3]])
    expect(await results).toEqual([2, 2, 2, 4, 6])
  })

  it('sends repeats again when dedupe is off', async () => {
    const clock = createManualClock()
    const { batch, keys } = recordingBatch(clock, double)
    const load = batcher({ batch, maxWait: 10, dedupe: false, clock })
    const results = Promise.all([load(1), load(1)])
    await clock.advance(10)
    expect(keys()).toEqual([[1, 1]])
    expect(await results).toEqual([2, 2])
  })

  it('dedupes object items by `key`, and finds them by that key in a Map result', async () => {
    const clock = createManualClock()
    const seen: { id: number }[][] = []
    const load = batcher({
      batch: async (users: { id: number }[]) => {
        seen.push(users)
        return new Map(users.map((user) => [user.id, `user ${user.id}`]))
      },
      key: (user) => user.id,
      maxWait: 10,
      clock,
    })
    const results = Promise.all([load({ id: 7 }), load({ id: 8 }), load({ id: 7 })])
    await clock.advance(10)
    expect(seen).toEqual([[{ id: 7 }, { id: 8 }]])
    expect(await results).toEqual(['user 7', 'user 8', 'user 7'])
  })

  it('serves a repeated key from the cache with no batch call, and does not keep failures', async () => {
    const clock = createManualClock()
    let failNext = true
    const { batch, keys } = recordingBatch(clock, (key: number) => {
      if (key === 2 && failNext) {
        failNext = false
        return new Error('try again')
      }
      return key * 2
    })
    const load = batcher({ batch, cache: true, clock })
    expect(await load(1)).toBe(2)
    await expect(load(2)).rejects.toThrow('try again')
    expect(await load(1)).toBe(2)
    expect(await load(2)).toBe(4)
    expect(keys()).toEqual([[1], [2], [2]])
    expect(load.stats()).toMatchObject({ loads: 4, cacheHits: 1, batches: 3 })
    load.clear(1)
    expect(await load(1)).toBe(2)
    expect(keys()).toHaveLength(4)
  })

  it('with a cache, rejects an aborted load alone and still fetches and keeps the key', async () => {
    const clock = createManualClock()
    const { batch, keys } = recordingBatch(clock, double)
    const load = batcher({ batch, cache: true, maxWait: 10, clock })
    const controller = new AbortController()
    const aborted = outcome(load(1, { signal: controller.signal }))
    const other = load(1)
    controller.abort()
    await clock.advance(10)
    expect(aborted.error).toBeInstanceOf(AbortError)
    expect(await other).toBe(2)
    // A hit with no batch open opens one, and resolves when it goes (maxWait later), as DataLoader's.
    const again = outcome(load(1))
    await clock.advance(9)
    expect(again.state).toBe('pending')
    await clock.advance(1)
    expect(again).toEqual({ state: 'fulfilled', value: 2 })
    expect(keys()).toEqual([[1]])
  })

  it('uses a cache given as a Map-like object', async () => {
    const clock = createManualClock()
    const cache = new Map<number, Promise<number>>()
    const { batch, keys } = recordingBatch(clock, double)
    const load = batcher({ batch, cache, clock })
    await load(5)
    expect([...cache.keys()]).toEqual([5])
    expect(await load(5)).toBe(10)
    expect(keys()).toEqual([[5]])
  })
})

describe('batcher results', () => {
  it('rejects only the key whose result slot holds an Error', async () => {
    const clock = createManualClock()
    const { batch } = recordingBatch(clock, (key: number) => (key === 2 ? new Error('no such key: 2') : key))
    const load = batcher({ batch, clock })
    const results = await load.loadMany([1, 2, 3])
    expect(results.map((r) => (r.ok ? r.value : r.error.message))).toEqual([1, 'no such key: 2', 3])
    expect(results[1]).toMatchObject({ ok: false, index: 1, item: 2 })
  })

  it('finds results in a plain object keyed by key, and rejects a key it lacks with an error naming it', async () => {
    const load = batcher({
      batch: async (names: string[]) =>
        Object.fromEntries(names.filter((n) => n !== 'bob').map((n) => [n, n.length])),
    })
    const [ann, bob] = await load.loadMany(['ann', 'bob'])
    expect(ann).toMatchObject({ ok: true, value: 3 })
    expect(bob).toMatchObject({ ok: false })
    const error = (bob as unknown as { error: MissingResultError }).error
    expect(error).toBeInstanceOf(MissingResultError)
    expect(error.code).toBe('MISSING_RESULT')
    expect(error.message).toMatch(/no result for key "bob"/)
  })

  it('rejects every key when the batch returns an array of the wrong length, restating the contract', async () => {
    const load = batcher({ batch: async (keys: number[]) => keys.slice(1) })
    const results = await load.loadMany([1, 2, 3])
    for (const result of results) {
      expect(result.ok).toBe(false)
      const error = (result as unknown as { error: BatchContractError }).error
      expect(error).toBeInstanceOf(BatchContractError)
      expect(error.message).toMatch(
        /one result per key, in the order of the keys.*given 3 key\(s\) it returned an array of 2/,
      )
    }
  })

  it('rejects every key when the batch returns neither an array, a Map nor a plain object', async () => {
    const load = batcher({ batch: (async () => 'ok') as never })
    await expect(load(1)).rejects.toThrow(/given 1 key\(s\) it returned "ok"/)
    const nothing = batcher({ batch: (async () => undefined) as never })
    await expect(nothing(1)).rejects.toThrow(BatchContractError)
  })

  it('rejects every key of a batch that throws with its error', async () => {
    const boom = new Error('batch API down')
    const load = batcher({
      batch: async () => {
        throw boom
      },
    })
    const results = await load.loadMany([1, 2])
    expect(results.map((r) => !r.ok && r.error)).toEqual([boom, boom])
  })
})

describe('batcher retry', () => {
  it('tries a batch that throws again after a doubling backoff, through the limiter', async () => {
    const clock = createManualClock()
    const starts: number[] = []
    const load = batcher({
      batch: async (keys: number[]) => {
        starts.push(clock.now())
        if (starts.length < 3) throw new Error(`flaky ${starts.length}`)
        return keys.map(double)
      },
      retry: { attempts: 3, backoff: { base: 100 } },
      clock,
    })
    const result = outcome(load(21))
    await clock.advance(99)
    expect(starts).toEqual([0])
    await clock.advance(300)
    expect(starts).toEqual([0, 100, 300])
    expect(result).toEqual({ state: 'fulfilled', value: 42 })
    expect(load.stats()).toMatchObject({ batches: 1, retries: 2 })
  })

  it('takes a number as a count of retries, waiting 250 ms then 500 ms by default', async () => {
    const clock = createManualClock()
    const starts: number[] = []
    const load = batcher({
      batch: () => {
        starts.push(clock.now())
        throw new Error('thrown synchronously')
      },
      retry: 2,
      clock,
    })
    const result = outcome(load(1))
    await clock.advance(1000)
    expect(starts).toEqual([0, 250, 750])
    expect((result.error as Error).message).toBe('thrown synchronously')
  })

  it('rejects with the last error once the attempts are used up', async () => {
    const clock = createManualClock()
    let calls = 0
    const load = batcher({
      batch: async () => {
        calls++
        throw new Error(`down ${calls}`)
      },
      retry: { attempts: 2, backoff: (retry) => retry * 10 },

      clock,
    })
    const result = outcome(load(1))
    await clock.advance(10)
    expect(calls).toBe(2)
    expect(result.state).toBe('rejected')
    expect((result.error as Error).message).toBe('down 2')
  })
})

describe('batcher abort', () => {
  it('leaves a load aborted before its batch is sent out of the batch', async () => {
    const clock = createManualClock()
    const { batch, keys } = recordingBatch(clock, double)
    const load = batcher({ batch, maxWait: 10, clock })
    const controller = new AbortController()
    const one = load(1)
    const two = outcome(load(2, { signal: controller.signal }))
    controller.abort()
    await clock.flush()
    expect(two.state).toBe('rejected')
    expect(two.error).toBeInstanceOf(AbortError)
    await clock.advance(10)
    expect(keys()).toEqual([[1]])
    expect(await one).toBe(2)
  })

  it('keeps a deduped key in the batch while another load still wants it', async () => {
    const clock = createManualClock()
    const { batch, keys } = recordingBatch(clock, double)
    const load = batcher({ batch, maxWait: 10, clock })
    const controller = new AbortController()
    const first = outcome(load(1, { signal: controller.signal }))
    const second = load(1)
    controller.abort()
    await clock.advance(10)
    expect(keys()).toEqual([[1]])
    expect(await second).toBe(2)
    expect(first.error).toBeInstanceOf(AbortError)
  })

  it('leaves a deduped key out once every load of it has aborted, repeats first', async () => {
    const clock = createManualClock()
    const { batch, keys } = recordingBatch(clock, double)
    const load = batcher({ batch, maxWait: 10, clock })
    const controllers = [new AbortController(), new AbortController()]
    const [first, second] = controllers.map((c) => outcome(load(1, { signal: c.signal })))
    const two = load(2)
    controllers[1]!.abort()
    controllers[0]!.abort()
    await clock.advance(10)
    expect(keys()).toEqual([[2]])
    expect(await two).toBe(4)
    expect([first!.error, second!.error]).toEqual([expect.any(AbortError), expect.any(AbortError)])
  })

  it('sends nothing and stops its timer when every load of a batch aborts before it is sent', async () => {
    const clock = createManualClock()
    const { batch, calls } = recordingBatch(clock, double)
    const load = batcher({ batch, maxWait: 10, clock })
    const controller = new AbortController()
    const loads = [1, 2].map((key) => outcome(load(key, { signal: controller.signal })))
    controller.abort(new Error('user left'))
    await clock.flush()
    expect(clock.pendingTimers()).toBe(0)
    await clock.advance(100)
    expect(calls).toEqual([])
    expect(loads.map((l) => (l.error as AbortError).message)).toEqual([
      'Aborted: user left',
      'Aborted: user left',
    ])
    expect(load.stats().queued).toBe(0)
  })

  it('rejects a load aborted after its batch was sent at once, and aborts the batch once nobody waits', async () => {
    const clock = createManualClock()
    const { batch, calls } = recordingBatch(clock, double, 100)
    const load = batcher({ batch, clock })
    const a = new AbortController()
    const b = new AbortController()
    const first = outcome(load(1, { signal: a.signal }))
    const second = outcome(load(2, { signal: b.signal }))
    await clock.advance(10)
    expect(calls).toHaveLength(1)
    a.abort()
    await clock.flush()
    expect(first.error).toBeInstanceOf(AbortError)
    expect(calls[0]!.signal.aborted).toBe(false)
    b.abort()
    await clock.flush()
    expect(second.error).toBeInstanceOf(AbortError)
    expect(calls[0]!.signal.aborted).toBe(true)
  })

  it('rejects a load whose signal is already aborted without queueing it', async () => {
    const clock = createManualClock()
    const { batch } = recordingBatch(clock, double)
    const load = batcher({ batch, maxWait: 10, clock })
    await expect(load(1, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError)
    expect(clock.pendingTimers()).toBe(0)
  })
})

describe('batcher limits', () => {
  it('keeps collecting keys while the limiter holds batches back, so each batch starts full', async () => {
    const clock = createManualClock()
    const { batch, calls } = recordingBatch(clock, double, 100)
    const load = batcher({ batch, maxBatchSize: 3, maxWait: 10, concurrency: 1, clock })
    const all: Promise<number>[] = [load(1)]
    await clock.advance(20) // [1] has gone at t=10 and runs until t=110
    all.push(...[2, 3, 4, 5, 6, 7].map((key) => load(key))) // two full batches wait for the limiter
    all.push(load(8)) // a partial batch: handed to the limiter at t=30, still open
    await clock.advance(30)
    all.push(load(9), load(10), load(11))
    await clock.advance(1000)
    expect(calls.map(({ keys, at }) => ({ keys, at }))).toEqual([
      { keys: [1], at: 10 },
      { keys: [2, 3, 4], at: 110 },
      { keys: [5, 6, 7], at: 210 },
      { keys: [8, 9, 10], at: 310 },
      { keys: [11], at: 410 },
    ])
    expect(await Promise.all(all)).toEqual([2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22])
  })

  it('sends batches through a shared limiter, spacing them by its rate', async () => {
    const clock = createManualClock()
    const limiter = createLimiter({ rate: '1/s', clock })
    const { batch, calls } = recordingBatch(clock, double)
    const load = batcher({ batch, maxBatchSize: 2, limiter, clock })
    const results = Promise.all([1, 2, 3, 4, 5].map((key) => load(key)))
    await clock.advance(5000)
    expect(calls.map(({ keys, at }) => ({ keys, at }))).toEqual([
      { keys: [1, 2], at: 0 },
      { keys: [3, 4], at: 1000 },
      { keys: [5], at: 2000 },
    ])
    expect(await results).toEqual([2, 4, 6, 8, 10])
  })
  it('counts a batch against its rate from when its function says it was sent, with the API margin by default', async () => {
    const clock = createManualClock()
    const starts: number[] = []
    const load = batcher({
      batch: async (keys: readonly number[], { sent }) => {
        starts.push(clock.now())
        // A new connection first: the request goes out 300 ms after the batch was let through.
        await sleep(clock, 300)
        sent()
        return keys.map(double)
      },
      maxBatchSize: 1,
      rate: '1/s',
      clock,
    })
    const results = Promise.all([1, 2].map((key) => load(key)))
    await clock.advance(5000)
    expect(await results).toEqual([2, 4])
    // 1,000 ms after the send, plus the default 20 ms rateMargin.
    expect(starts).toEqual([0, 1320])
  })
})

describe('batcher and a shared limiter that closes', () => {
  it('fails the batch waiting in it, and later loads open a new batch instead of joining the dead one', async () => {
    const clock = createManualClock()
    const limiter = createLimiter({ rate: '1/s', clock })
    const { batch, keys } = recordingBatch(clock, double)
    const load = batcher({ batch, limiter, clock })
    expect(await load(1)).toBe(2)
    // The rate holds the next batch in the limiter's queue.
    const queued = outcome(load(2))
    await clock.flush()
    await limiter.close()
    await clock.flush()
    expect(queued.state).toBe('rejected')
    expect(queued.error).toBeInstanceOf(ClosedError)
    // Settles (does not hang in the dead batch): checked without waiting on it.
    const later = outcome(load(3))
    await clock.flush()
    expect(later.state).toBe('rejected')
    expect(later.error).toBeInstanceOf(ClosedError)
    expect(keys()).toEqual([[1]])
  })
})

describe('batcher call signals', () => {
  it('gives every batch call a signal of its own, so listeners a batch function leaves go with it', async () => {
    const clock = createManualClock()
    const signals: AbortSignal[] = []
    const load = batcher({
      batch: (keys: readonly number[], { signal }) => {
        signals.push(signal)
        signal.addEventListener('abort', () => {})
        return keys.map(double)
      },
      maxBatchSize: 2,
      clock,
    })
    await Promise.all([1, 2, 3, 4, 5].map((key) => load(key)))
    expect(signals).toHaveLength(3)
    expect(new Set(signals).size).toBe(3)
    for (const signal of signals) expect(getEventListeners(signal, 'abort')).toHaveLength(1)
  })
})

describe('batcher loadMany with a signal', () => {
  it('puts one listener on the signal however many items, removes it when done, and aborts them all', async () => {
    const clock = createManualClock()
    const { batch } = recordingBatch(clock, double, 10)
    const load = batcher({ batch, maxBatchSize: 5, maxWait: 0, clock })
    const controller = new AbortController()
    const listeners = () => getEventListeners(controller.signal, 'abort').length
    const done = load.loadMany([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], { signal: controller.signal })
    expect(listeners()).toBe(1)
    await clock.advance(10)
    expect((await done).map((r) => r.ok && r.value)).toEqual([2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24])
    expect(listeners()).toBe(0)
    // Past ten loads on our relay signal, Node would warn of a leak unless told not to.
    const warnings: Error[] = []
    const onWarning = (warning: Error) => warnings.push(warning)
    process.on('warning', onWarning)
    const items = Array.from({ length: 30 }, (_, i) => i)
    const aborted = load.loadMany(items, { signal: controller.signal })
    const reason = new Error('user cancelled')
    controller.abort(reason)
    const results = await aborted
    await new Promise((resolve) => setImmediate(resolve))
    process.off('warning', onWarning)
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([])
    // The caller's reason reaches every load.
    expect(results.every((r) => !r.ok && r.error instanceof AbortError && r.error.cause === reason)).toBe(
      true,
    )
  })

  it('fails the load whose key function throws, as a rejection, and loads the others', async () => {
    const clock = createManualClock()
    const { batch } = recordingBatch(clock, (item: { id: number }) => item.id * 2)
    const load = batcher({
      batch,
      key: (item: { id: number }) => {
        if (item.id < 0) throw new Error(`no key for ${item.id}`)
        return item.id
      },
      clock,
    })
    const results = load.loadMany([{ id: 1 }, { id: -1 }, { id: 2 }])
    await clock.advance(0)
    expect((await results).map((r) => (r.ok ? r.value : r.error.message))).toEqual([2, 'no key for -1', 4])
  })
})

describe('batcher close', () => {
  it('sends what is queued, waits for it, then rejects later loads with a ClosedError', async () => {
    const clock = createManualClock()
    const { batch, keys } = recordingBatch(clock, double, 50)
    const load = batcher({ batch, maxWait: '1h', clock })
    const queued = outcome(load(1))
    const closed = outcome(load.close())
    await clock.flush()
    expect(keys()).toEqual([[1]])
    expect(closed.state).toBe('pending')
    await clock.advance(50)
    expect(queued).toEqual({ state: 'fulfilled', value: 2 })
    expect(closed.state).toBe('fulfilled')
    const error = await load(2).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ClosedError)
    expect((error as ClosedError).code).toBe('CLOSED')
    expect(clock.pendingTimers()).toBe(0)
  })

  it('reports what it has done in stats', async () => {
    const clock = createManualClock()
    const { batch } = recordingBatch(clock, double)
    const load = batcher({ batch, maxBatchSize: 2, maxWait: 10, clock })
    const results = Promise.all([1, 2, 3, 3].map((key) => load(key)))
    expect(load.stats()).toMatchObject({ loads: 4, batches: 1, keys: 2, queued: 1 })
    await clock.advance(10)
    await results
    expect(load.stats()).toEqual({
      loads: 4,
      cacheHits: 0,
      batches: 2,
      retries: 0,
      keys: 3,
      largestBatch: 2,
      queued: 0,
      running: 0,
    })
  })
})
