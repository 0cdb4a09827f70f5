/**
 * Readers of the values rate-limit headers carry, strict on purpose: a value that is not exactly
 * what its dialect documents is ignored (undefined), never guessed at, never read as "unlimited".
 */

/** A header's text: repeated fields joined as one list, as HTTP says they may be. */
export function headerText(value: string | readonly string[] | undefined): string | undefined {
  if (value === undefined) return undefined
  return typeof value === 'string' ? value : value.join(', ')
}

const DECIMAL = /^\d{1,16}(?:\.\d{1,9})?$/

/** A non-negative decimal ('12', '0.5') no larger than 2^53; anything else (-1, 1e3, 0x10, NaN) is undefined. */
export function decimal(text: string | undefined): number | undefined {
  const trimmed = text?.trim()
  if (trimmed === undefined || !DECIMAL.test(trimmed)) return undefined
  const n = Number(trimmed)
  return n <= Number.MAX_SAFE_INTEGER ? n : undefined
}

/** A quota's limit: a whole count of at least 1. */
export function quotaLimit(value: number | undefined): number | undefined {
  return value !== undefined && value >= 1 ? Math.floor(value) : undefined
}

/** Values this large are epoch times (seconds from 2001 on, or ms), not delays. */
const EPOCH_SECONDS = 1e9

/**
 * A reset as servers send it: seconds from now, epoch seconds (GitHub, X, Discord) or epoch ms.
 * Values too large to be a delay are read as epoch times; a time past is 0.
 */
export function resetValue(text: string | undefined, wallNow: number): number | undefined {
  const n = decimal(text)
  if (n === undefined) return undefined
  if (n >= 1e12) return Math.max(0, n - wallNow)
  if (n >= EPOCH_SECONDS) return Math.max(0, n * 1000 - wallNow)
  return n * 1000
}

/** Whether resetValue reads `text` as an epoch time: then it is only as exact as the clocks agree. */
export function isEpochReset(text: string | undefined): boolean {
  return (decimal(text) ?? 0) >= EPOCH_SECONDS
}

const GO_DURATION = /^(?:\d{1,9}(?:\.\d{1,9})?(?:h|m|s|ms|us|µs|ns))+$/
const GO_PART = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g
const GO_UNIT_MS: Readonly<Record<string, number>> = {
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
  us: 1e-3,
  µs: 1e-3,
  ns: 1e-6,
}

/** A Go duration as OpenAI sends resets ('1s', '6m0s', '12ms', '1h2m3.5s'), in ms. */
export function goDuration(text: string | undefined): number | undefined {
  const trimmed = text?.trim()
  if (trimmed === undefined || !GO_DURATION.test(trimmed)) return undefined
  let ms = 0
  for (const [, amount, unit] of trimmed.matchAll(GO_PART)) ms += Number(amount) * GO_UNIT_MS[unit!]!
  return ms
}

const RFC_3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/

/** An RFC 3339 time as Anthropic sends resets ('2026-12-03T20:30:00Z'), as ms from now (0 if past). */
export function timeFromNow(text: string | undefined, wallNow: number): number | undefined {
  const trimmed = text?.trim()
  if (trimmed === undefined || !RFC_3339.test(trimmed)) return undefined
  const at = Date.parse(trimmed)
  return Number.isNaN(at) ? undefined : Math.max(0, at - wallNow)
}
