import type { NextPage } from './next.js'
import { withParam } from './next.js'
import { isLast } from './last-page.js'
import { countOption, nameOption, queryNumber } from './options.js'
import { readPath } from './path.js'

export interface PageNumberOptions {
  /** Query parameter of the page number. @default 'page' */
  param?: string
  /** Dotted path of the page count in the body. @default 'total_pages' */
  total?: string
  /** The number of the first page, when the URL has none. @default 1 */
  first?: number
}

/**
 * Page numbers: the next page is at `?page=<page + 1>`. The list ends after the body's page count
 * or, without one, at an empty page (which needs `paginate`'s `items`).
 */
export function pageNumber(options: PageNumberOptions = {}): NextPage {
  const param = nameOption('pageNumber()', 'param', options.param ?? 'page')
  const total = nameOption('pageNumber()', 'total', options.total ?? 'total_pages')
  const first = options.first === 0 ? 0 : countOption('pageNumber()', 'first', options.first ?? 1)
  return (response, page) => {
    const next = queryNumber(response.url, param, first) + 1
    const count = readPath(response.json(), total)
    const pastTotal = () => next - first >= (count as number)
    if (isLast(page, count, 'pageNumber()', total, pastTotal, (n) => n === 0)) return undefined
    return withParam(page.spec, response, param, String(next))
  }
}
