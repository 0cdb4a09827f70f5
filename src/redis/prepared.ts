import { type Cost, perUnit } from '../limit/cost.js'
import { paceSpacing } from '../limit/pace.js'
import type { LimitPolicy } from '../limit/store.js'
import { REQUESTS, type ResolvedRate } from '../limit/units.js'
import type { RestampTarget } from './restamps.js'

/** The keys and fixed script arguments of one (key, policy) pair, built once. */
export interface Prepared {
  keys: string[]
  /** The pace hash and rate lists, where restamps of this policy's starts go. */
  target: RestampTarget
  /** ACQUIRE's ARGV after the costs: limit, interval and spacing (us, margin included) and unit of each rate. */
  rateArgs: (number | string)[]
  /** The unit of each rate list, for RELEASE to give starts back. */
  units: string[]
  /** 0 for no concurrency cap: the script then takes no lease. */
  concurrency: number
}

/** Ms to the us the scripts count in (whole numbers keep Lua's doubles exact). */
export const us = (ms: number) => Math.round(ms * 1000)

/** The Redis keys (under `base`, one limiter key's prefix) and script arguments of `policy`. */
export function preparePolicy(base: string, policy: LimitPolicy): Prepared {
  const { rateMargin: margin, smooth } = policy
  // Named by the rate as configured, so processes with different margins still share windows.
  const named = new Map<string, ResolvedRate>()
  for (const rate of policy.rates) {
    // A rate given twice (yours, and the same one learned from the API) is one list, counted once.
    named.set(
      `${base}rate:${rate.unit === undefined ? '' : `${rate.unit}:`}${rate.limit}:${rate.interval}`,
      rate,
    )
  }
  const rateKeys = [...named.keys()]
  const rates = [...named.values()]
  return {
    keys: [`${base}leases`, `${base}pause`, `${base}pace`, ...rateKeys],
    target: {
      paceKey: `${base}pace`,
      rateKeys,
      window: Math.max(0, ...rates.map((rate) => rate.interval + margin)),
    },
    units: rates.map((rate) => rate.unit ?? REQUESTS),
    rateArgs: rates.flatMap((rate) => [
      rate.limit,
      us(rate.interval + margin),
      smooth ? Math.ceil(us(paceSpacing(rate, margin))) : 0,
      rate.unit ?? REQUESTS,
    ]),
    concurrency: policy.concurrency === Number.POSITIVE_INFINITY ? 0 : policy.concurrency,
  }
}

/** ACQUIRE's cost: a number of requests, or JSON per unit naming requests too (the script reads it so). */
export function costArgument(cost: Cost): number | string {
  return typeof cost === 'number' ? cost : JSON.stringify(perUnit(cost))
}
