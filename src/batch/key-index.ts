/** Golden-ratio multiplier: spreads consecutive ids over the whole table (Fibonacci hashing). */
const SPREAD = 0x9e3779b1
const MIN_CAPACITY = 16
/** Larger tables are not kept for reuse, so that one huge batch does not pin its table. */
const MAX_SPARE_CAPACITY = 1 << 16

/**
 * Told of a load whose key an earlier load (`holder`) already has: true when the load shares the
 * holder's item, false when it becomes the key's holder instead (the old one is not sent).
 */
export type SharesItem = (load: number, holder: number) => boolean

/**
 * Which load of a batch holds each key, for dedupe. Int32 keys (numeric ids, the usual case) live
 * in an open-addressing table of typed arrays: a multiply and a probe or two per key, in one loop
 * over the loads with no call and no allocation. Every other key lives in a Map, whose get and set
 * cost several times as much per key.
 */
export class KeyIndex<C> {
  /** The int32 key in each slot. */
  #keys: Int32Array
  /** The holding load + 1 in each slot; 0 for an empty slot. */
  #holders: Int32Array
  /** Keys in the table, kept under half its capacity so that probes stay short. */
  #count = 0
  #others: Map<C, number> | undefined
  /** The index given back last, for the next batch. */
  static #spare: KeyIndex<unknown> | undefined

  constructor(expected: number) {
    const capacity = capacityFor(expected)
    this.#keys = new Int32Array(capacity)
    this.#holders = new Int32Array(capacity)
  }

  /**
   * An empty index for `expected` keys. A batch gives its index back as it is sent, so one spare
   * (taken by whichever batch borrows next, so never held by two) saves a pair of typed arrays per
   * batch: their allocation costs more than all the probes of a 1,000-key batch. A spare much
   * larger than needed is not reused: clearing it would cost every small batch after one big one.
   */
  static borrow<C>(expected: number): KeyIndex<C> {
    const index = KeyIndex.#spare
    KeyIndex.#spare = undefined
    const capacity = capacityFor(expected)
    if (index === undefined || index.#holders.length < capacity || index.#holders.length > 4 * capacity)
      return new KeyIndex(expected)
    index.#holders.fill(0)
    index.#count = 0
    index.#others = undefined
    return index as KeyIndex<C>
  }

  /** Gives the index back for the next batch; the caller must not use it any more. */
  giveBack(): void {
    if (this.#holders.length <= MAX_SPARE_CAPACITY) KeyIndex.#spare = this
  }

  /** Indexes the keys of loads [from, to), asking `shares` about each key already held. */
  add(keys: readonly C[], from: number, to: number, shares: SharesItem): void {
    this.#reserve(this.#count + to - from)
    const tableKeys = this.#keys
    const holders = this.#holders
    const mask = holders.length - 1
    const shift = 32 - Math.log2(holders.length)
    for (let load = from; load < to; load++) {
      const key = keys[load]
      if (!isInt32(key)) {
        this.#addOther(key!, load, shares)
        continue
      }
      let slot = Math.imul(key, SPREAD) >>> shift
      let holder = holders[slot]!
      while (holder !== 0 && tableKeys[slot] !== key) {
        slot = (slot + 1) & mask
        holder = holders[slot]!
      }
      if (holder === 0) {
        tableKeys[slot] = key
        holders[slot] = load + 1
        this.#count++
      } else if (!shares(load, holder - 1)) {
        holders[slot] = load + 1
      }
    }
  }

  #addOther(key: C, load: number, shares: SharesItem): void {
    const others = (this.#others ??= new Map())
    const holder = others.get(key)
    if (holder === undefined || !shares(load, holder)) others.set(key, load)
  }

  /** Grows the table (rehashing its keys) until `count` keys keep it at most half full. */
  #reserve(count: number): void {
    const capacity = capacityFor(count)
    const keys = this.#keys
    const holders = this.#holders
    if (capacity <= holders.length) return
    this.#keys = new Int32Array(capacity)
    this.#holders = new Int32Array(capacity)
    const shift = 32 - Math.log2(capacity)
    for (let from = 0; from < holders.length; from++) {
      if (holders[from] === 0) continue
      let slot = Math.imul(keys[from]!, SPREAD) >>> shift
      while (this.#holders[slot] !== 0) slot = (slot + 1) & (capacity - 1)
      this.#keys[slot] = keys[from]!
      this.#holders[slot] = holders[from]!
    }
  }
}

/** A power of two at least twice `count`: the table stays at most half full. */
function capacityFor(count: number): number {
  let capacity = MIN_CAPACITY
  while (capacity < 2 * count) capacity *= 2
  return capacity
}

/** True for numbers with an exact int32 value (-0 included: it equals 0, as in a Map). */
function isInt32(key: unknown): key is number {
  return typeof key === 'number' && (key | 0) === key
}
