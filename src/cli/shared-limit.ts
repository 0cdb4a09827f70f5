import type { LimiterStore } from '../limit/store.js'

/**
 * --redis URL --key NAME: the limiter's windows and slots live in Redis under NAME, so every process
 * given the same key shares --rate and --concurrency.
 */
export interface SharedLimit {
  url: string
  key: string
}

/** Opens the store of a shared limit; `await using` closes it. ioredis loads only when asked. */
export async function openSharedLimit(
  limit: SharedLimit,
): Promise<{ store: LimiterStore; key: string } & AsyncDisposable> {
  const { redisStore } = await import('../redis/store.js')
  const store = redisStore({ url: limit.url })
  return { store, key: limit.key, [Symbol.asyncDispose]: () => store.close() }
}
