import { describeValue, InvalidOptionError } from '../errors.js'
import { Limiter } from '../limit/limiter.js'
import { parseConcurrency, type Rate } from '../limit/units.js'

export interface RunManyOptions {
  /**
   * Most tasks of this call in flight at once (with `limiter`, a cap for this call on top of it).
   * @default the limiter's concurrency when it has one, else 64
   */
  concurrency?: number
  /** Most task starts per window for this call: '5/s', '100/10s', or an array. Not with `limiter`. */
  rate?: Rate | readonly Rate[]
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
  if (opts.limiter !== undefined && !(opts.limiter instanceof Limiter)) {
    throw new InvalidOptionError(
      `${caller}: option \`limiter\` must be a Limiter from createLimiter(), got ${describeValue(opts.limiter)}`,
    )
  }
  if (opts.limiter && opts.rate !== undefined) {
    throw new InvalidOptionError(
      `${caller}: give \`rate\` or \`limiter\`, not both (set the rate on the shared limiter)`,
    )
  }
  const own = parseConcurrency(opts.concurrency, `${caller}: option \`concurrency\``)
  const shared = opts.limiter?.concurrency ?? Number.POSITIVE_INFINITY
  const capped = Math.min(own, shared)
  const workers = Number.isFinite(capped) ? capped : DEFAULT_CONCURRENCY
  // The workers already cap concurrency, so a private limiter is needed only for a rate.
  const limiter =
    opts.limiter ?? (opts.rate === undefined ? undefined : new Limiter({ rate: opts.rate as Rate | Rate[] }))
  const priority = opts.priority ?? 0
  if (typeof priority !== 'number' || !Number.isFinite(priority)) {
    throw new InvalidOptionError(
      `${caller}: option \`priority\` must be a finite number, got ${describeValue(priority)}`,
    )
  }
  return { workers, limiter, signal: opts.signal, stopSignal: opts.stopSignal, priority }
}
