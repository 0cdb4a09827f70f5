import type { Clock } from '../../limit/clock.js'
import type { CallLayer } from '../call.js'
import { RateLimitError, type RequestErrorInfo } from '../errors.js'
import type { Emitter } from '../events.js'
import type { BlockSource, OriginState } from '../origins.js'
import type { LayerResponse } from '../pipeline.js'
import { parseRateLimitHeaders } from '../ratelimit/index.js'
import type { HeaderBag } from '../ratelimit/model.js'
import { parseRetryAfter } from '../ratelimit/retry-after.js'
import { headerText, resetValue } from '../ratelimit/values.js'

export interface RateLimitSettings {
  /** Honour the headers: pause the origin on Retry-After, learn its quota, brake on `remaining`. */
  adaptive: boolean
  clock: Clock
  emitter: Emitter
  /** The longest Retry-After waited for; a longer one fails the request (and the origin's next ones). */
  maxRetryAfter: number
}

/**
 * Reads what the server says of its limits, inside the limiter slot, so a pause it asks for holds
 * the origin's next start. The Retry-After of a 429 or 503 travels with the answer for the retry
 * layer; one longer than maxRetryAfter fails the request at once, adaptive or not (sleeping for
 * hours helps nobody), and, adaptive, every request to the origin until it has passed.
 */
export function rateLimitLayer(settings: RateLimitSettings): CallLayer {
  const { clock, maxRetryAfter } = settings
  return (next) => async (call) => {
    const state = call.state
    if (state.blockedUntil > clock.now()) {
      const info = call.info(call.attempts - 1, clock)
      throw blockedError(state.blockedFor, state.blockedBy, info, maxRetryAfter)
    }
    const cost = call.req.cost
    state.inFlight++
    if (cost !== undefined) state.holdInFlight(cost, 1)
    let answer: LayerResponse
    try {
      answer = await next(call)
    } finally {
      state.inFlight--
      if (cost !== undefined) state.holdInFlight(cost, -1)
    }
    const { status, headers } = answer
    const retryAfter = refusalWait(status, headers, clock.wallTime())
    // A 429 for an attempt sent before the quota was learned says nothing of the learned margin.
    const learnedBefore = call.sentAt > state.learnedAt
    if (settings.adaptive) adapt(state, status, headers, retryAfter, learnedBefore, settings)
    if (retryAfter === undefined) return answer
    if (retryAfter > maxRetryAfter) {
      throw blockedError(retryAfter, 'Retry-After', call.info(call.attempts, clock), maxRetryAfter, answer)
    }
    return { ...answer, retryAfter }
  }
}

/**
 * Ms the server asked to wait before trying again, if the answer is a rate-limit refusal: a 429 or
 * 503 with Retry-After, or a 403 as GitHub refuses over its limits (with Retry-After for a
 * secondary limit, or with `x-ratelimit-remaining: 0` until `x-ratelimit-reset`). A 403 without
 * either is a plain "forbidden": no wait, no retry.
 */
function refusalWait(status: number, headers: HeaderBag, wallNow: number): number | undefined {
  if (status === 429 || status === 503) return parseRetryAfter(headers['retry-after'], wallNow)
  if (status !== 403) return undefined
  const retryAfter = parseRetryAfter(headers['retry-after'], wallNow)
  if (retryAfter !== undefined || headerText(headers['x-ratelimit-remaining'])?.trim() !== '0')
    return retryAfter
  return resetValue(headerText(headers['x-ratelimit-reset']), wallNow)
}

/** The refusal of a request the server asked to hold for longer than maxRetryAfter. */
function blockedError(
  retryAfter: number,
  source: BlockSource,
  info: RequestErrorInfo,
  maxRetryAfter: number,
  answer?: LayerResponse,
): RateLimitError {
  const seconds = Math.ceil(retryAfter / 1000)
  return new RateLimitError({
    ...info,
    status: answer?.status ?? 429,
    retryAfter,
    headers: answer?.headers,
    reason: `was refused: the server asked to wait ${seconds} s (${source}), more than maxRetryAfter (${Math.round(maxRetryAfter / 1000)} s)`,
  })
}

/**
 * Slows the origin down before (or after) the server has to refuse: a Retry-After pauses the whole
 * origin (or, past maxRetryAfter, blocks it until then), a quota teaches its limiter, and a
 * remaining count that in-flight requests will use up pauses it until the window resets.
 */
function adapt(
  state: OriginState,
  status: number,
  headers: HeaderBag,
  retryAfter: number | undefined,
  learnedBefore: boolean,
  settings: RateLimitSettings,
): void {
  if (retryAfter !== undefined) {
    if (retryAfter > settings.maxRetryAfter) {
      block(state, retryAfter, 'Retry-After', settings.clock)
    } else if (retryAfter > 0) {
      pause(state, retryAfter, 'retry-after', status, settings)
    }
  }
  const info = parseRateLimitHeaders(headers, settings.clock.wallTime())
  if (!info) return
  // Token quotas become budgets where the store keeps them (the Redis store does not yet).
  const budgets = state.limiter.keepsBudgets
  const quotas = budgets ? info.quotas : info.quotas.filter((quota) => quota.unit === 'requests')
  if (quotas.length > 0 || status === 429) {
    const rates =
      status === 429 && state.hasLearnedRate
        ? learnedBefore
          ? state.widen(settings.clock.now())
          : undefined
        : state.learn(quotas, info.standings, settings.clock.now())
    if (rates && settings.emitter.has.quota) {
      settings.emitter.emit('quota', {
        origin: state.origin,
        rates: rates.map((r) => (r.unit === undefined ? { limit: r.limit, interval: r.interval } : { ...r })),
      })
    }
  }
  if (budgets && state.hasLearnedRate) state.reconcile(info.standings)
  // With a learned quota the limiter already paces exactly, and servers round resets up to whole
  // seconds: pausing on `remaining` too would waste most of each window. Without one, it is the
  // only brake: when the requests already in flight will use up what is left, wait for the reset.
  if (
    !state.hasLearnedRate &&
    retryAfter === undefined &&
    info.remaining !== undefined &&
    info.reset !== undefined &&
    info.reset > 0 &&
    info.remaining <= state.inFlight
  ) {
    // A reset further off than maxRetryAfter is treated as a long Retry-After: fail fast until then.
    if (info.reset > settings.maxRetryAfter) block(state, info.reset, 'RateLimit reset', settings.clock)
    else pause(state, info.reset, 'ratelimit', status, settings)
  }
}

/** Requests to the origin fail at once until `ms` from now: sleeping for hours helps nobody. */
function block(state: OriginState, ms: number, source: BlockSource, clock: Clock): void {
  state.blockedUntil = clock.now() + ms
  state.blockedFor = ms
  state.blockedBy = source
}

function pause(
  state: OriginState,
  ms: number,
  reason: 'retry-after' | 'ratelimit',
  status: number,
  settings: RateLimitSettings,
): void {
  state.limiter.pause(ms).catch(() => {})
  if (settings.emitter.has.pause) settings.emitter.emit('pause', { origin: state.origin, ms, reason, status })
}
