import { describeValue, InvalidOptionError } from '../errors.js'
import { formatRate, REQUESTS, type ResolvedRate } from './units.js'

/**
 * What a task costs against the rates: a number of requests (starts), or an amount per unit, such
 * as `{ tokens: 1200 }` for an LLM call (requests then count 1 unless given). A rate in a unit the
 * cost does not name costs nothing.
 */
export type Cost = number | Readonly<Record<string, number>>

/** What `cost` takes from `rate`'s window. */
export function costIn(cost: Cost, rate: ResolvedRate): number {
  return amountIn(cost, rate.unit ?? REQUESTS)
}

/** What `cost` amounts to in `unit` (requests: 1 unless it says). */
export function amountIn(cost: Cost, unit: string): number {
  if (unit === REQUESTS) return requestsIn(cost)
  return typeof cost === 'number' ? 0 : (cost[unit] ?? 0)
}

/** What `cost` takes from a rate in requests. */
export function requestsIn(cost: Cost): number {
  return typeof cost === 'number' ? cost : (cost[REQUESTS] ?? 1)
}

/** True when `a` and `b` take the same from every rate: a start granted for one fits the other. */
export function sameCost(a: Cost, b: Cost): boolean {
  if (a === b) return true
  if (typeof a === 'number' || typeof b === 'number') return false
  const units = Object.keys(a)
  return units.length === Object.keys(b).length && units.every((unit) => a[unit] === b[unit])
}

/** `cost` as an amount per unit, requests included. */
export function perUnit(cost: Cost): Readonly<Record<string, number>> {
  return typeof cost === 'number' ? { [REQUESTS]: cost } : { ...cost, [REQUESTS]: requestsIn(cost) }
}

/**
 * An error naming `option` if `cost` is not a Cost: a number of requests >= 1, or per unit a finite
 * amount >= 0 (requests whole: 0 for a task that only takes from a budget).
 */
export function costError(cost: unknown, option: string): InvalidOptionError | undefined {
  if (typeof cost === 'number') {
    return Number.isInteger(cost) && cost >= 1
      ? undefined
      : new InvalidOptionError(
          `${option} must be a whole number >= 1, or { unit: amount }, got ${describeValue(cost)}`,
        )
  }
  if (typeof cost !== 'object' || cost === null || Array.isArray(cost)) {
    return new InvalidOptionError(
      `${option} must be a number of requests or { unit: amount } such as { tokens: 1200 }, got ${describeValue(cost)}`,
    )
  }
  for (const [unit, amount] of Object.entries(cost)) {
    const valid =
      typeof amount === 'number' &&
      Number.isFinite(amount) &&
      amount >= 0 &&
      (unit !== REQUESTS || Number.isInteger(amount))
    if (!valid) {
      return new InvalidOptionError(
        `${option}.${unit} must be ${unit === REQUESTS ? 'a whole number >= 0' : 'a finite number >= 0'}, got ${describeValue(amount)}`,
      )
    }
  }
  return undefined
}

/** An error if `cost` exceeds one of `rates`' limits: such a task could never start. */
export function overLimitError(cost: Cost, rates: readonly ResolvedRate[]): InvalidOptionError | undefined {
  const rate = rates.find((r) => r.limit < costIn(cost, r))
  if (!rate) return undefined
  return new InvalidOptionError(
    `Limiter.run: cost ${costIn(cost, rate)} exceeds the rate ${formatRate(rate)}, so the task could never start`,
  )
}

/**
 * What `actual` costs beyond `estimate` in each unit other than requests (negative: less), for a
 * task that learns its real cost once done; an error naming `option` if `actual` is not a Cost.
 */
export function costChange(estimate: Cost, actual: unknown, option: string): Record<string, number> {
  const invalid = costError(actual, option)
  if (invalid) throw invalid
  const change: Record<string, number> = {}
  const units = new Set([...Object.keys(estimate), ...Object.keys(actual as Cost)])
  for (const unit of units) {
    if (unit === REQUESTS) continue
    const amount = amountIn(actual as Cost, unit) - amountIn(estimate, unit)
    if (amount !== 0) change[unit] = amount
  }
  return change
}
