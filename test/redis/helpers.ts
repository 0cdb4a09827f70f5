import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import { Redis } from 'ioredis'
import { afterAll, beforeAll } from 'vitest'
import { type RedisStore, type RedisStoreOptions, redisStore } from '../../src/redis/index.js'

/** The Redis the suites use; `.ci/run` starts one on loopback when nothing answers. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

/** A key prefix no other test (or suite running at the same time) uses. */
export function uniquePrefix(): string {
  return `volley-test:${randomBytes(6).toString('hex')}:`
}

/**
 * A plain client for checking Redis from the outside. Fails loudly when Redis is not there: these
 * tests are the proof of the shared limits, so they must never pass by being skipped.
 */
export async function connectRedis(url = REDIS_URL): Promise<Redis> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.ping()
  } catch (error) {
    client.disconnect()
    throw new Error(`These tests need Redis at ${url} (run redis-server, or .ci/run starts one): ${error}`)
  }
  return client
}

/** Deletes every key under `prefix`. */
export async function deletePrefix(client: Redis, prefix: string): Promise<void> {
  let cursor = '0'
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
    cursor = next
    if (keys.length > 0) await client.del(...keys)
  } while (cursor !== '0')
}
/** A loopback port nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/**
 * Registers a suite's own key prefix: a client for looking at Redis from the outside (valid inside
 * tests), and every key under the prefix deleted at the end.
 */
export function redisPrefix(): { prefix: string; redis: () => Redis } {
  const prefix = uniquePrefix()
  let redis: Redis
  beforeAll(async () => {
    redis = await connectRedis()
  })
  afterAll(async () => {
    await deletePrefix(redis, prefix)
    redis.disconnect()
  })
  return { prefix, redis: () => redis }
}

/**
 * Registers this suite's Redis setup: a fresh key prefix, a check that Redis answers, and at the
 * end every store closed and every key under the prefix deleted. Returns the store factory, which
 * fills in `url` and `prefix` under the given defaults.
 */
export function redisStores(defaults: RedisStoreOptions = {}): (options?: RedisStoreOptions) => RedisStore {
  const prefix = uniquePrefix()
  const stores: RedisStore[] = []
  let redis: Redis
  beforeAll(async () => {
    redis = await connectRedis()
  })
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()))
    await deletePrefix(redis, prefix)
    redis.disconnect()
  })
  return (options = {}) => {
    const created = redisStore({ url: REDIS_URL, prefix, ...defaults, ...options })
    stores.push(created)
    return created
  }
}
