import type { ResolvedRate } from '../limit/units.js'

/**
 * The rates the client is given for `--rate N/T`: the limiter grants starts on this machine's clock,
 * but a request reaches the server a little later, and not always equally late (a cold first
 * connection, a busy event loop, a loaded box: tens of ms). Counted at the server, N starts exactly
 * T apart can then land inside one window of T. Two things keep the server's count under N:
 * - a margin: N starts per T + margin;
 * - pacing: at most one start per (T + margin) / N, so no burst of N requests, whose last ones reach
 *   the server much later than its first, ever starts at once.
 * Together they cost margin / (T + margin) of the quota (50 ms on 1 s: 4.8%), and make `--rate`
 * hold where it is measured: at the API.
 */
export function politeRates(rates: readonly ResolvedRate[], marginMs: number): ResolvedRate[] {
  return rates.flatMap((rate) => {
    const interval = rate.interval + marginMs
    const paced = { limit: 1, interval: interval / rate.limit }
    return rate.limit > 1 ? [{ limit: rate.limit, interval }, paced] : [{ limit: 1, interval }]
  })
}
