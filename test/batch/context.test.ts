import { AsyncLocalStorage } from 'node:async_hooks'
import { describe, expect, it } from 'vitest'
import { type Batcher, batcher } from '../../src/batch/batcher.js'
import type { BatcherOptions } from '../../src/batch/options.js'
import { createManualClock, type ManualClock } from '../../src/limit/clock.js'
import { sleep } from '../support/clock.js'

const als = new AsyncLocalStorage<string>()

/** A batcher whose batch function records the context it runs in, and answers key * 2 after `ms`. */
function contextBatcher(clock: ManualClock, options: Partial<BatcherOptions<number, number>>, ms = 0) {
  const contexts: (string | undefined)[] = []
  const load = batcher<number, number>({
    batch: async (keys) => {
      contexts.push(als.getStore())
      if (ms > 0) await sleep(clock, ms)
      return keys.map((key) => key * 2)
    },
    clock,
    ...options,
  })
  return { load, contexts }
}

/** Loads `key` in context `name`: what it resolved to and the context its continuation saw. */
function loadIn(name: string, load: Batcher<number, number>, key: number) {
  return als.run(name, async () => {
    const value = await load(key)
    return { value, context: als.getStore() }
  })
}

describe('batcher async context', () => {
  it('runs the batch function in its first load’s context when a timer sends it', async () => {
    const clock = createManualClock()
    const { load, contexts } = contextBatcher(clock, { maxWait: 10 })
    const loads = [loadIn('A', load, 1), loadIn('B', load, 2)]
    await als.run('clock', () => clock.advance(10))
    expect(await Promise.all(loads)).toEqual([
      { value: 2, context: 'A' },
      { value: 4, context: 'B' },
    ])
    expect(contexts).toEqual(['A'])
  })

  it('runs it in its first load’s context when a later load fills it, or flush sends it', async () => {
    const clock = createManualClock()
    const { load, contexts } = contextBatcher(clock, { maxWait: 10, maxBatchSize: 2 })
    const full = [loadIn('A', load, 1), loadIn('B', load, 2)]
    const flushed = loadIn('C', load, 3)
    await als.run('flush', () => load.flush())
    expect(await Promise.all([...full, flushed])).toEqual([
      { value: 2, context: 'A' },
      { value: 4, context: 'B' },
      { value: 6, context: 'C' },
    ])
    expect(contexts).toEqual(['A', 'C'])
  })

  it('runs it in its first load’s context at the end of a tick another context scheduled', async () => {
    const clock = createManualClock()
    const { load, contexts } = contextBatcher(clock, { maxBatchSize: 2 })
    // X's loads fill a batch and leave the batcher's one end-of-tick pending; A opens the next batch.
    const loads = [loadIn('X', load, 1), loadIn('X', load, 2), loadIn('A', load, 3)]
    await Promise.all(loads)
    expect(contexts).toEqual(['X', 'A'])
  })

  it('runs it in its first load’s context when the limiter lets it go, and again on a retry', async () => {
    const clock = createManualClock()
    let attempts = 0
    const contexts: (string | undefined)[] = []
    const load = batcher<number, number>({
      batch: async (keys) => {
        contexts.push(als.getStore())
        await sleep(clock, 10)
        if (keys.includes(3) && ++attempts === 1) throw new Error('flaky')
        return keys.map((key) => key * 2)
      },
      concurrency: 1,
      retry: { attempts: 2, backoff: { base: 5 } },
      clock,
    })
    const first = loadIn('A', load, 1)
    await clock.flush()
    // [1] runs; [3] waits for the limiter, then fails once and is tried again.
    const second = loadIn('B', load, 3)
    await als.run('clock', () => clock.advance(100))
    expect(await Promise.all([first, second])).toEqual([
      { value: 2, context: 'A' },
      { value: 6, context: 'B' },
    ])
    expect(contexts).toEqual(['A', 'B', 'B'])
  })

  it('resumes a cache hit in its own context, and runs the batch a hit opened in the hit’s context', async () => {
    const clock = createManualClock()
    const { load, contexts } = contextBatcher(clock, { cache: true })
    load.prime(5, 10)
    // B's hit opens the batch (as in DataLoader, where a hit joins the current batch or makes one).
    const loads = [loadIn('B', load, 5), loadIn('A', load, 1), loadIn('C', load, 1)]
    expect(await Promise.all(loads)).toEqual([
      { value: 10, context: 'B' },
      { value: 2, context: 'A' },
      { value: 2, context: 'C' },
    ])
    expect(contexts).toEqual(['B'])
  })
})
