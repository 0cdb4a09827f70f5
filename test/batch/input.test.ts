import { describe, expect, it } from 'vitest'
import { batcher } from '../../src/batch/batcher.js'
import { InvalidOptionError } from '../../src/errors.js'
import { createManualClock } from '../../src/limit/clock.js'
import { recordingBatch } from './support.js'

describe('batcher keys', () => {
  it.each([
    ['no options', {}],
    ['a cache', { cache: true }],
    ['a key function', { key: (item: unknown) => item }],
  ])(
    'rejects an undefined or null item with %s, naming the call and the value, and sends the others',
    async (_, options) => {
      const clock = createManualClock()
      const { batch, keys } = recordingBatch(clock, (key: unknown) => `v${String(key)}`)
      const load = batcher<unknown, string>({ batch, clock, ...options })
      const missing = load(undefined)
      const nothing = load(null)
      const others = Promise.all([0, '', false, Number.NaN].map((key) => load(key)))
      await expect(missing).rejects.toThrow(InvalidOptionError)
      await expect(missing).rejects.toThrow(
        'batcher.load(item): the item (the key to load) must not be undefined',
      )
      await expect(nothing).rejects.toThrow('batcher.load(item): the item (the key to load) must not be null')
      expect(await others).toEqual(['v0', 'v', 'vfalse', 'vNaN'])
      expect(keys()).toEqual([[0, '', false, Number.NaN]])
      expect(load.stats().loads).toBe(4)
    },
  )

  it('rejects a load whose key function returns undefined, naming the option and the item', async () => {
    const load = batcher({
      batch: async (users: { id?: number }[]) => users.map((user) => user.id),
      key: (user: { id?: number }) => user.id,
    })
    await expect(load({})).rejects.toThrow(
      'batcher: option `key` returned undefined for the item {}; a key must be a value',
    )
    expect(await load({ id: 1 })).toBe(1)
  })
})

describe('batcher loadMany input', () => {
  it.each([
    ['undefined', undefined, 'got undefined'],
    ['a number', 1, 'got 1'],
    ['a string', 'ab', 'got "ab"'],
    ['a String object', new String('ab'), 'got "ab"'],
    ['an object', { length: 2 }, 'got {"length":2}'],
  ])('rejects %s as items, naming the argument and the value', async (_, items, got) => {
    const clock = createManualClock()
    const { batch, calls } = recordingBatch(clock, (key: string) => key)
    const load = batcher({ batch, clock })
    const result = load.loadMany(items as never)
    await expect(result).rejects.toThrow(InvalidOptionError)
    await expect(result).rejects.toThrow(
      `batcher.loadMany(items): \`items\` must be an array or another iterable of items (a string is not taken as its characters), ${got}`,
    )
    await clock.flush()
    expect(calls).toEqual([])
  })

  it('loads the items of any iterable, and fails only the undefined or null items among them', async () => {
    const clock = createManualClock()
    const { batch, keys } = recordingBatch(clock, (key: number) => key * 2)
    const load = batcher({ batch, clock })
    function* generate() {
      yield 1
      yield 2
    }
    const fromSet = await load.loadMany(new Set([3, 4]))
    const fromGenerator = await load.loadMany(generate())
    const mixed = await load.loadMany([5, null as never, 6])
    expect([...fromSet, ...fromGenerator].map((r) => r.ok && r.value)).toEqual([6, 8, 2, 4])
    expect(mixed.map((r) => (r.ok ? r.value : r.error.message))).toEqual([
      10,
      'batcher.load(item): the item (the key to load) must not be null',
      12,
    ])
    expect(keys()).toEqual([
      [3, 4],
      [1, 2],
      [5, 6],
    ])
  })
})
