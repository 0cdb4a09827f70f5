import { MockRequestError } from './choices.js'
import { decodeSegment, requestNumber } from './endpoints.js'
import type { MockExchange } from './exchange.js'

/** The pagination styles of GET /lists/:name, after the APIs that use them. */
export const LIST_STYLES = ['link', 'cursor', 'stripe', 'offset', 'page'] as const
export type ListStyle = (typeof LIST_STYLES)[number]

/** One item of a mock list: `n` counts from 0 across the list's pages. */
export interface ListItem {
  id: string
  list: string
  n: number
}

interface ListQuery {
  name: string
  style: ListStyle
  pages: number
  size: number
  /** 0-based page that points to itself as its next page (a server bug), or -1. */
  loop: number
  malformedLink: boolean
  params: URLSearchParams
}

/**
 * GET /lists/:name?style=link|cursor|stripe|offset|page&pages=N&size=M: a list of N pages of M
 * deterministic items `{ id: '<name>-<n>', list, n }`, paginated the way GitHub (Link header), Slack
 * (cursor in the body), Stripe (has_more + starting_after), offset/limit APIs and page-number APIs do.
 * `loop=K` makes page K (from 1) point to itself (link and cursor styles: their pages say where the
 * next is); `malformed=link` sends a Link header that does not parse.
 */
export function list(exchange: MockExchange): void {
  const q = readQuery(exchange)
  const page = currentPage(q)
  const items = Array.from({ length: page < q.pages ? q.size : 0 }, (_, i) =>
    itemAt(q.name, page * q.size + i),
  )
  const nextPage = page === q.loop ? page : page + 1
  const hasNext = nextPage < q.pages
  const total = q.pages * q.size
  switch (q.style) {
    case 'link': {
      const link = q.malformedLink
        ? `<${pageUrl(exchange, q, 'page', nextPage + 1)}; rel=next`
        : [
            ...(hasNext ? [`<${pageUrl(exchange, q, 'page', nextPage + 1)}>; rel="next"`] : []),
            `<${pageUrl(exchange, q, 'page', q.pages)}>; rel="last"`,
          ].join(', ')
      return exchange.json(200, items, { link })
    }
    case 'cursor':
      return exchange.json(200, {
        ok: true,
        members: items,
        response_metadata: { next_cursor: hasNext ? cursorOf(nextPage) : '' },
      })
    case 'stripe':
      return exchange.json(200, { object: 'list', url: exchange.path, data: items, has_more: hasNext })
    case 'offset':
      return exchange.json(200, { items, offset: page * q.size, limit: q.size, total })
    case 'page':
      return exchange.json(200, { items, page: page + 1, total_pages: q.pages, total })
  }
}

function itemAt(name: string, n: number): ListItem {
  return { id: `${name}-${n}`, list: name, n }
}

function readQuery(exchange: MockExchange): ListQuery {
  const params = new URLSearchParams(exchange.query)
  const style = params.get('style') ?? 'link'
  if (!(LIST_STYLES as readonly string[]).includes(style)) {
    throw new MockRequestError(
      400,
      `style must be one of ${LIST_STYLES.join(', ')}, got ${JSON.stringify(style)}`,
    )
  }
  const loop = params.get('loop')
  return {
    name: decodeSegment(exchange.params[0]!),
    style: style as ListStyle,
    pages: requestNumber(params.get('pages') ?? '3', 'pages', 1, 100_000),
    size: requestNumber(params.get('size') ?? '10', 'size', 1, 1000),
    loop: loop === null ? -1 : requestNumber(loop, 'loop', 1, 100_000) - 1,
    malformedLink: params.get('malformed') === 'link',
    params,
  }
}

/** The 0-based page a request asks for, from the parameter its style pages with. */
function currentPage(q: ListQuery): number {
  const { params, size } = q
  switch (q.style) {
    case 'link':
    case 'page':
      return requestNumber(params.get('page') ?? '1', 'page', 1, 100_000) - 1
    case 'cursor': {
      const cursor = params.get('cursor')
      return cursor === null ? 0 : pageOfCursor(cursor)
    }
    case 'stripe': {
      const after = params.get('starting_after')
      if (after === null) return 0
      const n = /-(\d+)$/.exec(after)
      if (!n)
        throw new MockRequestError(400, `starting_after must be an item id, got ${JSON.stringify(after)}`)
      return Math.floor((Number(n[1]) + 1) / size)
    }
    case 'offset':
      return Math.floor(requestNumber(params.get('offset') ?? '0', 'offset', 0, 100_000_000) / size)
  }
}

/** Opaque cursors, as APIs give them: base64url of the page they point to. */
function cursorOf(page: number): string {
  return Buffer.from(`page:${page}`).toString('base64url')
}

function pageOfCursor(cursor: string): number {
  const match = /^page:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'))
  if (!match) throw new MockRequestError(400, `cursor is not one this list gave: ${JSON.stringify(cursor)}`)
  return Number(match[1])
}

/** A path-absolute URL of another page of the same list (what the Link header points to, resolved by the client). */
function pageUrl(exchange: MockExchange, q: ListQuery, param: string, value: number): string {
  const params = new URLSearchParams(q.params)
  params.set(param, String(value))
  return `${exchange.path}?${params}`
}
