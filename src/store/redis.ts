import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import { describeValue, InvalidOptionError } from '../errors.js'
import { maskUrl } from '../http/redact.js'
import { type Clock, systemClock } from '../limit/clock.js'
import { type Duration, formatRate, parseDuration } from '../limit/units.js'
import { Leases } from './leases.js'
import { paceSpacing } from './pace.js'
import { MemoryStore } from './memory.js'
import { StoreUnavailableError } from '../errors.js'
import { RedisConnection, RedisScript } from './redis-connection.js'
import { ACQUIRE, PAUSE, RELEASE, RENEW } from './redis-scripts.js'
import type { LimiterStore, LimitPolicy } from './types.js'

export { StoreError, StoreFailedError, StoreUnavailableError } from '../errors.js'

export interface RedisStoreOptions {
  /**
   * Where Redis is: 'redis://[user:password@]host:port[/db]' or 'rediss://' for TLS. Ignored when
   * `client` is given. Error messages show it without the user name and password.
   * @default 'redis://127.0.0.1:6379'
   */
  url?: string
  /**
   * An ioredis client to use instead of opening one. The store never closes it, and it keeps its own
   * settings: give it `maxRetriesPerRequest: 0` and a `commandTimeout`, or a lost connection
   * holds tasks until ioredis gives up instead of failing them at once.
   */
  client?: Redis
  /** Put before every Redis key and channel of the store. @default 'volley:' */
  prefix?: string
  /**
   * How long a concurrency slot stays taken after its process stops renewing it (it died, or froze):
   * slots of a killed process come back within this time. Renewed every third of it while a task
   * runs, so it must be longer than the worst event-loop stall. @default 30_000 (30 s)
   */
  leaseTtl?: Duration
  /**
   * While Redis is unreachable, limit this process on its own to this fraction of the quota (every
   * rate's limit and the concurrency, rounded down, at least 1) instead of failing tasks. Choose it
   * so the processes together stay under the quota, e.g. 0.25 for 4 processes. Tasks go back to
   * Redis as soon as it answers again. @default undefined (no fallback: tasks fail with
   * StoreUnavailableError while Redis is unreachable)
   */
  fallback?: number
  /** Ms the first connection may take before calls fail. @default 5_000 */
  connectTimeout?: Duration
  /** Ms a Redis command may take before it fails (own connection only). @default 5_000 */
  commandTimeout?: Duration
  /**
   * Use this clock instead of Redis server time, for tests (a manual clock makes lease expiry and
   * windows instant to test). Every limiter on the store must use the same clock. @default Redis TIME
   */
  clock?: Clock
}

interface ResolvedOptions {
  url: string
  client: Redis | undefined
  prefix: string
  leaseTtl: number
  fallback: number | undefined
  connectTimeout: number
  commandTimeout: number
  clock: Clock | undefined
}

/** The keys and fixed script arguments of one (key, policy) pair, built once. */
interface Prepared {
  keys: string[]
  /** ACQUIRE's ARGV after the first six: limit, interval and spacing (us, margin included) of each rate. */
  rateArgs: number[]
  /** 0 for no concurrency cap: the script then takes no lease. */
  concurrency: number
}

const scripts = {
  acquire: new RedisScript(ACQUIRE),
  release: new RedisScript(RELEASE),
  renew: new RedisScript(RENEW),
  pause: new RedisScript(PAUSE),
}

/** Ms to the us the scripts count in (whole numbers keep Lua's doubles exact). */
const us = (ms: number) => Math.round(ms * 1000)

/**
 * Limiter state in Redis, so that every process sharing a `key` (on any machine) keeps one quota:
 * rate windows and concurrency slots are checked and taken atomically by Lua scripts on Redis
 * server time. A task costs one round trip (acquire) with rates only, two with a concurrency cap
 * (acquire + release). See docs/redis.md.
 */
export class RedisStore implements LimiterStore {
  readonly synchronous = false
  readonly #options: ResolvedOptions
  readonly #connection: RedisConnection
  readonly #leases: Leases
  /** Unique per store: names its leases and lets it ignore its own wake messages. */
  readonly #token = randomBytes(8).toString('hex')
  #leaseSeq = 0
  readonly #prepared = new WeakMap<LimitPolicy, Map<string, Prepared>>()
  readonly #listeners = new Map<string, Set<() => void>>()
  /** The local stand-in while Redis is unreachable (option `fallback`), and the slots taken from it. */
  readonly #local = new MemoryStore()
  readonly #localHeld = new Map<string, number>()
  readonly #scaled = new WeakMap<LimitPolicy, LimitPolicy>()
  /** Times the fallback's local decisions and the lease renewals. */
  readonly #clock: Clock

  constructor(options: RedisStoreOptions = {}) {
    this.#options = resolveOptions(options)
    this.#connection = new RedisConnection(this.#options)
    this.#clock = this.#options.clock ?? systemClock
    this.#leases = new Leases(this.#clock, this.#options.leaseTtl, (key, ids) =>
      this.#connection.run(
        scripts.renew,
        [`${this.#base(key)}leases`],
        [this.#now(), us(this.#options.leaseTtl), ...ids],
      ),
    )
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

  async acquire(key: string, policy: LimitPolicy, cost: number, now: number): Promise<number> {
    const prepared = this.#prepare(key, policy)
    const lease = prepared.concurrency > 0 ? `${this.#token}:${++this.#leaseSeq}` : ''
    const asked = this.#clock.now()
    let reply: [number, number]
    try {
      reply = (await this.#connection.run(scripts.acquire, prepared.keys, [
        this.#now(),
        prepared.concurrency,
        lease,
        us(this.#options.leaseTtl),
        cost,
        'take',
        ...prepared.rateArgs,
      ])) as [number, number]
    } catch (error) {
      return this.#orLocal(error, now, asked, (late) => this.#acquireLocal(key, policy, cost, late))
    }
    if (reply[0] > 0) return reply[0] / 1000
    if (lease) this.#leases.add(key, lease)
    return 0
  }

  release(key: string, policy: LimitPolicy, _now: number): Promise<void> | undefined {
    const local = this.#localHeld.get(key) ?? 0
    if (local > 0) {
      // Slots taken locally while Redis was away go back first: Redis's count stays conservative.
      this.#localHeld.set(key, local - 1)
      this.#local.release(key)
      this.#wakeLocal(key)
      return undefined
    }
    const lease = this.#leases.take(key)
    // No lease: the policy has no concurrency cap, so there is nothing to give back (no round trip).
    if (lease === undefined) return undefined
    const prepared = this.#prepare(key, policy)
    return this.#connection
      .run(
        scripts.release,
        [prepared.keys[0]!],
        [lease, prepared.concurrency, this.#channel(key), this.#token],
      )
      .then(
        () => this.#wakeLocal(key),
        // A lease that could not be returned is no longer renewed: it frees itself within the ttl.
        () => this.#wakeLocal(key),
      )
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

  async peek(key: string, policy: LimitPolicy, cost: number, now: number): Promise<number> {
    const prepared = this.#prepare(key, policy)
    const asked = this.#clock.now()
    try {
      const reply = (await this.#connection.run(scripts.acquire, prepared.keys, [
        this.#now(),
        prepared.concurrency,
        '',
        0,
        cost,
        'peek',
        ...prepared.rateArgs,
      ])) as [number, number]
      return reply[0] / 1000
    } catch (error) {
      return this.#orLocal(error, now, asked, (late) =>
        this.#local.peek(key, this.#scale(policy), cost, late),
      )
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

  #acquireLocal(key: string, policy: LimitPolicy, cost: number, now: number): number {
    const scaled = this.#scale(policy)
    const tooSmall = scaled.rates.find((rate) => rate.limit < cost)
    if (tooSmall) {
      // Refused, not squeezed in: that start alone would overfill the fallback's share of the window.
      throw new StoreUnavailableError(
        `Redis at ${maskUrl(this.#options.url)} is unreachable, and a task of cost ${cost} exceeds the fallback's share of the quota (${formatRate(tooSmall)})`,
      )
    }
    const wait = this.#local.acquire(key, scaled, cost, now)
    if (wait === 0) this.#localHeld.set(key, (this.#localHeld.get(key) ?? 0) + 1)
    return wait
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

  /** The policy for the local fallback: every limit times `fallback`, rounded down, at least 1. */
  #scale(policy: LimitPolicy): LimitPolicy {
    let scaled = this.#scaled.get(policy)
    if (!scaled) {
      const fraction = this.#options.fallback ?? 1
      const part = (n: number) => Math.max(1, Math.floor(n * fraction))
      scaled = {
        // rateMargin and smooth apply locally too: the local starts face the same delays on the way.
        ...policy,
        concurrency:
          policy.concurrency === Number.POSITIVE_INFINITY ? policy.concurrency : part(policy.concurrency),
        rates: policy.rates.map((rate) => ({ limit: part(rate.limit), interval: rate.interval })),
      }
      this.#scaled.set(policy, scaled)
    }
    return scaled
  }

  #prepare(key: string, policy: LimitPolicy): Prepared {
    let byKey = this.#prepared.get(policy)
    if (!byKey) {
      byKey = new Map()
      this.#prepared.set(policy, byKey)
    }
    let prepared = byKey.get(key)
    if (!prepared) {
      const base = this.#base(key)
      const { rateMargin: margin, smooth } = policy
      prepared = {
        keys: [
          `${base}leases`,
          `${base}pause`,
          `${base}pace`,
          // Named by the rate as configured, so processes with different margins still share windows.
          ...policy.rates.map((rate) => `${base}rate:${rate.limit}:${rate.interval}`),
        ],
        rateArgs: policy.rates.flatMap((rate) => [
          rate.limit,
          us(rate.interval + margin),
          smooth ? Math.ceil(us(paceSpacing(rate, margin))) : 0,
        ]),
        concurrency: policy.concurrency === Number.POSITIVE_INFINITY ? 0 : policy.concurrency,
      }
      byKey.set(key, prepared)
    }
    return prepared
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

function resolveOptions(options: RedisStoreOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(`redisStore: options must be an object, got ${describeValue(options)}`)
  }
  const name = (option: string) => `redisStore: option \`${option}\``
  const url = options.url ?? 'redis://127.0.0.1:6379'
  if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) {
    throw new InvalidOptionError(
      `${name('url')} must be a redis:// or rediss:// URL, got ${describeValue(typeof url === 'string' ? maskUrl(url) : url)}`,
    )
  }
  for (const moved of ['windowMargin', 'smooth'] as const) {
    if (moved in options) {
      throw new InvalidOptionError(
        `${name(moved)} moved to the limiter: createLimiter({ rateMargin, smooth }) (or createClient), so every store honours it`,
      )
    }
  }
  const prefix = options.prefix ?? 'volley:'
  if (typeof prefix !== 'string') {
    throw new InvalidOptionError(`${name('prefix')} must be a string, got ${describeValue(prefix)}`)
  }
  const leaseTtl = parseDuration(options.leaseTtl ?? 30_000, name('leaseTtl'))
  if (leaseTtl < 30) {
    throw new InvalidOptionError(
      `${name('leaseTtl')} must be at least 30 ms, got ${describeValue(options.leaseTtl)}`,
    )
  }
  const fallback = options.fallback
  if (fallback !== undefined && !(typeof fallback === 'number' && fallback > 0 && fallback <= 1)) {
    throw new InvalidOptionError(
      `${name('fallback')} must be a fraction of the quota in (0, 1], got ${describeValue(fallback)}`,
    )
  }
  return {
    url,
    client: options.client,
    prefix,
    leaseTtl,
    fallback,
    connectTimeout: parseDuration(options.connectTimeout ?? 5_000, name('connectTimeout')),
    commandTimeout: parseDuration(options.commandTimeout ?? 5_000, name('commandTimeout')),
    clock: options.clock,
  }
}
