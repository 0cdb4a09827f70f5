import { redactUrl } from '../../redact.js'
import type { Response } from '../response.js'

/** A dotted path into a JSON body ('data', 'result.items'), or a function of the response. */
export type ItemsPath = string | ((response: Response) => readonly unknown[] | undefined)

/** The value at a dotted path ('response_metadata.next_cursor'); undefined where a step is missing. */
export function readPath(body: unknown, path: string): unknown {
  let value = body
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined
    value = (value as Record<string, unknown>)[key]
  }
  return value
}

/** A page's items: the array at the path (null: none), or what the function returns. Anything else is an error naming the path. */
export function pageItems(response: Response, items: ItemsPath): readonly unknown[] {
  const found = typeof items === 'function' ? items(response) : readPath(response.json(), items)
  // null is an empty page; a path that is not there at all is more likely a typo than no items.
  if (found === null) return []
  if (!Array.isArray(found)) {
    const where = typeof items === 'function' ? 'the `items` function' : `\`items\` path "${items}"`
    const got = found === undefined ? 'nothing' : typeof found
    throw new TypeError(`paginate: ${where} did not give an array for ${redactUrl(response.url)}, got ${got}`)
  }
  return found
}
