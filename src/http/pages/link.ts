import type { NextPage } from './next.js'
import { atUrl } from './next.js'

/** One link of a `Link` header (RFC 8288): its target as written and its parameters (lower-cased names). */
export interface LinkValue {
  /** The URI reference between `<` and `>`, not resolved. */
  target: string
  /** Parameters such as `rel`; a quoted value is unquoted. */
  params: Record<string, string>
}

const LINK_VALUE = /^\s*<([^>]*)>\s*((?:;\s*[^;,=\s]+\s*(?:=\s*(?:"(?:[^"\\]|\\.)*"|[^;,"\s]*)\s*)?)*)/
const LINK_PARAM = /;\s*([^;,=\s]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^;,"\s]*))?/g

/**
 * The links of a `Link` header value. Never throws: a part that is not a link ends the parse, and
 * what was read before it is kept (a malformed header gives the links it starts with, or none).
 */
export function parseLinkHeader(value: string | readonly string[] | undefined): LinkValue[] {
  if (value === undefined) return []
  if (typeof value !== 'string') return value.flatMap((one) => parseLinkHeader(one))
  const links: LinkValue[] = []
  let rest = value
  while (rest.trim() !== '') {
    const match = LINK_VALUE.exec(rest)
    if (!match) break
    const params: Record<string, string> = {}
    for (const [, name, raw] of match[2]!.matchAll(LINK_PARAM)) {
      const key = name!.toLowerCase()
      // RFC 8288 3.3: only the first occurrence of a parameter counts.
      if (!(key in params)) params[key] = unquote(raw ?? '')
    }
    links.push({ target: match[1]!, params })
    rest = rest.slice(match[0].length)
    if (!/^\s*(,|$)/.test(rest)) break
    rest = rest.replace(/^\s*,/, '')
  }
  return links
}

function unquote(raw: string): string {
  return raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw
}

/** The target of the first link whose `rel` lists `rel`, resolved against `base`; undefined if none parses. */
export function linkTarget(
  header: string | readonly string[] | undefined,
  rel: string,
  base: string,
): URL | undefined {
  for (const link of parseLinkHeader(header)) {
    const rels = (link.params.rel ?? '').toLowerCase().split(/\s+/)
    if (!rels.includes(rel)) continue
    try {
      return new URL(link.target, base)
    } catch {
      return undefined
    }
  }
  return undefined
}

/**
 * Follows `Link: <...>; rel="next"` (GitHub, GitLab): the next page is that URL, resolved against the
 * URL that answered. No such link, or a header that does not parse, ends the list. The default `next`.
 */
export function linkHeader(): NextPage {
  return (response, page) => {
    const target = linkTarget(response.headers.link, 'next', response.url)
    return target && atUrl(page.spec, target)
  }
}
