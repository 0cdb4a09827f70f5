/**
 * volley/redis: a LimiterStore in Redis, so that processes on any machine share one quota, and a
 * job's work queue on Redis Streams, so that one job runs on any number of machines. A separate
 * entry point so that only its users load ioredis.
 */
export { JobError, StoreError, StoreFailedError, StoreUnavailableError } from '../errors.js'
export type { RedisStoreOptions } from './options.js'
export { RedisStore, redisStore } from './store.js'
export type { JobLocation } from './job/keys.js'
export { type JobLine, type SubmitOptions, type SubmitOutcome, submitJob } from './job/submit.js'
export type {
  JobProgress,
  WorkEvents,
  WorkLine,
  WorkOptions,
  WorkOutcome,
  WorkResult,
} from './job/work-options.js'
export { workJob } from './job/work.js'
export { type JobStatus, jobStatus, type WorkerStatus } from './job/status.js'
export { type CollectedLine, type CollectOptions, collectJob } from './job/collect.js'
