import { randomBytes } from 'node:crypto'
import { type Clock, systemClock } from '../limit/clock.js'
import type { Cost } from '../limit/cost.js'
import type { Admission, LimiterStore, LimitPolicy } from '../limit/store.js'
import { noop } from '../limit/task.js'
import { REQUESTS } from '../limit/units.js'
import { RedisConnection, RedisScript } from './connection.js'
import { LocalFallback } from './fallback.js'
import { Leases } from './leases.js'
import {
  type RedisStoreOptions,
  type ResolvedRedisStoreOptions,
  resolveRedisStoreOptions,
} from './options.js'
import { Releases } from './releases.js'
import { costArgument, type Prepared, preparePolicy, us } from './prepared.js'
import { Restamps } from './restamps.js'
import { ACQUIRE, PAUSE, RELEASE, RENEW, RESTAMP, RESUME } from './scripts.js'

const scripts = {
  acquire: new RedisScript(ACQUIRE),
  release: new RedisScript(RELEASE),
  renew: new RedisScript(RENEW),
  pause: new RedisScript(PAUSE),
  resume: new RedisScript(RESUME),
  restamp: new RedisScript(RESTAMP),
}

/** What a peek or a record carries: no restamps. */
const NO_RESTAMPS: readonly number[] = []

/**
 * Limiter state in Redis, so that every process sharing a `key` (on any machine) keeps one quota:
 * rate windows and concurrency slots are checked and taken atomically by Lua scripts on Redis
 * server time. The Limiter asks for the starts of its queued tasks in batches (acquireMany: one
 * script call), and the slots of tasks that end together go back together (Releases): with many
 * tasks queued a task costs a fraction of a round trip. A start that goes out late (countsFrom
 * 'sent') is moved on by the next acquire (see Restamps). See docs/redis.md.
 */
export class RedisStore implements LimiterStore {
  readonly synchronous = false
  readonly budgets = true
  readonly #options: ResolvedRedisStoreOptions
  readonly #connection: RedisConnection
  readonly #leases: Leases
  readonly #releases: Releases
  readonly #restamps: Restamps
  /** Unique per store: names its leases and lets it ignore its own wake messages. */
  readonly #token = randomBytes(8).toString('hex')
  #leaseSeq = 0
  readonly #prepared = new WeakMap<LimitPolicy, Map<string, Prepared>>()
  readonly #listeners = new Map<string, Set<() => void>>()
  /** The local stand-in while Redis is unreachable (option `fallback`). */
  readonly #local: LocalFallback
  /** Times the fallback's local decisions and the lease renewals. */
  readonly #clock: Clock

  constructor(options: RedisStoreOptions = {}) {
    this.#options = resolveRedisStoreOptions(options)
    this.#connection = new RedisConnection(this.#options)
    this.#local = new LocalFallback(this.#options.fallback ?? 1, this.#connection.where)
    this.#clock = this.#options.clock ?? systemClock
    this.#leases = new Leases(this.#clock, this.#options.leaseTtl, (key, ids) =>
      this.#connection.run(
        scripts.renew,
        [`${this.#base(key)}leases`],
        [this.#now(), us(this.#options.leaseTtl), ...ids],
      ),
    )
    this.#releases = new Releases((key, ids, concurrency) =>
      this.#connection.run(
        scripts.release,
        [`${this.#base(key)}leases`],
        [concurrency, this.#channel(key), this.#token, ids.length, ...ids],
      ),
    )
    this.#restamps = new Restamps(this.#clock, (_key, { target, pairs }) => {
      // Lost if Redis is away: the starts then count from their grant, as without restamps.
      this.#connection.run(scripts.restamp, [target.paceKey, ...target.rateKeys], pairs).catch(() => {})
    })
  }

  /** Names this store in Redis: its leases are `<id>:<n>` in the `leases` sorted set. */
  get id(): string {
    return this.#token
  }

  /** Redis commands sent so far (each one round trip). */
  get roundTrips(): number {
    return this.#connection.roundTrips
  }

  /** Concurrency slots this process holds in Redis now, over all keys. */
  get leasesHeld(): number {
    return this.#leases.count
  }

  async acquire(key: string, policy: LimitPolicy, cost: Cost, now: number): Promise<number> {
    const { granted, wait } = await this.acquireMany(key, policy, [cost], now)
    return granted === 1 ? 0 : wait
  }

  async acquireMany(
    key: string,
    policy: LimitPolicy,
    costs: readonly Cost[],
    now: number,
  ): Promise<Admission> {
    const prepared = this.#prepare(key, policy)
    const firstLease = this.#leaseSeq + 1
    if (prepared.concurrency > 0) this.#leaseSeq += costs.length
    const asked = this.#clock.now()
    let reply: [number, number, number, number]
    // Slots this process has released go back first: it is not refused the slots it just freed.
    void this.#releases.flush()
    try {
      reply = (await this.#connection.run(
        scripts.acquire,
        prepared.keys,
        this.#acquireArgs(
          prepared,
          'take',
          costs.map(costArgument),
          firstLease,
          this.#restamps.take(key, prepared.target),
        ),
      )) as [number, number, number, number]
    } catch (error) {
      return this.#orLocal(error, now, asked, (late) => this.#local.acquire(key, policy, costs, late))
    }
    const [granted, wait, , stamp] = reply
    if (prepared.concurrency > 0) {
      for (let n = 0; n < granted; n++) this.#leases.add(key, `${this.#token}:${firstLease + n}`)
    }
    if (granted > 0 && prepared.target.rateKeys.length > 0)
      this.#restamps.granted(key, now, stamp, this.#clock.now() - asked, prepared.target, granted)
    return { granted, wait: wait / 1000 }
  }

  /**
   * Gives back starts acquireMany took at `since` that no task used: their leases, and their
   * entries in the rate lists (one RELEASE call). Slots taken locally go back locally; their starts
   * stay counted there.
   */
  async giveBack(key: string, policy: LimitPolicy, since: number, costs: readonly Cost[]): Promise<void> {
    const prepared = this.#prepare(key, policy)
    const ids: string[] = []
    for (let n = 0; n < costs.length; n++) {
      if (this.#local.release(key)) continue
      const id = prepared.concurrency > 0 ? this.#leases.take(key) : undefined
      if (id !== undefined) ids.push(id)
    }
    const stamp =
      prepared.target.rateKeys.length > 0 ? this.#restamps.forget(key, since, costs.length) : undefined
    const starts = stamp === undefined ? [] : [stamp, ...prepared.units, ...costs.map(costArgument)]
    if (ids.length === 0 && starts.length === 0) return this.#wakeLocal(key)
    const lists = starts.length > 0 ? prepared.target.rateKeys : []
    await this.#connection
      .run(
        scripts.release,
        [prepared.keys[0]!, ...lists],
        [prepared.concurrency, this.#channel(key), this.#token, ids.length, ...ids, ...starts],
      )
      // Leases not given back are no longer renewed: they free themselves within the ttl.
      .catch(noop)
    this.#wakeLocal(key)
  }

  /**
   * Counts what a start (or use outside the limiter) cost beyond what it took, now, in every
   * window of `policy` (ACQUIRE's 'record' mode). Less than it took is not taken back: the windows
   * keep the estimate. Sent on the connection the acquires use, so this process's next acquire
   * sees it. Lost if Redis is away and there is no fallback, as a restamp is.
   */
  settle(
    key: string,
    policy: LimitPolicy,
    _since: number,
    change: Readonly<Record<string, number>>,
    now: number,
  ): void {
    const more: Record<string, number> = { [REQUESTS]: 0 }
    let any = false
    for (const [unit, amount] of Object.entries(change)) {
      if (amount <= 0) continue
      more[unit] = amount
      any = true
    }
    if (!any) return
    const prepared = this.#prepare(key, policy)
    if (prepared.target.rateKeys.length === 0) return
    const asked = this.#clock.now()
    this.#connection
      .run(scripts.acquire, prepared.keys, this.#acquireArgs(prepared, 'record', [JSON.stringify(more)]))
      .catch((error: unknown) =>
        this.#orLocal(error, now, asked, (late) => this.#local.settle(key, policy, late, more, late)),
      )
      .catch(noop)
  }

  /** The start asked for at `since` went out at `now`: moved by the next acquire (see Restamps). */
  restamp(key: string, since: number, now: number): void {
    this.#restamps.restamp(key, since, now)
  }

  release(key: string, policy: LimitPolicy, _now: number): Promise<void> | undefined {
    // Slots taken locally while Redis was away go back first: Redis's count stays conservative.
    if (this.#local.release(key)) {
      this.#wakeLocal(key)
      return undefined
    }
    const lease = this.#leases.take(key)
    // No lease: the policy has no concurrency cap, so there is nothing to give back (no round trip).
    if (lease === undefined) return undefined
    const { concurrency } = this.#prepare(key, policy)
    return this.#releases.release(key, lease, concurrency).then(() => this.#wakeLocal(key))
  }

  async pause(key: string, ms: number, now: number): Promise<void> {
    const asked = this.#clock.now()
    try {
      await this.#connection.run(
        scripts.pause,
        [`${this.#base(key)}pause`],
        [this.#now(), us(ms), this.#channel(key), this.#token],
      )
    } catch (error) {
      this.#orLocal(error, now, asked, (late) => this.#local.pause(key, ms, late))
    }
    this.#wakeLocal(key)
  }

  async resume(key: string, now: number): Promise<void> {
    try {
      await this.#connection.run(
        scripts.resume,
        [`${this.#base(key)}pause`],
        [this.#channel(key), this.#token],
      )
    } catch (error) {
      this.#orLocal(error, now, now, noop)
    }
    // A pause taken locally while Redis was away is lifted too.
    this.#local.resume(key)
    this.#wakeLocal(key)
  }

  async peek(key: string, policy: LimitPolicy, cost: Cost, now: number): Promise<number> {
    const prepared = this.#prepare(key, policy)
    const asked = this.#clock.now()
    try {
      const reply = (await this.#connection.run(
        scripts.acquire,
        prepared.keys,
        this.#acquireArgs(prepared, 'peek', [costArgument(cost)]),
      )) as [number, number]
      return reply[1] / 1000
    } catch (error) {
      return this.#orLocal(error, now, asked, (late) => this.#local.peek(key, policy, cost, late))
    }
  }

  /**
   * Calls `wake` when another process (or another limiter of this process) releases a slot or
   * pauses the key. Messages from this store are skipped: the limiter that caused them re-checks anyway.
   */
  subscribe(key: string, wake: () => void): () => void {
    let listeners = this.#listeners.get(key)
    if (!listeners) {
      listeners = new Set()
      this.#listeners.set(key, listeners)
      const subscriber = this.#connection.subscriber()
      if (!subscriber.listeners('message').includes(this.#onMessage))
        subscriber.on('message', this.#onMessage)
      subscriber.subscribe(this.#channel(key)).catch(() => {
        // Without pub/sub waiters still re-check at the time each acquire named: slower, never wrong.
      })
    }
    listeners.add(wake)
    return () => {
      if (!listeners.delete(wake) || listeners.size > 0) return
      this.#listeners.delete(key)
      this.#connection
        .subscriber()
        .unsubscribe(this.#channel(key))
        .catch(() => {})
    }
  }

  /** Stops renewing leases and closes the connections it opened. Leases still held expire within the ttl. */
  async close(): Promise<void> {
    this.#restamps.flushAll()
    this.#restamps.stop()
    await this.#releases.flush()
    this.#leases.stop()
    this.#listeners.clear()
    await this.#connection.close()
  }

  readonly #onMessage = (channel: string, token: string) => {
    if (token === this.#token) return
    const prefix = this.#options.prefix
    // Channels are `${prefix}{${key}}:wake`.
    const key = channel.slice(prefix.length + 1, -'}:wake'.length)
    const listeners = this.#listeners.get(key)
    if (listeners) for (const wake of listeners) wake()
  }

  /** Wakes this process's other limiters on `key` (the one that acted re-checks by itself). */
  #wakeLocal(key: string): void {
    const listeners = this.#listeners.get(key)
    if (listeners && listeners.size > 1) for (const wake of listeners) wake()
  }

  /**
   * Runs `local` instead when the error is Redis being unreachable and a fallback is set; else
   * rethrows. `local` gets the limiter's `now` moved on by the time Redis took to fail: a start
   * recorded at the earlier time would let the next window open that much early.
   */
  #orLocal<T>(error: unknown, now: number, asked: number, local: (now: number) => T): T {
    if (this.#options.fallback !== undefined && RedisConnection.isUnavailable(error)) {
      return local(now + this.#clock.now() - asked)
    }
    throw error
  }

  #prepare(key: string, policy: LimitPolicy): Prepared {
    let byKey = this.#prepared.get(policy)
    if (!byKey) {
      byKey = new Map()
      this.#prepared.set(policy, byKey)
    }
    let prepared = byKey.get(key)
    if (!prepared) {
      prepared = preparePolicy(this.#base(key), policy)
      byKey.set(key, prepared)
    }
    return prepared
  }

  /**
   * ACQUIRE's ARGV (see scripts.ts): 'take' the starts of `costs` (leased from `firstLease` on under
   * a concurrency cap, with the restamps it carries), 'peek' at one, or 'record' use (no slot, so
   * no cap is checked).
   */
  #acquireArgs(
    prepared: Prepared,
    mode: 'take' | 'peek' | 'record',
    costs: readonly (number | string)[],
    firstLease = 0,
    restamps: readonly (number | string)[] = NO_RESTAMPS,
  ): (number | string)[] {
    return [
      this.#now(),
      mode === 'record' ? 0 : prepared.concurrency,
      `${this.#token}:`,
      firstLease,
      mode === 'take' ? us(this.#options.leaseTtl) : 0,
      mode,
      costs.length,
      ...costs,
      ...prepared.rateArgs,
      ...restamps,
    ]
  }

  /** The key prefix of one limiter key; the hash tag keeps its keys on one Redis Cluster slot. */
  #base(key: string): string {
    return `${this.#options.prefix}{${key}}:`
  }

  #channel(key: string): string {
    return `${this.#base(key)}wake`
  }

  /** '' lets the scripts read Redis TIME; a configured clock is passed in instead. */
  #now(): string | number {
    return this.#options.clock ? us(this.#options.clock.now()) : ''
  }
}

/** A store keeping limiter state in Redis; pass it with the same `key` to limiters that share a quota. */
export function redisStore(options?: RedisStoreOptions): RedisStore {
  return new RedisStore(options)
}
