import type { LimitPolicy } from '../../src/limit/store.js'

/** A LimitPolicy for direct store calls: rates as [limit, interval] pairs, or [limit, interval, unit]. */
export function policy(
  concurrency: number,
  rates: readonly (readonly [number, number] | readonly [number, number, string])[] = [],
  options: { rateMargin?: number; smooth?: boolean } = {},
): LimitPolicy {
  return {
    concurrency,
    rates: rates.map(([limit, interval, unit]) =>
      unit === undefined ? { limit, interval } : { limit, interval, unit },
    ),
    rateMargin: options.rateMargin ?? 0,
    smooth: options.smooth ?? false,
  }
}
