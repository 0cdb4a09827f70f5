import type { TimerHandle } from '../limit/clock.js'
import { MISSING, MissingResultError, resultLookup } from './results.js'

type Settle<T> = (value: T) => void

const neverAborted = new AbortController().signal

/**
 * collecting: taking keys, its maxWait not yet over; queued: handed to the limiter, still taking
 * keys until it is full or starts; started: its items are fixed; settled: every load has an answer.
 */
export type BatchState = 'collecting' | 'queued' | 'started' | 'settled'

/**
 * One batch's keys and the loads waiting for them. Loads are kept as flat arrays (settle functions,
 * and the item each wants only once that differs from "load i wants item i") rather than as one
 * record object each: a load costs little more than its promise. With dedupe, loads of an equal
 * key share one item.
 */
export class PendingBatch<K, V, C> {
  state: BatchState = 'collecting'
  /** The distinct items in order of first load; one nobody wants any more stays until `take`. */
  readonly items: K[] = []
  /** `keys[i]` is the key of `items[i]`; undefined when items are their own keys. */
  readonly keys: C[] | undefined
  readonly #dedupe: boolean
  /**
   * Item index by key, for dedupe. Built only once a key is not greater than the one before:
   * while keys come in increasing order (sequential ids, sorted lists) each is new by that alone,
   * and nothing needs hashing.
   */
  #index: Map<C, number> | undefined
  /** The last key while every key so far was a number (or every one a string) greater than the one before. */
  #last: C | undefined
  /** Load i's resolve at 2i, its reject at 2i + 1; both undefined once it has settled early. */
  readonly #settlers: (Settle<any> | undefined)[] = []
  /** The item each load waits for; undefined while load i waits for item i (no key repeated yet). */
  #slots: number[] | undefined
  /** Loads still waiting per item: built at the first abort, the only thing that can drop an item. */
  #wanted: number[] | undefined
  #dropped = 0
  /** Loads that left before the batch settled (aborted). */
  #left = 0
  /** The maxWait timer while collecting. */
  timer: TimerHandle | undefined
  /**
   * Aborts the batch call (and its place in the limiter queue) once no load waits for it. Made when
   * the first load with a signal joins. A batch whose first load has no signal can never be
   * abandoned (that load never leaves), so it needs none; and an AbortSignal per batch costs more
   * than the rest of the batch's bookkeeping.
   */
  #controller: AbortController | undefined
  /** Settles (never rejects) when the batch has been answered or failed. */
  done: Promise<void> | undefined
  /** The items sent: those still wanted when the batch started. */
  sent: K[] = this.items
  /** Item index -> position in `sent`, when some items were left out. */
  #positions: Int32Array | undefined
  /** Abort listeners to remove once the batch settles: signal, listener, signal, listener... */
  #listeners: (AbortSignal | (() => void))[] | undefined

  /** Told the key of every load that fails (so that a cache can forget it). */
  readonly #onFailure: ((key: C) => void) | undefined

  constructor(hasKeys: boolean, dedupe: boolean, onFailure?: (key: C) => void) {
    this.keys = hasKeys ? [] : undefined
    this.#dedupe = dedupe
    this.#onFailure = onFailure
  }

  /** Distinct items still wanted: what the batch would send now. */
  get size(): number {
    return this.items.length - this.#dropped
  }

  /** Loads not settled yet. */
  get waiting(): number {
    return this.state === 'settled' ? 0 : this.loads - this.#left
  }

  /** Loads added so far; the newest one is `loads - 1`. */
  get loads(): number {
    return this.#settlers.length >> 1
  }

  #slotOf(load: number): number {
    return this.#slots === undefined ? load : this.#slots[load]!
  }

  keyAt(slot: number): C {
    return this.keys ? this.keys[slot]! : (this.items[slot] as unknown as C)
  }

  /** Adds a load of `item`; with dedupe, one of an equal key already here shares its item. */
  add(item: K, key: C): Promise<V> {
    // The common path stays small (so the JIT can inline it into the caller); rare work is in #track.
    const slot = this.#dedupe ? this.#find(key) : undefined
    if (slot !== undefined) this.#track(slot, false)
    else {
      if (this.#slots !== undefined || this.#wanted !== undefined) this.#track(this.items.length, true)
      this.items.push(item)
      this.keys?.push(key)
    }
    const settlers = this.#settlers
    // A closure written here, not a shared function: the JIT inlines it into the Promise constructor.
    const promise = new Promise<V>((resolve, reject) => {
      settlers.push(resolve)
      settlers.push(reject)
    })
    return promise
  }

  /** Records which item a load waits for, once that is no longer simply "load i waits for item i". */
  #track(slot: number, isNew: boolean): void {
    if (!isNew && this.#slots === undefined) {
      // The first repeated key: from here on, loads and items no longer line up one to one.
      this.#slots = Array.from({ length: this.loads }, (_, load) => load)
    }
    this.#slots?.push(slot)
    if (this.#wanted !== undefined) {
      if (isNew) this.#wanted.push(0)
      this.#wanted[slot]!++
    }
  }

  /** The item already holding `key`, if any; otherwise records `key` as the next item's. */
  #find(key: C): number | undefined {
    if (this.#index === undefined) {
      if (this.#increasing(key)) return undefined
      this.#index = this.#indexKeys()
    }
    const slot = this.#index.get(key)
    if (slot === undefined) this.#index.set(key, this.items.length)
    return slot
  }

  /** True (and remembered) when `key` is greater than every key so far, all of one primitive type. */
  #increasing(key: C): boolean {
    const kind = typeof key
    if (kind !== 'number' && kind !== 'string') return false
    if (this.items.length > 0 && !(typeof this.#last === kind && key > this.#last!)) return false
    this.#last = key
    return true
  }

  /** Item index by key for the items still wanted (a dropped item must not be joined again). */
  #indexKeys(): Map<C, number> {
    const index = new Map<C, number>()
    for (let slot = 0; slot < this.items.length; slot++) {
      if (this.#wanted === undefined || this.#wanted[slot]! > 0) index.set(this.keyAt(slot), slot)
    }
    return index
  }

  /** The batch call's signal (see #controller). */
  get signal(): AbortSignal {
    return this.#controller?.signal ?? neverAborted
  }

  /** Aborts the batch call's signal: no load waits for it any more. */
  abandon(reason: unknown): void {
    this.#controller?.abort(reason)
  }

  /** Remembers a load's abort listener, to remove it when the batch settles. */
  watch(signal: AbortSignal, onAbort: () => void): void {
    this.#controller ??= new AbortController()
    signal.addEventListener('abort', onAbort, { once: true })
    this.#listeners ??= []
    this.#listeners.push(signal, onAbort)
  }

  /**
   * Rejects one load now. Before the batch starts, an item that no load wants any more is left
   * out of it (a deduped item stays while another load still waits for it). False when the load
   * had already settled.
   */
  drop(load: number, error: unknown): boolean {
    const reject = this.#settlers[2 * load + 1]
    if (reject === undefined) return false
    if (this.state === 'collecting' || this.state === 'queued') {
      // Counted while this load still counts, so that it is taken off exactly once.
      this.#wanted ??= this.#countWanted()
      const wanted = this.#wanted
      const slot = this.#slotOf(load)
      if (--wanted[slot]! === 0) {
        this.#dropped++
        // A later load of this key must not share an item that will not be sent.
        this.#index?.delete(this.keyAt(slot))
      }
    }
    this.#settlers[2 * load] = this.#settlers[2 * load + 1] = undefined
    this.#left++
    reject(error)
    return true
  }

  /** Fixes the items to send (those still wanted) as the batch starts. */
  take(): K[] {
    this.state = 'started'
    this.#index = undefined
    const wanted = this.#wanted
    if (wanted && this.#dropped > 0) {
      const positions = new Int32Array(this.items.length).fill(-1)
      const sent: K[] = []
      for (let i = 0; i < wanted.length; i++) {
        if (wanted[i]! > 0) {
          positions[i] = sent.length
          sent.push(this.items[i]!)
        }
      }
      this.sent = sent
      this.#positions = positions
    }
    return this.sent
  }

  /**
   * Hands each waiting load its own result: an Error rejects only that load, a key missing from a
   * Map or object rejects with MissingResultError, and a broken contract rejects them all.
   */
  settle(results: unknown): void {
    const settlers = this.#settlers
    const aligned = this.#slots === undefined && this.#positions === undefined
    if (aligned && Array.isArray(results) && results.length === settlers.length >> 1) {
      // The common case, one load per item and none left out: result i is load i's.
      for (let load = 0; load < results.length; load++) {
        const resolve = settlers[2 * load]
        if (resolve === undefined) continue
        const value: unknown = results[load]
        if (value instanceof Error) this.#reject(load, value)
        else resolve(value)
      }
      this.#finish()
      return
    }
    let lookup: (position: number, key: unknown) => unknown
    try {
      lookup = resultLookup(results, this.sent.length)
    } catch (error) {
      this.fail(error)
      return
    }
    const positions = this.#positions
    for (let load = 0; load < settlers.length >> 1; load++) {
      const resolve = settlers[2 * load]
      if (resolve === undefined) continue
      const slot = this.#slotOf(load)
      const key = this.keyAt(slot)
      const value = lookup(positions ? positions[slot]! : slot, key)
      if (value === MISSING) this.#reject(load, new MissingResultError(key))
      else if (value instanceof Error) this.#reject(load, value)
      else resolve(value)
    }
    this.#finish()
  }

  /** Rejects every waiting load with `error`. */
  fail(error: unknown): void {
    const settlers = this.#settlers
    for (let load = 0; load < settlers.length >> 1; load++) {
      if (settlers[2 * load] !== undefined) this.#reject(load, error)
    }
    this.#finish()
  }

  #reject(load: number, error: unknown): void {
    this.#settlers[2 * load + 1]!(error)
    this.#onFailure?.(this.keyAt(this.#slotOf(load)))
  }

  #finish(): void {
    this.state = 'settled'
    this.#settlers.length = 0
    const listeners = this.#listeners
    if (listeners) {
      for (let i = 0; i < listeners.length; i += 2) {
        ;(listeners[i] as AbortSignal).removeEventListener('abort', listeners[i + 1] as () => void)
      }
      this.#listeners = undefined
    }
  }

  #countWanted(): number[] {
    const wanted = new Array<number>(this.items.length).fill(0)
    for (let load = 0; load < this.loads; load++) {
      if (this.#settlers[2 * load] !== undefined) wanted[this.#slotOf(load)]!++
    }
    return wanted
  }
}
