import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { KeyIndex } from '../../src/batch/key-index.js'

/** Int32 keys go in the typed table, every other one in the Map: these straddle the line. */
const key = fc.oneof(
  fc.integer({ min: -20, max: 20 }),
  fc.constantFrom(2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1, -0, NaN, 1.5, 2 ** 53),
  fc.constantFrom('1', '', 'a', '-0'),
)

/** The loads that `add` reports as repeats: [load, holder, shared]. */
function addAll(index: KeyIndex<unknown>, keys: unknown[], cuts: number[], shares: boolean[]) {
  const told: [number, number, boolean][] = []
  let from = 0
  for (const to of [...cuts.filter((cut) => cut < keys.length).sort((a, b) => a - b), keys.length]) {
    index.add(keys, from, to, (load, holder) => {
      const shared = shares[load % shares.length]!
      told.push([load, holder, shared])
      return shared
    })
    from = to
  }
  return told
}

describe('KeyIndex', () => {
  it('reports each load whose key an earlier load holds, as a Map would (SameValueZero)', () => {
    fc.assert(
      fc.property(
        fc.array(key, { maxLength: 120 }),
        fc.array(fc.nat(120), { maxLength: 4 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
        (keys, cuts, shares) => {
          // Starts small and is reused from one run to the next: growth and clearing are exercised.
          const index = KeyIndex.borrow<unknown>(1)
          const told = addAll(index, keys, cuts, shares)
          index.giveBack()
          const holders = new Map<unknown, number>()
          const expected: [number, number, boolean][] = []
          keys.forEach((each, load) => {
            const holder = holders.get(each)
            const shared = holder !== undefined && shares[load % shares.length]!
            if (holder !== undefined) expected.push([load, holder, shared])
            if (!shared) holders.set(each, load)
          })
          expect(told).toEqual(expected)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('keeps ids that share their low bits apart, through growth', () => {
    const index = KeyIndex.borrow<number>(4)
    const keys = Array.from({ length: 5000 }, (_, i) => (i % 2500) * 65_536)
    const told = addAll(index, keys, [10, 100, 1000], [true])
    expect(told).toHaveLength(2500)
    expect(told.every(([load, holder]) => holder === load - 2500)).toBe(true)
  })
})
