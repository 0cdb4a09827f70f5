import type { Response } from '../response.js'
import type { RequestSpec } from '../spec.js'
import { type PageOptions, resolvePageOptions, walkPages } from './walk.js'

/** Options of `api.paginate`. */
export interface PaginateOptions extends PageOptions {
  /** Aborting it cancels the page in flight and ends the iteration with an AbortError. */
  signal?: AbortSignal
}

/** The items of one list, page after page (or its pages as Responses when `items` is unset). */
export async function* paginate(
  send: (spec: RequestSpec) => Promise<Response>,
  spec: RequestSpec,
  options: PaginateOptions | undefined,
): AsyncGenerator<unknown, void, undefined> {
  const o = resolvePageOptions(options, 'paginate')
  let taken = 0
  for await (const { response, items } of walkPages(send, spec, o, undefined)) {
    if (items === undefined) {
      yield response
      continue
    }
    for (const item of items) {
      yield item
      if (++taken >= o.maxItems) return
    }
  }
}
