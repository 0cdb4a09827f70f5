import { describeValue, InvalidOptionError } from '../errors.js'
import { type Duration, parseDuration } from './units.js'

/**
 * An exponential backoff: the wait before retry `n` (1 for the first) grows as `base * factor^(n-1)`,
 * never past `max`. With full jitter the wait is a uniform draw below that ceiling, so that many
 * clients refused at once do not come back at once; without, it is the ceiling itself (for a caller
 * whose calls the limiter already spaces, or a poll whose schedule should be predictable).
 */
export interface Backoff {
  readonly base: number
  readonly max: number
  readonly factor: number
  readonly jitter: 'full' | 'none'
}

/** How users write a backoff: `{ base, max }` as ms or durations ('250ms', '20s'). */
export interface BackoffOptions {
  base?: Duration
  max?: Duration
}

/**
 * Validates `{ base, max }`, the field `field` of `owner` (both named in errors), and fills in the
 * defaults; `max` defaults to the larger of its default and `base`, and may never be below `base`.
 */
export function resolveBackoff(value: unknown, owner: string, field: string, defaults: Backoff): Backoff {
  if (value === undefined) return defaults
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(`${owner}.${field} must be { base, max }, got ${describeValue(value)}`)
  }
  const { base: baseIn, max: maxIn } = value as BackoffOptions
  const base = baseIn === undefined ? defaults.base : parseDuration(baseIn, `${owner}.${field}.base`)
  const max =
    maxIn === undefined ? Math.max(defaults.max, base) : parseDuration(maxIn, `${owner}.${field}.max`)
  if (max < base) {
    throw new InvalidOptionError(`${owner}.${field}.max (${max} ms) must be >= ${field}.base (${base} ms)`)
  }
  return { ...defaults, base, max }
}

/** The wait before retry `n` (1 for the first). `random` is a draw in [0, 1), passed in to keep this pure. */
export function backoffDelay(backoff: Backoff, n: number, random: number): number {
  const ceiling = backoffCeiling(backoff, n)
  return backoff.jitter === 'full' ? Math.floor(random * ceiling) : ceiling
}

/** The longest wait before retry `n`: `base * factor^(n-1)`, at most `max`. */
export function backoffCeiling(backoff: Backoff, n: number): number {
  return Math.min(backoff.max, backoff.base * backoff.factor ** Math.max(0, n - 1))
}
