import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Roster, type RosterEntry } from '../../src/limit/roster.js'

describe('Roster', () => {
  it('holds what was added and not deleted, oldest first, and counts it', () => {
    const roster = new Roster<string>()
    const a = roster.add('a')
    roster.add('b')
    const c = roster.add('c')
    expect(roster.values()).toEqual(['a', 'b', 'c'])
    roster.delete(c)
    roster.delete(a)
    expect(roster.values()).toEqual(['b'])
    expect([...roster]).toEqual(['b'])
    expect(roster.size).toBe(1)
  })

  it('ignores a second delete of the same entry (an attempt may end twice: answered, then cleaned up)', () => {
    const roster = new Roster<number>()
    const one = roster.add(1)
    roster.add(2)
    roster.delete(one)
    roster.delete(one)
    expect(roster.values()).toEqual([2])
    expect(roster.size).toBe(1)
  })

  it("ignores another roster's entry", () => {
    const one = new Roster<string>()
    const other = new Roster<string>()
    one.add('a')
    const foreign = other.add('b')
    other.add('c')
    one.delete(foreign)
    expect(one.values()).toEqual(['a'])
    expect(other.values()).toEqual(['b', 'c'])
    expect([one.size, other.size]).toEqual([1, 2])
  })

  it('keeps the same value twice as two members', () => {
    const roster = new Roster<string>()
    const first = roster.add('x')
    roster.add('x')
    roster.delete(first)
    expect(roster.values()).toEqual(['x'])
  })

  it('lets members leave while its values are walked (an abort that ends every attempt)', () => {
    const roster = new Roster<() => void>()
    const entries: RosterEntry<() => void>[] = []
    const called: number[] = []
    for (let i = 0; i < 5; i++) {
      entries.push(
        roster.add(() => {
          called.push(i)
          // Each one ends itself and the one added before it, as attempts in flight do when aborted.
          roster.delete(entries[i]!)
          if (i > 0) roster.delete(entries[i - 1]!)
        }),
      )
    }
    for (const listener of roster.values()) listener()
    expect(called).toEqual([0, 1, 2, 3, 4])
    expect(roster.size).toBe(0)
  })

  it('agrees with a Set under any sequence of adds and deletes', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat(20)), { maxLength: 200 }), (steps) => {
        const roster = new Roster<number>()
        const model = new Map<number, RosterEntry<number>>()
        let next = 0
        for (const [add, pick] of steps) {
          if (add || model.size === 0) {
            const value = next++
            model.set(value, roster.add(value))
          } else {
            const value = [...model.keys()][pick % model.size]!
            roster.delete(model.get(value)!)
            model.delete(value)
          }
          expect(roster.size).toBe(model.size)
        }
        expect(roster.values().sort((x, y) => x - y)).toEqual([...model.keys()].sort((x, y) => x - y))
      }),
    )
  })
})
