export { type Batcher, batcher } from './batch/batcher.js'
export type { BatcherStats } from './batch/collector.js'
export type {
  BatchContext,
  BatcherOptions,
  BatchFn,
  BatchResults,
  BatchRetryOptions,
  CacheMap,
  LoadOptions,
} from './batch/options.js'
export { type PollContext, type PollOptions, PollTimeoutError, poll } from './batch/poll.js'
export { BatchContractError, MissingResultError } from './batch/results.js'
export {
  AbortError,
  type AbortErrorOptions,
  ClosedError,
  InvalidOptionError,
  isVolleyError,
  StoreError,
  type StoreErrorCode,
  StoreFailedError,
  StoreUnavailableError,
  type StopReason,
  VolleyError,
} from './errors.js'
export { Client, createClient, type ManyOptions, type RequestOptions } from './http/client.js'
export {
  BodyTooLargeError,
  CircuitOpenError,
  type ClientError,
  HttpError,
  InvalidRequestError,
  MaxPagesError,
  NetworkError,
  PageError,
  type PageErrorInfo,
  PageLoopError,
  RateLimitError,
  RedirectError,
  type RedirectReason,
  RequestError,
  type RequestErrorInfo,
  type RequestErrorJSON,
  TimeoutError,
} from './http/errors.js'
export {
  type CursorOptions,
  cursor,
  type ItemsPath,
  type LinkValue,
  linkHeader,
  type NextPage,
  type OffsetOptions,
  offset,
  type PageInfo,
  type PageNumberOptions,
  type PageOptions,
  type PageResult,
  type PaginateOptions,
  pageNumber,
  parseLinkHeader,
  type StripeOptions,
  stripe,
} from './http/pages/index.js'
export type { ClientEventName, ClientEvents, Listener, Listeners } from './http/events.js'
export type { ClientOptions } from './http/options.js'
export type { Layer, LayerRequest, LayerResponse, Send } from './http/pipeline.js'
export { parseRateLimitHeaders } from './http/ratelimit/index.js'
export type {
  HeaderBag,
  Quota,
  QuotaUnit,
  RateLimitDialect,
  RateLimitInfo,
  Standing,
} from './http/ratelimit/model.js'
export { parseRetryAfter } from './http/ratelimit/retry-after.js'
export { isSecretHeader, isSecretParam, REDACTED, redactHeaders, redactText, redactUrl } from './redact.js'
export { Response, type ResponseHeaders } from './http/response.js'
export type { RetryOptions } from './http/retry.js'
export type { BackoffOptions } from './limit/backoff.js'
export type { HeaderValues, Params, RequestObject, RequestSpec } from './http/spec.js'
export { type Clock, createManualClock, type ManualClock, systemClock } from './limit/clock.js'
export { createLimiter, Limiter, type LimiterOptions, type LimiterStats } from './limit/limiter.js'
export type { RunOptions, TaskContext } from './limit/task.js'
export type { Cost } from './limit/cost.js'
export type { LimitOptions } from './limit/limits.js'
export {
  type Duration,
  parseDuration,
  parseRate,
  parseRates,
  type Rate,
  type ResolvedRate,
} from './limit/units.js'
export { all } from './run/all.js'
export { group } from './run/group.js'
export type { RunManyOptions } from './run/options.js'
export type { TaskFn } from './run/pump.js'
export type { ItemContext, Result } from './run/result.js'
export type { Items } from './run/source.js'
export { stream } from './run/stream.js'
export { MemoryStore, memoryStore } from './limit/memory-store.js'
export type { LimiterStore, LimitPolicy } from './limit/store.js'
