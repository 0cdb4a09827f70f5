import { describeValue, InvalidOptionError } from '../errors.js'
import { Limiter } from './limiter.js'
import type { LimitOptions } from './limits.js'

/**
 * The shared Limiter an entry point was given as `limiter`, checked; undefined when none was. The
 * options in `exclusive` belong to the shared limiter, so giving one of them as well is an error.
 */
export function sharedLimiter(
  options: LimitOptions & { limiter?: unknown },
  caller: string,
  exclusive: readonly (keyof LimitOptions)[],
): Limiter | undefined {
  const { limiter } = options
  if (limiter === undefined) return undefined
  if (!(limiter instanceof Limiter)) {
    throw new InvalidOptionError(
      `${caller}: option \`limiter\` must be a Limiter from createLimiter(), got ${describeValue(limiter)}`,
    )
  }
  for (const clash of exclusive) {
    if (options[clash] !== undefined) {
      throw new InvalidOptionError(
        `${caller}: give \`limiter\` or \`${clash}\`, not both (set it on the shared limiter)`,
      )
    }
  }
  return limiter
}
