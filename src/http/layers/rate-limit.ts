import type { Clock } from '../../limit/clock.js'
import type { CallLayer } from '../call.js'
import { RateLimitError, type RequestErrorInfo } from '../errors.js'
import type { Emitter } from '../events.js'
import type { BlockSource, OriginState } from '../origins.js'
import type { LayerResponse } from '../pipeline.js'
import { parseRateLimitHeaders } from '../ratelimit/index.js'
import type { HeaderBag, RateLimitInfo } from '../ratelimit/model.js'
import { parseRetryAfter } from '../ratelimit/retry-after.js'
import { isSecondaryLimit, secondaryWait } from '../ratelimit/secondary.js'
import { ServerCounts } from '../ratelimit/server-count.js'
import { headerText, isEpochReset, resetValue } from '../ratelimit/values.js'

export interface RateLimitSettings {
  /** Honour the headers: pause the origin on Retry-After, learn its quota, brake on `remaining`. */
  adaptive: boolean
  clock: Clock
  emitter: Emitter
  /** The longest Retry-After waited for; a longer one fails the request (and the origin's next ones). */
  maxRetryAfter: number
}

/** What the layer keeps per origin (kept here, not on OriginState: no other layer reads it). */
interface Watch {
  /** The server's count, where it counts in a fixed window or a leaky bucket. */
  readonly counts: ServerCounts
  /** Secondary-limit refusals in a row that said no time to wait: each doubles the next wait. */
  secondaryStreak: number
  /** Monotonic time the last pause for a full count runs to: the next is asked only past it. */
  pausedUntil: number
  /** The status of the last answer that said the count (what a pause event reports). */
  countedStatus: number
}

const watches = new WeakMap<OriginState, Watch>()

function watchOf(state: OriginState): Watch {
  let watch = watches.get(state)
  if (!watch) {
    watch = {
      counts: new ServerCounts(),
      secondaryStreak: 0,
      pausedUntil: Number.NEGATIVE_INFINITY,
      countedStatus: 200,
    }
    watches.set(state, watch)
  }
  return watch
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
      call.withdrawn()
      const info = call.info(call.attempts - 1, clock)
      throw blockedError(state.blockedFor, state.blockedBy, info, maxRetryAfter)
    }
    const watch = watchOf(state)
    const path = call.req.url.pathname
    const ticket = settings.adaptive ? watch.counts.count(path, clock.now(), state.inFlight) : undefined
    if (ticket) holdForCount(state, watch, watch.counts.wait(ticket, clock.now()), settings)
    const held = state.hold(call)
    let answer: LayerResponse
    try {
      answer = await next(call)
    } finally {
      state.answered(held)
      if (ticket) watch.counts.settle(ticket)
    }
    const { status, headers } = answer
    // GitHub's secondary limit, when it says no time: a minute, doubled for each in a row.
    const retryAfter =
      refusalWait(status, headers, clock.wallTime()) ??
      (isSecondaryLimit(status, answer.body) ? secondaryWait(watch.secondaryStreak++) : undefined)
    if (status < 300) watch.secondaryStreak = 0
    if (settings.adaptive) {
      const info = adapt(state, status, headers, retryAfter, call.sentAt, settings)
      if (ticket && info?.counting) {
        const now = clock.now()
        watch.countedStatus = status
        holdForCount(
          state,
          watch,
          watch.counts.observe(ticket, path, info.counting, now, state.inFlight),
          settings,
        )
      }
    }
    if (retryAfter === undefined) return answer
    if (retryAfter > maxRetryAfter) {
      throw blockedError(retryAfter, 'Retry-After', call.info(call.attempts, clock), maxRetryAfter, answer)
    }
    return { ...answer, retryAfter }
  }
}

/**
 * Ms the server said to wait before trying again, if the answer is a rate-limit refusal: a 429 or
 * 503 with Retry-After, or a 403 or 429 as GitHub refuses over its limits, with Retry-After or with
 * `x-ratelimit-remaining: 0` until `x-ratelimit-reset`. A 403 that says neither is a plain
 * "forbidden" (no wait, no retry), unless it is GitHub's secondary limit (see the caller).
 */
function refusalWait(status: number, headers: HeaderBag, wallNow: number): number | undefined {
  if (status !== 403 && status !== 429 && status !== 503) return undefined
  const retryAfter = parseRetryAfter(headers['retry-after'], wallNow)
  if (retryAfter !== undefined || status === 503) return retryAfter
  if (headerText(headers['x-ratelimit-remaining'])?.trim() !== '0') return undefined
  const text = headerText(headers['x-ratelimit-reset'])
  const reset = resetValue(text, wallNow)
  // Refused at a reset already past here: this clock runs ahead of the server's. Its resets are
  // whole seconds, so one more second is the least wait that can help (never a retry at once).
  return reset === 0 && isEpochReset(text) ? CLOCK_AHEAD_WAIT_MS : reset
}

const CLOCK_AHEAD_WAIT_MS = 1000

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
  /** When the answered attempt went out. */
  sentAt: number,
  settings: RateLimitSettings,
): RateLimitInfo | undefined {
  if (retryAfter !== undefined) {
    if (retryAfter > settings.maxRetryAfter) {
      block(state, retryAfter, 'Retry-After', settings.clock)
    } else if (retryAfter > 0) {
      pause(state, retryAfter, 'retry-after', status, settings)
    }
  }
  const info = parseRateLimitHeaders(headers, settings.clock.wallTime())
  if (!info) return undefined
  // Token quotas become budgets where the store keeps them (both stores do; a custom one may not).
  const budgets = state.limiter.store.budgets === true
  const quotas = budgets ? info.quotas : info.quotas.filter((quota) => quota.unit === 'requests')
  if (quotas.length > 0 || status === 429) {
    const rates =
      status === 429 && state.hasLearnedRate
        ? // A 429 for an attempt sent before the quota was learned says nothing of the learned margin.
          sentAt > state.learnedAt
          ? state.widen(settings.clock.now())
          : undefined
        : state.learn(quotas, info.standings, settings.clock.now(), sentAt)
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
  // A server whose count the client keeps (a fixed window, a leaky bucket) is held by that count.
  if (
    !state.hasLearnedRate &&
    info.counting === undefined &&
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
  return info
}

/**
 * Holds the origin's next start for `ms` when the server's count is full: until its fixed window
 * resets, or its bucket has leaked room for one more. Asked again only past the pause in force.
 */
function holdForCount(state: OriginState, watch: Watch, ms: number, settings: RateLimitSettings): void {
  const until = settings.clock.now() + ms
  if (ms <= 0 || until <= watch.pausedUntil) return
  watch.pausedUntil = until
  if (ms > settings.maxRetryAfter) block(state, ms, 'RateLimit reset', settings.clock)
  else pause(state, ms, 'ratelimit', watch.countedStatus, settings)
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
