import DataLoader from 'dataloader'
import { describe, expect, it } from 'vitest'
import { batcher } from '../../src/batch/batcher.js'
import { InvalidOptionError } from '../../src/errors.js'
import { createManualClock } from '../../src/limit/clock.js'
import { outcome, recordingBatch } from './support.js'

/** The little of a loader the nested scenarios use, so DataLoader and volley run the same code. */
type Loader = { load(key: number): Promise<number> }
type MakeLoader = (batch: (keys: readonly number[]) => Promise<number[]>, cache: boolean) => Loader

const loaders: Record<string, MakeLoader> = {
  dataloader: (batch, cache) => new DataLoader<number, number>(batch, { cache }),
  volley: (batch, cache) => batcher({ batch: (keys: number[]) => batch(keys), cache }),
}

/** Level 1 answers id * 10, with 1 already cached; returns the batches level 2 was called with. */
async function twoLevels(make: MakeLoader): Promise<number[][]> {
  const sent: number[][] = []
  const l1 = make(async (ids) => ids.map((id) => id * 10), true)
  const l2 = make(async (ids) => {
    sent.push([...ids])
    return [...ids]
  }, false)
  await l1.load(1)
  await Promise.all([1, 2, 3].map((id) => l1.load(id).then((v) => l2.load(v))))
  return sent
}

/** Three levels, a hit at each of the first two, one key (4) pending in an earlier batch. */
async function threeLevels(make: MakeLoader): Promise<number[][]> {
  const sent: number[][] = []
  const a = make(async (ids) => ids.map((id) => id + 100), true)
  const b = make(async (ids) => ids.map((id) => id + 1000), true)
  const c = make(async (ids) => {
    sent.push([...ids])
    return [...ids]
  }, false)
  await a.load(1)
  await b.load(101)
  const early = a.load(4)
  await Promise.resolve()
  await Promise.all(
    [1, 2, 3, 4].map((id) =>
      a
        .load(id)
        .then((v) => b.load(v))
        .then((v) => c.load(v)),
    ),
  )
  await early
  return sent
}

describe('batcher cache hits', () => {
  it('holds a hit until the batch it joined is answered, so nested loads make one batch call', async () => {
    expect(await twoLevels(loaders.volley!)).toEqual([[20, 30, 10]])
  })

  it('gives the next levels the same batches as DataLoader does, in the same order', async () => {
    expect(await twoLevels(loaders.volley!)).toEqual(await twoLevels(loaders.dataloader!))
    const volley = await threeLevels(loaders.volley!)
    expect(volley).toEqual(await threeLevels(loaders.dataloader!))
    expect(volley).toHaveLength(1)
  })

  it('resolves a hit with no batch open at the end of the tick, and a miss in that tick joins its batch', async () => {
    const clock = createManualClock()
    const { batch, keys } = recordingBatch(clock, (key: number) => key * 2, 100)
    const load = batcher({ batch, cache: true, clock })
    load.prime(1, 2)
    const hit = outcome(load(1))
    await Promise.resolve()
    expect(hit.state).toBe('pending')
    const miss = outcome(load(5))
    // The batch [5] goes at the end of the tick and takes 100 ms; the hit waits for its answer.
    await clock.advance(99)
    expect(keys()).toEqual([[5]])
    expect(hit.state).toBe('pending')
    await clock.advance(1)
    expect(hit).toEqual({ state: 'fulfilled', value: 2 })
    expect(miss).toEqual({ state: 'fulfilled', value: 10 })
    expect(load.stats()).toMatchObject({ loads: 2, cacheHits: 1, batches: 1 })
  })

  it('resolves the hits of a batch that fails, with their own cached results', async () => {
    const load = batcher({
      batch: async (keys: number[]) => {
        if (keys.includes(9)) throw new Error('batch API down')
        return keys
      },
      cache: true,
    })
    load.prime(1, 100)
    const [hit, miss] = await load.loadMany([1, 9])
    expect(hit).toMatchObject({ ok: true, value: 100 })
    expect(miss).toMatchObject({ ok: false, error: { message: 'batch API down' } })
  })
})

describe('batcher prime, clear and clearAll', () => {
  it('answers a primed key from the cache with no batch call, and does not replace a kept result', async () => {
    const clock = createManualClock()
    const { batch, keys } = recordingBatch(clock, (key: number) => key * 2)
    const load = batcher({ batch, cache: true, clock })
    expect(await load(1)).toBe(2)
    expect(load.prime(1, 99).prime(2, 40)).toBe(load)
    expect(await load.loadMany([1, 2])).toMatchObject([
      { ok: true, value: 2 },
      { ok: true, value: 40 },
    ])
    expect(keys()).toEqual([[1]])
  })

  it('keeps a primed Error as a rejection until the key is cleared, with no unhandled rejection', async () => {
    const clock = createManualClock()
    const { batch, keys } = recordingBatch(clock, (key: number) => key * 2)
    const load = batcher({ batch, cache: true, clock })
    const gone = new Error('user 3 was deleted')
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    load.prime(3, gone)
    await new Promise((resolve) => setImmediate(resolve))
    process.off('unhandledRejection', onUnhandled)
    expect(unhandled).toEqual([])
    await expect(load(3)).rejects.toBe(gone)
    await expect(load(3)).rejects.toBe(gone)
    expect(keys()).toEqual([])
    load.clear(3)
    expect(await load(3)).toBe(6)
    expect(keys()).toEqual([[3]])
  })

  it('primes and clears by the key of an item, when a key function is given', async () => {
    const clock = createManualClock()
    const { batch, keys } = recordingBatch(clock, (user: { id: number }) => `user ${user.id}`)
    const load = batcher({ batch, key: (user: { id: number }) => user.id, cache: true, clock })
    load.prime({ id: 7 }, 'primed 7')
    expect(await load({ id: 7 })).toBe('primed 7')
    load.clear({ id: 7 })
    expect(await load({ id: 7 })).toBe('user 7')
    expect(keys()).toEqual([[{ id: 7 }]])
  })

  it('forgets one key with clear and every key with clearAll', async () => {
    const clock = createManualClock()
    const { batch, keys } = recordingBatch(clock, (key: number) => key * 2)
    const load = batcher({ batch, cache: true, clock })
    await load.loadMany([1, 2, 3])
    load.clear(2)
    await load.loadMany([1, 2, 3])
    expect(keys()).toEqual([[1, 2, 3], [2]])
    expect(load.clearAll()).toBe(load)
    await load.loadMany([1, 2, 3])
    expect(keys()).toEqual([[1, 2, 3], [2], [1, 2, 3]])
  })

  it('refuses to prime a batcher with no cache, and to clear an undefined item, saying what to do', () => {
    const load = batcher({ batch: async (keys: number[]) => keys })
    expect(() => load.prime(1, 1)).toThrow(InvalidOptionError)
    expect(() => load.prime(1, 1)).toThrow(/keeps no results; pass the `cache` option/)
    // Nothing is cached, so there is nothing to forget.
    expect(load.clear(1).clearAll()).toBe(load)
    const cached = batcher({ batch: async (keys: number[]) => keys, cache: true })
    expect(() => cached.clear(undefined as never)).toThrow(
      /batcher.clear\(item\): the item \(the key to clear\) must not be undefined; clearAll\(\) forgets every result/,
    )
    expect(() => cached.prime(null as never, 1)).toThrow(/batcher.prime\(item\).*must not be null/)
  })
})
