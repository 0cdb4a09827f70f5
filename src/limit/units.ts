import { describeValue, InvalidOptionError } from '../errors.js'

/** Milliseconds as a number, or a string such as '250ms', '30s', '5m', '1.5h', '1d'. */
export type Duration = number | string

/**
 * A rate: 'N/unit' ('5/s', '600/min', '1000/h', '10000/day'), 'N/<duration>' ('100/10s'),
 * or `{ limit, interval }` with `interval` a Duration. In another unit than requests (a budget):
 * '30000 tokens/min', or `{ limit, interval, unit: 'tokens' }`; tasks say what they cost in it
 * (RunOptions.cost).
 */
export type Rate = string | { limit: number; interval: Duration; unit?: string }

/**
 * A rate resolved to numbers: at most `limit` of `unit` in any window of `interval` ms.
 * `unit` is undefined for requests (starts), the unit of every rate unless one is named.
 */
export interface ResolvedRate {
  readonly limit: number
  readonly interval: number
  readonly unit?: string
}

/** The unit a rate counts when none is named: task starts, one per request. */
export const REQUESTS = 'requests'

const UNIT_NAME = /^[a-z][a-z0-9_-]{0,31}$/i

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  second: 1000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hour: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
}

const DURATION = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/i

/** Parses a Duration to milliseconds; `option` names the option in the error message. */
export function parseDuration(value: unknown, option: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value
    throw new InvalidOptionError(
      `${option} must be a finite number of milliseconds >= 0, got ${describeValue(value)}`,
    )
  }
  if (typeof value === 'string') {
    const ms = parseDurationString(value)
    if (ms !== undefined) return ms
  }
  throw new InvalidOptionError(
    `${option} must be milliseconds or a duration such as '250ms', '30s', '5m', '1h', got ${describeValue(value)}`,
  )
}

function parseDurationString(text: string): number | undefined {
  if (/^\s*\d+(\.\d+)?\s*$/.test(text)) return Number(text)
  const match = DURATION.exec(text)
  if (!match) return undefined
  const unit = UNIT_MS[match[2]!.toLowerCase()] ?? UNIT_MS[match[2]!.toLowerCase().replace(/s$/, '')]
  return unit === undefined ? undefined : Number(match[1]) * unit
}

const RATE_EXAMPLES = "'5/s', '600/min', '100/10s', '30000 tokens/min' or { limit, interval, unit? }"

/** Parses one Rate; `option` names the option in the error message. */
export function parseRate(value: unknown, option: string): ResolvedRate {
  let limit: unknown
  let interval: number | undefined
  let unit: unknown
  if (typeof value === 'string') {
    const slash = value.indexOf('/')
    if (slash > 0) {
      // '30000 tokens/min': a count, then the unit's name.
      const [count = '', name, ...rest] = value.slice(0, slash).trim().split(/\s+/)
      limit = rest.length === 0 ? Number(count) : Number.NaN
      unit = name
      const per = value.slice(slash + 1).trim()
      // '5/s' means per one second; '100/10s' per ten seconds.
      interval = parseDurationString(/^[a-z]+$/i.test(per) ? `1${per}` : per)
    }
    if (interval === undefined) {
      throw new InvalidOptionError(
        `${option} must be a rate such as ${RATE_EXAMPLES}, got ${describeValue(value)}`,
      )
    }
  } else if (typeof value === 'object' && value !== null && 'limit' in value && 'interval' in value) {
    limit = value.limit
    interval = parseDuration(value.interval, `${option}.interval`)
    unit = (value as { unit?: unknown }).unit
  } else {
    throw new InvalidOptionError(
      `${option} must be a rate such as ${RATE_EXAMPLES}, got ${describeValue(value)}`,
    )
  }
  if (unit !== undefined && (typeof unit !== 'string' || !UNIT_NAME.test(unit))) {
    throw new InvalidOptionError(
      `${option} must name its unit with a word such as 'tokens' (letters, digits, - and _), got ${describeValue(value)}`,
    )
  }
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) {
    throw new InvalidOptionError(
      `${option} must allow a whole number of starts >= 1, got ${describeValue(value)}`,
    )
  }
  if (!(interval > 0)) {
    throw new InvalidOptionError(`${option} must have an interval > 0, got ${describeValue(value)}`)
  }
  return unit === undefined || unit === REQUESTS ? { limit, interval } : { limit, interval, unit }
}

/** Parses a Rate or an array of Rates (all of which must hold); undefined means no rate limit. */
export function parseRates(value: unknown, option: string): ResolvedRate[] {
  if (value === undefined) return []
  if (Array.isArray(value)) return value.map((rate, i) => parseRate(rate, `${option}[${i}]`))
  return [parseRate(value, option)]
}

/** Parses a concurrency cap: a whole number >= 1, or Infinity; undefined means no cap. */
export function parseConcurrency(value: unknown, option: string): number {
  if (value === undefined || value === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1) return value
  throw new InvalidOptionError(
    `${option} must be a whole number >= 1 (or Infinity), got ${describeValue(value)}`,
  )
}

/** Parses a boolean option; undefined means `fallback`. */
export function parseBoolean(value: unknown, option: string, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value === 'boolean') return value
  throw new InvalidOptionError(`${option} must be true or false, got ${describeValue(value)}`)
}

/** Formats a rate back to text for messages: '50/1s', '30000 tokens/60s'. */
export function formatRate(rate: ResolvedRate): string {
  const per = rate.interval % 1000 === 0 ? `${rate.interval / 1000}s` : `${rate.interval}ms`
  return `${rate.limit}${rate.unit === undefined ? '' : ` ${rate.unit}`}/${per}`
}
