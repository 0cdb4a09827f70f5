import { AsyncResource } from 'node:async_hooks'
import type { TimerHandle } from '../limit/clock.js'
import { KeyIndex } from './key-index.js'
import { MISSING, MissingResultError, resultLookup } from './results.js'

type Settle<T> = (value: T) => void

/**
 * collecting: taking keys, its maxWait not yet over; queued: handed to the limiter, still taking
 * keys until it is full or starts; started: its items are fixed; settled: every load has an answer.
 */
export type BatchState = 'collecting' | 'queued' | 'started' | 'settled'

/**
 * One batch's loads and what they wait for. Loads are kept as flat arrays (items, settle functions)
 * rather than as one record object each: a load costs little more than its promise. Dedupe is not
 * done per load but in one pass over the loads not yet checked, when the batch is sent or when it
 * could be full: while keys come in increasing order (sequential ids, sorted lists) that pass is one
 * comparison per key, and otherwise a KeyIndex. With dedupe, loads of an equal key share the item
 * of the first one (their "holder").
 */
export class PendingBatch<K, V, C> {
  state: BatchState = 'collecting'
  /** Load i's item. */
  readonly items: K[] = []
  /** Load i's key, when a `key` function gives keys. */
  readonly #ownKeys: C[] | undefined
  /** Load i's key: `items` itself when items are their own keys. */
  readonly #keys: C[]
  readonly #maxSize: number
  readonly #dedupe: boolean
  /** Loads [0, checked) have been through dedupe (and counted in `size`). */
  #checked = 0
  /** Load i's holder, up to the last load that shares an item; each later load holds its own. */
  #holders: number[] | undefined
  /** Loads that share an earlier load's item. */
  #repeats = 0
  /**
   * Key lookup for dedupe. Built only once a key is not greater than the one before: while keys
   * come in increasing order each is new by that alone, and nothing needs hashing.
   */
  #index: KeyIndex<C> | undefined
  /** The last key while every key so far was a number (or every one a string) greater than the one before. */
  #last: C | undefined
  /** The load count at which the batch may hold maxSize distinct items (each load adds at most one). */
  #checkAt: number
  /** Load i's resolve at 2i, its reject at 2i + 1; both undefined once it has settled early. */
  readonly #settlers: (Settle<any> | undefined)[] = []
  /** Loads still waiting per holder: built at the first abort, the only thing that can drop an item. */
  #wanted: number[] | undefined
  /** Holders no load waits for any more: their items are not sent. */
  #dropped = 0
  /** Loads that left before the batch settled (aborted). */
  #left = 0
  /** The maxWait timer while collecting. */
  timer: TimerHandle | undefined
  /**
   * Aborts the batch call (and its place in the limiter queue) once no load waits for it. Made when
   * the first load with a signal joins, or when the batch call asks for its signal: each batch has
   * its own, so listeners a batch function leaves on it go with the batch (a signal shared by every
   * batch of the process would pile them up for ever).
   */
  #controller: AbortController | undefined
  /** Settles (never rejects) when the batch has been answered or failed. */
  done: Promise<void> | undefined
  /** The items sent: one per holder still wanted when the batch started. */
  sent: K[] = this.items
  /** Holder load -> position in `sent`, when `sent` is not `items`. */
  #positions: Int32Array | undefined
  /** Abort listeners to remove once the batch settles: signal, listener, signal, listener... */
  #listeners: (AbortSignal | (() => void))[] | undefined

  /** Told the key of every load that fails (so that a cache can forget it). */
  readonly #onFailure: ((key: C) => void) | undefined
  /** The async context of the first load (the batch is made by it): the batch function runs in it. */
  readonly context = new AsyncResource('volley.batch')
  /** Cache hits that joined the batch, each resolving its load with the cached promise. */
  #hits: (() => void)[] | undefined

  constructor(maxSize: number, hasKeys: boolean, dedupe: boolean, onFailure?: (key: C) => void) {
    this.#maxSize = maxSize
    this.#checkAt = maxSize
    this.#ownKeys = hasKeys ? [] : undefined
    this.#keys = this.#ownKeys ?? (this.items as unknown as C[])
    this.#dedupe = dedupe
    this.#onFailure = onFailure
  }

  /** Distinct items still wanted: what the batch would send now. */
  get size(): number {
    this.#check()
    return this.#checked - this.#repeats - this.#dropped
  }

  /** True once the batch holds maxSize distinct items still wanted. Cheap until it could. */
  get full(): boolean {
    if (this.items.length < this.#checkAt) return false
    const room = this.#maxSize - this.size
    this.#checkAt = this.items.length + room
    return room <= 0
  }

  /** Loads not settled yet. */
  get waiting(): number {
    return this.state === 'settled' ? 0 : this.loads - this.#left
  }

  /** Loads added so far; the newest one is `loads - 1`. */
  get loads(): number {
    return this.items.length
  }

  /** Adds a load of `item`; dedupe comes later (see #check). */
  add(item: K, key: C): Promise<V> {
    // Stores at the end by index, not push: the JIT turns these into inline stores, where it left
    // `settlers.push` (in the executor) and `items.push` (when items are numbers that do not all fit
    // a small integer) as calls to the builtin, each about 5% of the benchmark's time.
    const items = this.items
    items[items.length] = item
    this.#ownKeys?.push(key)
    const settlers = this.#settlers
    const at = settlers.length
    return new Promise<V>((resolve, reject) => {
      settlers[at] = resolve
      settlers[at + 1] = reject
    })
  }

  /** A cache hit joins the batch: its load resolves with `cached` once the batch has settled. */
  hold(cached: Promise<V>): Promise<V> {
    const hits = (this.#hits ??= [])
    return new Promise<V>((resolve) => hits.push(() => resolve(cached)))
  }

  /**
   * Resolves the cache hits that joined the batch. Called as it settles, after its own loads: a hit
   * on a settled promise still takes two promise jobs to adopt it, so the loads that follow from the
   * hits run in the same turn as those that follow from the batch's answers, and coalesce with them.
   */
  releaseHits(): void {
    const hits = this.#hits
    this.#hits = undefined
    if (hits) for (const release of hits) release()
  }

  /** The load whose item `load` waits for (itself unless its key repeats an earlier one's). */
  #holderOf(load: number): number {
    const holders = this.#holders
    return holders === undefined || load >= holders.length ? load : holders[load]!
  }

  /** Runs the loads added since the last check through dedupe, and counts them as wanted. */
  #check(): void {
    const from = this.#checked
    const to = this.items.length
    if (from === to) return
    this.#checked = to
    if (this.#dedupe) this.#dedupeLoads(from, to)
    const wanted = this.#wanted
    if (wanted !== undefined) {
      for (let load = from; load < to; load++) wanted[load] = 0
      for (let load = from; load < to; load++) wanted[this.#holderOf(load)]!++
    }
  }

  /** Finds each load's holder, for loads [from, to). */
  #dedupeLoads(from: number, to: number): void {
    if (this.#index === undefined) {
      if (this.#continuesRun(from, to)) return
      // The run's keys were never indexed: they go in too (distinct, each its own holder).
      this.#index = KeyIndex.borrow<C>(to)
      from = 0
    }
    this.#index.add(this.#keys, from, to, this.#shares)
  }

  /** A load of a key that `holder` has: it shares that item, unless no load wants the item any more. */
  readonly #shares = (load: number, holder: number): boolean => {
    if (this.#wanted?.[holder] === 0) return false
    this.#repeats++
    const holders = (this.#holders ??= [])
    // The loads since the last repeat hold their own items.
    for (let each = holders.length; each < load; each++) holders.push(each)
    holders.push(holder)
    return true
  }

  /** True (and remembered) when keys [from, to) go on increasing, all of one primitive type. */
  #continuesRun(from: number, to: number): boolean {
    const keys = this.#keys
    let last = this.#last
    for (let load = from; load < to; load++) {
      const key = keys[load]!
      const kind = typeof key
      if (kind !== 'number' && kind !== 'string') return false
      if (load > 0 && !(typeof last === kind && key > last!)) return false
      last = key
    }
    this.#last = last
    return true
  }

  /** The batch call's signal (see #controller). */
  get signal(): AbortSignal {
    this.#controller ??= new AbortController()
    return this.#controller.signal
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
      this.#check()
      // Counted while this load still counts, so that it is taken off exactly once.
      this.#wanted ??= this.#countWanted()
      if (--this.#wanted[this.#holderOf(load)]! === 0) this.#dropped++
    }
    this.#settlers[2 * load] = this.#settlers[2 * load + 1] = undefined
    this.#left++
    reject(error)
    return true
  }

  /** Fixes the items to send (one per holder still wanted) as the batch starts. */
  take(): K[] {
    this.state = 'started'
    this.#check()
    this.#index?.giveBack()
    this.#index = undefined
    if (this.#repeats > 0 || this.#dropped > 0) {
      const wanted = this.#wanted
      const positions = new Int32Array(this.items.length).fill(-1)
      const sent: K[] = []
      for (let load = 0; load < this.items.length; load++) {
        if (this.#holderOf(load) === load && (wanted === undefined || wanted[load]! > 0)) {
          positions[load] = sent.length
          sent.push(this.items[load]!)
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
    const positions = this.#positions
    if (positions === undefined && Array.isArray(results) && results.length === this.items.length) {
      // The common case, every load its own item and none left out: result i is load i's.
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
    for (let load = 0; load < this.items.length; load++) {
      const resolve = settlers[2 * load]
      if (resolve === undefined) continue
      const holder = this.#holderOf(load)
      const key = this.#keys[load]
      const value = lookup(positions ? positions[holder]! : holder, key)
      if (value === MISSING) this.#reject(load, new MissingResultError(key))
      else if (value instanceof Error) this.#reject(load, value)
      else resolve(value)
    }
    this.#finish()
  }

  /** Rejects every waiting load with `error`. */
  fail(error: unknown): void {
    const settlers = this.#settlers
    for (let load = 0; load < this.items.length; load++) {
      if (settlers[2 * load] !== undefined) this.#reject(load, error)
    }
    this.#finish()
  }

  #reject(load: number, error: unknown): void {
    this.#settlers[2 * load + 1]!(error)
    this.#onFailure?.(this.#keys[load]!)
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

  /** Loads still waiting per holder, over the loads checked so far. */
  #countWanted(): number[] {
    const wanted = new Array<number>(this.#checked).fill(0)
    for (let load = 0; load < this.#checked; load++) {
      if (this.#settlers[2 * load] !== undefined) wanted[this.#holderOf(load)]!++
    }
    return wanted
  }
}
