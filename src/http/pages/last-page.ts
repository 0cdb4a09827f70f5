import { InvalidOptionError } from '../../errors.js'
import type { PageInfo } from './next.js'

/**
 * The end of a list by its total when the body has one, else by the page's item count. Shared by
 * `offset` and `pageNumber`.
 */
export function isLast(
  page: PageInfo,
  count: unknown,
  helper: string,
  total: string,
  pastTotal: () => boolean,
  shortPage: (items: number) => boolean,
): boolean {
  if (typeof count === 'number') return pastTotal()
  if (page.items !== undefined) return shortPage(page.items.length)
  throw new InvalidOptionError(
    `${helper}: the body has no number at \`total\` "${total}" and paginate has no \`items\`: the last page cannot be told`,
  )
}
