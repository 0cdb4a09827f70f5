import type { LimitPolicy } from '../../src/limit/store.js'

/** A LimitPolicy for direct store calls: rates as [limit, interval] pairs. */
export function policy(
  concurrency: number,
  rates: readonly (readonly [number, number])[] = [],
  options: { rateMargin?: number; smooth?: boolean } = {},
): LimitPolicy {
  return {
    concurrency,
    rates: rates.map(([limit, interval]) => ({ limit, interval })),
    rateMargin: options.rateMargin ?? 0,
    smooth: options.smooth ?? false,
  }
}
