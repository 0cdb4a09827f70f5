/**
 * Pure parsing of the headers servers use to say how fast a client may go: Retry-After, the IETF
 * RateLimit / RateLimit-Policy fields (both the structured form of draft 8+ and the older
 * `limit=, remaining=, reset=` form), the RateLimit-Limit/-Remaining/-Reset trio of drafts 1-5,
 * and the de-facto X-RateLimit-* headers. No clock is read here: callers pass the wall time.
 */

export type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>

/** A quota the server announced: at most `limit` requests per `window` ms. */
export interface Quota {
  readonly limit: number
  readonly window: number
}

/** What a response says about the client's standing with the server's rate limit. */
export interface RateLimitInfo {
  /** Quotas announced (RateLimit-Policy, or a limit with a known window); empty when none. */
  readonly quotas: readonly Quota[]
  /** Requests left in the tightest current window, when said. */
  readonly remaining: number | undefined
  /** Ms until that window frees up, when said. */
  readonly reset: number | undefined
}

function first(value: string | readonly string[] | undefined): string | undefined {
  if (value === undefined) return undefined
  return typeof value === 'string' ? value : value.join(', ')
}

const DELAY_SECONDS = /^\s*(\d+(?:\.\d+)?)\s*$/

/**
 * Retry-After as ms from now: delay-seconds ('120', also '1.5') or an HTTP-date
 * ('Wed, 21 Oct 2026 07:28:00 GMT'), given the wall time now in epoch ms. A date in the past is 0;
 * anything unparseable is undefined.
 */
export function parseRetryAfter(
  value: string | readonly string[] | undefined,
  wallNow: number,
): number | undefined {
  const text = first(value)?.trim()
  if (!text) return undefined
  const seconds = DELAY_SECONDS.exec(text)
  if (seconds) return Number(seconds[1]) * 1000
  // An HTTP-date always names a weekday or month in letters; this keeps '12' or '-5' out of Date.parse.
  if (!/[a-z]/i.test(text)) return undefined
  const at = Date.parse(text)
  if (Number.isNaN(at)) return undefined
  return Math.max(0, at - wallNow)
}

/** One member of a structured-field list: its value (token, string or number) and its parameters. */
export interface SfMember {
  readonly value: string
  readonly params: ReadonlyMap<string, string>
}

/** Splits a list on commas outside quoted strings. */
function splitList(text: string, separator: string): string[] {
  const parts: string[] = []
  let quoted = false
  let start = 0
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '"' && text[i - 1] !== '\\') quoted = !quoted
    else if (c === separator && !quoted) {
      parts.push(text.slice(start, i))
      start = i + 1
    }
  }
  parts.push(text.slice(start))
  return parts.map((p) => p.trim()).filter((p) => p !== '')
}

function unquote(text: string): string {
  const t = text.trim()
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t
}

/** A lenient reader of an RFC 8941 list such as `"default";q=100;w=60, "burst";q=10;w=1`. */
export function parseSfList(text: string): SfMember[] {
  return splitList(text, ',').map((member) => {
    const [head = '', ...rest] = splitList(member, ';')
    const params = new Map<string, string>()
    for (const param of rest) {
      const eq = param.indexOf('=')
      if (eq < 0) params.set(param.trim().toLowerCase(), '?1')
      else params.set(param.slice(0, eq).trim().toLowerCase(), unquote(param.slice(eq + 1)))
    }
    return { value: unquote(head), params }
  })
}

function nonNegative(text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  const n = Number(text.trim())
  return text.trim() !== '' && Number.isFinite(n) && n >= 0 ? n : undefined
}

/**
 * Quotas from RateLimit-Policy. Draft 8+: `"default";q=100;w=60` (q quota, w window seconds).
 * Drafts 6-7 (and RateLimit-Limit's extra members in 3-5): `100;w=60` (the value is the quota).
 */
export function parsePolicies(value: string | readonly string[] | undefined): Quota[] {
  const text = first(value)
  if (!text) return []
  const quotas: Quota[] = []
  for (const member of parseSfList(text)) {
    const limit = nonNegative(member.params.get('q')) ?? nonNegative(member.value)
    const windowSeconds = nonNegative(member.params.get('w'))
    if (limit !== undefined && limit >= 1 && windowSeconds !== undefined && windowSeconds > 0) {
      quotas.push({ limit: Math.floor(limit), window: windowSeconds * 1000 })
    }
  }
  return quotas
}

/** The tightest standing among RateLimit members: fewest remaining, then the longest reset. */
interface Standing {
  remaining: number | undefined
  reset: number | undefined
}

function tighter(a: Standing, b: Standing): Standing {
  if (a.remaining === undefined) return b
  if (b.remaining === undefined) return a
  if (a.remaining !== b.remaining) return a.remaining < b.remaining ? a : b
  return (a.reset ?? 0) >= (b.reset ?? 0) ? a : b
}

/**
 * RateLimit. Draft 8+: `"default";r=50;t=30` per policy (r remaining, t seconds to reset).
 * Drafts 6-7: `limit=100, remaining=50, reset=30`.
 */
export function parseRateLimitField(value: string | readonly string[] | undefined): Standing {
  const text = first(value)
  if (!text) return { remaining: undefined, reset: undefined }
  const members = parseSfList(text)
  if (members.some((m) => m.params.has('r'))) {
    let standing: Standing = { remaining: undefined, reset: undefined }
    for (const m of members) {
      const remaining = nonNegative(m.params.get('r'))
      if (remaining === undefined) continue
      const t = nonNegative(m.params.get('t'))
      standing = tighter(standing, { remaining, reset: t === undefined ? undefined : t * 1000 })
    }
    return standing
  }
  // Older form: the members are `key=value` items (the parser sees them as bare values).
  const pairs = new Map<string, string>()
  for (const member of splitList(text, ',')) {
    for (const part of splitList(member, ';')) {
      const eq = part.indexOf('=')
      if (eq > 0) pairs.set(part.slice(0, eq).trim().toLowerCase(), unquote(part.slice(eq + 1)))
    }
  }
  const reset = nonNegative(pairs.get('reset'))
  return {
    remaining: nonNegative(pairs.get('remaining')),
    reset: reset === undefined ? undefined : reset * 1000,
  }
}

/**
 * X-RateLimit-Reset (and RateLimit-Reset): servers send epoch seconds (GitHub), epoch ms, or
 * seconds from now. Values too large to be a delay are read as epoch times.
 */
export function parseResetValue(
  value: string | readonly string[] | undefined,
  wallNow: number,
): number | undefined {
  const n = nonNegative(first(value))
  if (n === undefined) return undefined
  if (n >= 1e12) return Math.max(0, n - wallNow) // epoch ms
  if (n >= 1e9) return Math.max(0, n * 1000 - wallNow) // epoch seconds
  return n * 1000 // seconds from now
}

/** Reads every rate-limit header a response carries into one RateLimitInfo (undefined if none). */
export function parseRateLimitHeaders(headers: HeaderBag, wallNow: number): RateLimitInfo | undefined {
  const policy = headers['ratelimit-policy']
  const field = headers.ratelimit
  if (policy !== undefined || field !== undefined) {
    const standing = parseRateLimitField(field)
    return { quotas: parsePolicies(policy), remaining: standing.remaining, reset: standing.reset }
  }
  // Drafts 1-5: RateLimit-Limit (maybe with `, 100;w=60` members), -Remaining, -Reset (delta seconds).
  const ietfLimit = headers['ratelimit-limit']
  if (ietfLimit !== undefined || headers['ratelimit-remaining'] !== undefined) {
    return {
      quotas: parsePolicies(ietfLimit),
      remaining: nonNegative(first(headers['ratelimit-remaining'])),
      reset: parseResetValue(headers['ratelimit-reset'], wallNow),
    }
  }
  const remaining = nonNegative(first(headers['x-ratelimit-remaining']))
  const limit = nonNegative(first(headers['x-ratelimit-limit']))
  if (remaining === undefined && limit === undefined) return undefined
  // X-RateLimit-Limit alone does not say over what window; some APIs add the window explicitly.
  const windowSeconds =
    nonNegative(first(headers['x-ratelimit-window'])) ?? nonNegative(first(headers['x-ratelimit-interval']))
  const quotas =
    limit !== undefined && limit >= 1 && windowSeconds !== undefined && windowSeconds > 0
      ? [{ limit: Math.floor(limit), window: windowSeconds * 1000 }]
      : []
  return { quotas, remaining, reset: parseResetValue(headers['x-ratelimit-reset'], wallNow) }
}
