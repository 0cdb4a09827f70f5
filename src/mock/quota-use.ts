/**
 * The share of a quota of `limit` per `windowMs` that accepted arrivals (ms, ascending, as
 * `server.arrivals().admitted` gives them) used from the first one at or after `fromMs` (typically
 * the first accepted arrival plus one window, past the cold start). Counted in whole quotas: from
 * that arrival a0 to the one k x limit after it, k x windowMs over the time they took, so a quota
 * sent as a burst counts as much as a paced one. Under an exact sliding window it stays at or below
 * 1; a client that keeps m ms of margin per window gets windowMs / (windowMs + m).
 */
export function quotaUse(
  accepted: readonly number[],
  limit: number,
  windowMs: number,
  fromMs: number,
): number {
  const start = accepted.findIndex((t) => t >= fromMs)
  const quotas = start < 0 ? 0 : Math.floor((accepted.length - 1 - start) / limit)
  if (quotas < 1) {
    throw new RangeError(`quotaUse: fewer than ${limit + 1} accepted arrivals from ${fromMs} ms`)
  }
  return (quotas * windowMs) / (accepted[start + quotas * limit]! - accepted[start]!)
}
