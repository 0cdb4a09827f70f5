/**
 * volley/redis: a LimiterStore in Redis, so that processes on any machine share one quota. A separate
 * entry point so that only its users load ioredis.
 */
export { StoreError, StoreFailedError, StoreUnavailableError } from '../errors.js'
export type { RedisStoreOptions } from './options.js'
export { RedisStore, redisStore } from './store.js'
