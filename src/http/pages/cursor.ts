import type { NextPage } from './next.js'
import { withParam } from './next.js'
import { nameOption } from './options.js'
import { readPath } from './path.js'

export interface CursorOptions {
  /** Dotted path of the cursor in the JSON body: 'next_cursor', 'response_metadata.next_cursor'. */
  from: string
  /** Query parameter the next request carries it in: 'cursor'. */
  to: string
}

/**
 * A cursor in the body (Slack, Notion, many GraphQL-ish APIs): the next page is the same request
 * with `?<to>=<cursor>`. An absent, null or empty cursor ends the list.
 */
export function cursor(options: CursorOptions): NextPage {
  const from = nameOption('cursor()', 'from', options?.from)
  const to = nameOption('cursor()', 'to', options?.to)
  return (response, page) => {
    const value = readPath(response.json(), from)
    if (value === undefined || value === null || value === '') return undefined
    return withParam(page.spec, response, to, String(value))
  }
}
