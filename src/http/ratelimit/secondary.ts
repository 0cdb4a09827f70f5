/**
 * GitHub's secondary rate limits (docs.github.com, "Rate limits for the REST API"): a 403 or 429
 * whose message says "You have exceeded a secondary rate limit". With `retry-after`, wait that
 * long; with `x-ratelimit-remaining: 0`, until `x-ratelimit-reset`; "otherwise, wait for at least
 * one minute before retrying", and longer each time the limit is hit again.
 */
const SECONDARY_MESSAGE = 'secondary rate limit'
/** The message is near the start of GitHub's small JSON body; a huge body is not searched through. */
const SEARCHED_BYTES = 4096
/** GitHub's "at least one minute". */
const SECONDARY_WAIT_MS = 60_000
/** The wait doubles with each refusal in a row that says no time, up to 64 minutes. */
const MAX_DOUBLINGS = 6

/** Whether a refusal is GitHub's secondary rate limit, by its message. */
export function isSecondaryLimit(status: number, body: Buffer): boolean {
  if (status !== 403 && status !== 429) return false
  return body.toString('latin1', 0, SEARCHED_BYTES).toLowerCase().includes(SECONDARY_MESSAGE)
}

/** Ms to wait after the `streak`-th secondary-limit refusal in a row (0 for the first) that said no time. */
export function secondaryWait(streak: number): number {
  return SECONDARY_WAIT_MS * 2 ** Math.min(streak, MAX_DOUBLINGS)
}
