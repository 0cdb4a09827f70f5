import { headerText } from './values.js'

const DELAY_SECONDS = /^\s*(\d{1,12}(?:\.\d{1,9})?)\s*$/

/**
 * Retry-After as ms from now: delay-seconds ('120', also '1.5') or an HTTP-date
 * ('Wed, 21 Oct 2026 07:28:00 GMT'), given the wall time now in epoch ms. A date in the past is 0;
 * anything unparseable is undefined.
 */
export function parseRetryAfter(
  value: string | readonly string[] | undefined,
  wallNow: number,
): number | undefined {
  const text = headerText(value)?.trim()
  if (!text) return undefined
  const seconds = DELAY_SECONDS.exec(text)
  if (seconds) return Number(seconds[1]) * 1000
  // An HTTP-date always names a weekday or month in letters; this keeps '12' or '-5' out of Date.parse.
  if (!/[a-z]/i.test(text) || text.length > 64) return undefined
  const at = Date.parse(text)
  if (Number.isNaN(at)) return undefined
  return Math.max(0, at - wallNow)
}
