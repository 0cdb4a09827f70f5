import type { NextPage } from './next.js'
import { withParam } from './next.js'
import { nameOption } from './options.js'
import { readPath } from './path.js'

export interface StripeOptions {
  /** Dotted path of the page's items in the body. @default 'data' */
  items?: string
  /** Field of an item that the next page starts after. @default 'id' */
  id?: string
  /** Query parameter carrying it. @default 'starting_after' */
  param?: string
}

/**
 * Stripe's lists: `{ object: 'list', data, has_more }`; while `has_more` is true the next page is
 * the same request with `?starting_after=<id of the last item>`.
 */
export function stripe(options: StripeOptions = {}): NextPage {
  const items = nameOption('stripe()', 'items', options.items ?? 'data')
  const id = nameOption('stripe()', 'id', options.id ?? 'id')
  const param = nameOption('stripe()', 'param', options.param ?? 'starting_after')
  return (response, page) => {
    const body = response.json<Record<string, unknown>>()
    if (readPath(body, 'has_more') !== true) return undefined
    const list = readPath(body, items)
    const last: unknown = Array.isArray(list) ? list.at(-1) : undefined
    const after = readPath(last, id)
    if (typeof after !== 'string' && typeof after !== 'number') {
      throw new TypeError(
        `stripe(): has_more is true but the last item at "${items}" has no "${id}" in ${response.url}`,
      )
    }
    return withParam(page.spec, response, param, String(after))
  }
}
