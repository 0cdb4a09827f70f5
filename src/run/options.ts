import { describeValue, InvalidOptionError } from '../errors.js'
import { Limiter } from '../limit/limiter.js'
import { sharedLimiter } from '../limit/shared-limiter.js'
import { type LimitOptions, resolveLimits } from '../limit/limits.js'

/**
 * The limits of one call (those of createLimiter: `rate`, `rateMargin`, `smooth`, `store`, `key`,
 * `clock`; not with `limiter`), or a shared `limiter`, and how the call is cancelled.
 */
export interface RunManyOptions extends LimitOptions {
  /**
   * Most tasks of this call in flight at once (with `limiter`, a cap for this call on top of it).
   * @default the limiter's concurrency when it has one, else 64
   */
  concurrency?: number
  /** A shared Limiter to run every task through (its limits hold across all calls that share it). */
  limiter?: Limiter
  /** Aborting it aborts running tasks' signals; tasks not yet started settle as AbortErrors. */
  signal?: AbortSignal
  /**
   * Aborting it stops starting tasks (their results are AbortErrors naming its reason) while running
   * tasks go on: for "the API key is bad, don't send the other 99".
   */
  stopSignal?: AbortSignal
  /** Priority of this call's tasks in a shared limiter (higher first). @default 0 */
  priority?: number
}

export interface ResolvedRunOptions {
  workers: number
  /** Undefined when the worker count alone is the limit: tasks then skip the limiter entirely. */
  limiter: Limiter | undefined
  signal: AbortSignal | undefined
  stopSignal: AbortSignal | undefined
  priority: number
}

/** With no concurrency anywhere, one call still keeps a bounded number of tasks in flight. */
export const DEFAULT_CONCURRENCY = 64

export function resolveRunOptions(options: RunManyOptions | undefined, caller: string): ResolvedRunOptions {
  const opts = options ?? {}
  if (typeof opts !== 'object') {
    throw new InvalidOptionError(`${caller}: options must be an object, got ${describeValue(opts)}`)
  }
  // `concurrency` is this call's own cap, so it goes with a shared limiter too.
  const shared = sharedLimiter(opts, caller, ['rate', 'rateMargin', 'smooth', 'store', 'key', 'clock'])
  const limits = resolveLimits(opts, caller)
  const capped = Math.min(limits.policy.concurrency, shared?.concurrency ?? Number.POSITIVE_INFINITY)
  const workers = Number.isFinite(capped) ? capped : DEFAULT_CONCURRENCY
  // The workers already cap this call's concurrency: a private limiter is needed only for a rate or a
  // shared store.
  const needsLimiter = limits.policy.rates.length > 0 || limits.store !== undefined
  const limiter = shared ?? (needsLimiter ? new Limiter(limits) : undefined)
  const priority = opts.priority ?? 0
  if (typeof priority !== 'number' || !Number.isFinite(priority)) {
    throw new InvalidOptionError(
      `${caller}: option \`priority\` must be a finite number, got ${describeValue(priority)}`,
    )
  }
  return { workers, limiter, signal: opts.signal, stopSignal: opts.stopSignal, priority }
}
