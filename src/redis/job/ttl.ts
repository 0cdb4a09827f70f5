/** How long a job's keys stay in Redis (submitJob's `ttl`, and the floor of a job left incomplete). */

const MINUTE = 60_000
const DAY = 86_400_000

/** The default `ttl`: how long the keys stay once every line has a result. */
export const DEFAULT_JOB_TTL_MS = 7 * DAY

/** The shortest `ttl`: the workers must see the job complete (they poll) before its keys go. */
export const MIN_JOB_TTL_MS = MINUTE

/** Why a shorter `ttl` is refused, as the library and the CLI say it. */
export const MIN_JOB_TTL_REASON = 'the workers must see the job complete before its keys go'

/**
 * A job left incomplete stays at least this long after it was last touched (a submit, a claim, a
 * record), whatever its `ttl`: a short ttl is for results once done, and a job whose workers stop
 * for a night must still be there in the morning.
 */
export const INCOMPLETE_JOB_KEEP_MS = 7 * DAY
