import type { Response } from '../response.js'
import type { RequestObject, RequestSpec } from '../spec.js'

/** What a `next` function is told about the page it looks at. */
export interface PageInfo {
  /** The page's position in its list, from 0. */
  page: number
  /** The spec that fetched it, as an object. */
  spec: RequestObject
  /** The page's items, when `paginate` was given `items`. */
  items: readonly unknown[] | undefined
}

/** Given a page, the spec of the page after it, or undefined when it was the last. */
export type NextPage = (response: Response, page: PageInfo) => RequestSpec | undefined

/** A spec in its object form: `'/x'` is `{ url: '/x' }`, `['/x', params]` is `{ url: '/x', params }`. */
export function specObject(spec: RequestSpec): RequestObject {
  if (typeof spec === 'string' || spec instanceof URL) return { url: spec }
  if (Array.isArray(spec)) {
    const [url, params] = spec as readonly [string | URL, RequestObject['params']?]
    return params === undefined ? { url } : { url, params }
  }
  return spec as RequestObject
}

/** The same request at another URL: method, headers and body kept, params already in the URL. */
export function atUrl(spec: RequestObject, url: URL): RequestObject {
  const { params: _params, ...rest } = spec
  return { ...rest, url: url.href }
}

/** The same request with one query parameter set, on the URL that answered (so earlier params stay). */
export function withParam(
  spec: RequestObject,
  response: Response,
  name: string,
  value: string,
): RequestObject {
  const url = new URL(response.url)
  url.searchParams.set(name, value)
  return atUrl(spec, url)
}
