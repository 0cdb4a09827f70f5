import type { Redis } from 'ioredis'
import { describeValue, InvalidOptionError } from '../errors.js'
import type { Clock } from '../limit/clock.js'
import { type Duration, parseDuration } from '../limit/units.js'
import { maskUrl } from '../redact.js'

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

/** The options with defaults filled in and every field checked. */
export interface ResolvedRedisStoreOptions {
  url: string
  client: Redis | undefined
  prefix: string
  leaseTtl: number
  fallback: number | undefined
  connectTimeout: number
  commandTimeout: number
  clock: Clock | undefined
}

/** Checks every option, naming it in the error, and fills in the defaults. */
export function resolveRedisStoreOptions(options: RedisStoreOptions): ResolvedRedisStoreOptions {
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
