import { describeValue, InvalidOptionError } from '../../errors.js'
import { redactUrl } from '../../redact.js'
import { MaxPagesError, PageLoopError } from '../errors.js'
import type { Response } from '../response.js'
import type { RequestObject, RequestSpec } from '../spec.js'
import { linkHeader } from './link.js'
import { atUrl, type NextPage, specObject } from './next.js'
import { type ItemsPath, pageItems } from './path.js'

/** How a list's pages are followed: the options of `paginate` and `paginateAll`. */
export interface PageOptions {
  /** The spec of the page after a response, or undefined at the end. @default linkHeader() */
  next?: NextPage
  /** Where a page's items are: a dotted path into the JSON body ('data'), or a function. Unset: pages are yielded as Responses. */
  items?: ItemsPath
  /** Pages a list may have: one more ends the list with a MaxPagesError. @default no limit */
  maxPages?: number
  /** Items to take from a list (needs `items`): the list ends quietly after that many. @default no limit */
  maxItems?: number
}

export interface ResolvedPageOptions {
  next: NextPage
  items: ItemsPath | undefined
  maxPages: number
  maxItems: number
}

/** One page of a list: its position from 0, its response, and its items when `items` was given. */
export interface Page {
  page: number
  response: Response
  items: readonly unknown[] | undefined
}

export function resolvePageOptions(options: PageOptions | undefined, caller: string): ResolvedPageOptions {
  const o = options ?? {}
  const next = o.next ?? linkHeader()
  if (typeof next !== 'function') {
    throw new InvalidOptionError(`${caller}: \`next\` must be a function, got ${describeValue(next)}`)
  }
  const items = o.items
  if (items !== undefined && !(typeof items === 'function' || (typeof items === 'string' && items !== ''))) {
    throw new InvalidOptionError(
      `${caller}: \`items\` must be a dotted path or a function, got ${describeValue(items)}`,
    )
  }
  if (o.maxItems !== undefined && items === undefined) {
    throw new InvalidOptionError(`${caller}: \`maxItems\` counts items: give \`items\` too`)
  }
  return {
    next,
    items,
    maxPages: limitOption(caller, 'maxPages', o.maxPages),
    maxItems: limitOption(caller, 'maxItems', o.maxItems),
  }
}

function limitOption(caller: string, name: string, value: unknown): number {
  if (value === undefined) return Number.POSITIVE_INFINITY
  if (typeof value === 'number' && (Number.isInteger(value) || value === Infinity) && value >= 1) return value
  throw new InvalidOptionError(
    `${caller}: \`${name}\` must be a whole number >= 1, got ${describeValue(value)}`,
  )
}

/** Where a walk is: the page being fetched (or last fetched), for errors about the list. */
export interface WalkPosition {
  page: number
}

/**
 * The pages of one list, in order, each fetched with `send` once the one before has been consumed.
 * Ends at the last page; throws a PageLoopError for a request asked twice, a MaxPagesError past maxPages.
 */
export async function* walkPages(
  send: (spec: RequestSpec) => Promise<Response>,
  first: RequestSpec,
  o: ResolvedPageOptions,
  list: number | undefined,
  position: WalkPosition = { page: 0 },
): AsyncGenerator<Page, void, undefined> {
  let spec: RequestObject = specObject(first)
  const seen = new Set([requestKey(spec)])
  for (let page = 0; ; page++) {
    position.page = page
    const response = await send(spec)
    // The URL that answered too: a `next` may give back, absolute, a page first asked for relative.
    seen.add(requestKey(atUrl(spec, new URL(response.url))))
    const items = o.items === undefined ? undefined : pageItems(response, o.items)
    yield { page, response, items }
    const asked = o.next(response, { page, spec, items })
    if (asked === undefined) return
    spec = specObject(asked)
    const url = redactUrl(String(spec.url))
    if (page + 1 >= o.maxPages) throw new MaxPagesError({ list, page, url, maxPages: o.maxPages })
    const key = requestKey(spec)
    if (seen.has(key)) throw new PageLoopError({ list, page, url })
    seen.add(key)
  }
}

/** What makes two page requests the same: method, URL, params and body. */
function requestKey(spec: RequestObject): string {
  const { json, body } = spec
  const method = spec.method?.toUpperCase() ?? (json !== undefined || body !== undefined ? 'POST' : 'GET')
  const sent =
    json !== undefined
      ? JSON.stringify(json)
      : typeof body === 'string' || body === undefined
        ? (body ?? '')
        : Buffer.from(body instanceof ArrayBuffer ? new Uint8Array(body) : body).toString('base64')
  return JSON.stringify([method, String(spec.url), spec.params ?? null, sent])
}
