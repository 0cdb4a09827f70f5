import { isLast } from './last-page.js'
import type { NextPage } from './next.js'
import { withParam } from './next.js'
import { countOption, nameOption, queryNumber } from './options.js'
import { readPath } from './path.js'

export interface OffsetOptions {
  /** Items per page: the step from one offset to the next. */
  limit: number
  /** Query parameter of the offset. @default 'offset' */
  param?: string
  /** Dotted path of the item count in the body. @default 'total' */
  total?: string
}

/**
 * Offset and limit: the next page is at `?offset=<offset + limit>` (offset read from the URL that
 * answered, 0 when absent). The list ends when the next offset reaches the body's total or, without
 * a total, after a page of fewer than `limit` items (which needs `paginate`'s `items`).
 */
export function offset(options: OffsetOptions): NextPage {
  const limit = countOption('offset()', 'limit', options?.limit)
  const param = nameOption('offset()', 'param', options.param ?? 'offset')
  const total = nameOption('offset()', 'total', options.total ?? 'total')
  return (response, page) => {
    const next = queryNumber(response.url, param, 0) + limit
    const count = readPath(response.json(), total)
    if (
      isLast(
        page,
        count,
        'offset()',
        total,
        () => next >= (count as number),
        (n) => n < limit,
      )
    )
      return undefined
    return withParam(page.spec, response, param, String(next))
  }
}
