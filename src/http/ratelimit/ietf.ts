import { type BareItem, type Item, type List, parseDictionary, parseList } from 'structured-headers'
import { type HeaderBag, type Quota, type RateLimitInfo, rateLimitInfo, type Standing } from './model.js'
import { decimal, headerText, quotaLimit, resetValue } from './values.js'

/**
 * The IETF fields (draft-ietf-httpapi-ratelimit-headers), read as RFC 9651 Structured Fields:
 * - drafts 8+: `RateLimit-Policy: "default";q=100;w=60` and `RateLimit: "default";r=50;t=30`
 *   (a `qu` other than "requests", such as "content-bytes", is not a request quota: skipped);
 * - drafts 6-7: `RateLimit-Policy: 100;w=60` and `RateLimit: limit=100, remaining=50, reset=30`;
 * - drafts 1-5: `RateLimit-Limit: 10, 10;w=1`, `RateLimit-Remaining`, `RateLimit-Reset` (seconds).
 * Undefined when the response carries none of them.
 */
export function parseIetf(headers: HeaderBag, wallNow: number): RateLimitInfo | undefined {
  const policy = headers['ratelimit-policy']
  const field = headers.ratelimit
  if (policy !== undefined || field !== undefined) {
    return rateLimitInfo('ietf', parsePolicies(headerText(policy)), parseStandings(headerText(field)))
  }
  const limit = headers['ratelimit-limit']
  const remaining = decimal(headerText(headers['ratelimit-remaining']))
  if (limit === undefined && remaining === undefined) return undefined
  const reset = resetValue(headerText(headers['ratelimit-reset']), wallNow)
  return rateLimitInfo(
    'ietf',
    parsePolicies(headerText(limit)),
    remaining === undefined ? [] : [{ unit: 'requests', remaining, reset }],
  )
}

/** A number from a bare item or parameter; anything else (a string, a token, a negative) is undefined. */
function count(value: BareItem | undefined): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= Number.MAX_SAFE_INTEGER
    ? value
    : undefined
}

/** A list, or nothing if the field is not valid Structured Fields syntax. */
function list(text: string | undefined): List {
  if (!text) return []
  try {
    return parseList(text)
  } catch {
    return []
  }
}

/** Members that are items (an inner list is no policy of any draft). */
function items(members: List): Item[] {
  return members.filter((member): member is Item => !Array.isArray(member[0]))
}

/** RateLimit-Policy (and RateLimit-Limit's members): request quotas with a window. */
function parsePolicies(text: string | undefined): Quota[] {
  const quotas: Quota[] = []
  for (const [value, params] of items(list(text))) {
    const unit = params.get('qu')
    if (unit !== undefined && unit !== 'requests') continue
    // Drafts 8+ name the policy and give q; drafts 6-7 (and 1-5) give the quota as the value.
    const limit = quotaLimit(count(params.get('q')) ?? count(value))
    const window = count(params.get('w'))
    if (limit !== undefined && window !== undefined && window > 0) {
      quotas.push({ limit, window: window * 1000, unit: 'requests' })
    }
  }
  return quotas
}

/** RateLimit: the standing of each policy (drafts 8+), or one `limit=, remaining=, reset=` dictionary. */
function parseStandings(text: string | undefined): Standing[] {
  const members = items(list(text))
  if (members.some(([, params]) => params.has('r'))) {
    const standings: Standing[] = []
    for (const [, params] of members) {
      const unit = params.get('qu')
      if (unit !== undefined && unit !== 'requests') continue
      const remaining = count(params.get('r'))
      if (remaining === undefined) continue
      const t = count(params.get('t'))
      standings.push({ unit: 'requests', remaining, reset: t === undefined ? undefined : t * 1000 })
    }
    return standings
  }
  const fields = dictionary(text)
  const remaining = count(fields.get('remaining'))
  if (remaining === undefined) return []
  const reset = count(fields.get('reset'))
  return [{ unit: 'requests', remaining, reset: reset === undefined ? undefined : reset * 1000 }]
}

/** Drafts 6-7's `limit=100, remaining=50, reset=30` (or with `;` between), as one flat map. */
function dictionary(text: string | undefined): Map<string, BareItem> {
  const flat = new Map<string, BareItem>()
  if (!text) return flat
  try {
    for (const [key, member] of parseDictionary(text)) {
      if (Array.isArray(member[0])) continue
      flat.set(key, member[0] as BareItem)
      for (const [param, value] of member[1]) flat.set(param, value)
    }
  } catch {
    // Not Structured Fields syntax: nothing said.
  }
  return flat
}
