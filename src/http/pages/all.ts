import type { RunManyOptions } from '../../run/options.js'
import { type ItemContext, toError } from '../../run/result.js'
import type { Items } from '../../run/source.js'
import { stream } from '../../run/stream.js'
import type { Response } from '../response.js'
import type { RequestSpec } from '../spec.js'
import { Channel } from './channel.js'
import { type PageOptions, resolvePageOptions, walkPages, type WalkPosition } from './walk.js'

/**
 * What `paginateAll` yields: an item of a list (a page's Response when `items` is unset), or the
 * error that ended a list. `list` is the list's position in the input, `page` the page's, from 0.
 */
export type PageResult<T = unknown> =
  { ok: true; item: T; list: number; page: number } | { ok: false; error: Error; list: number; page: number }

/** Sends one page's request within the call (its limits, signals and stop rules). */
export type SendInCall = (spec: RequestSpec, context: ItemContext) => Promise<Response>

/**
 * Follows the pages of every list, lists at once under the call's concurrency (input read lazily),
 * each list's pages in order. A list that fails yields one failed result, and the others go on.
 */
export function paginateAll(
  specs: Items<RequestSpec>,
  send: SendInCall,
  run: RunManyOptions,
  options: PageOptions | undefined,
): AsyncIterableIterator<PageResult> {
  const o = resolvePageOptions(options, 'paginateAll')
  const channel = new Channel<PageResult>(Math.max(64, (run.concurrency ?? 64) * 2))

  const followList = async (spec: RequestSpec, context: ItemContext): Promise<void> => {
    const list = context.index
    const position: WalkPosition = { page: 0 }
    let taken = 0
    try {
      for await (const { page, response, items } of walkPages(
        (s) => send(s, context),
        spec,
        o,
        list,
        position,
      )) {
        if (items === undefined) {
          await channel.push({ ok: true, item: response, list, page })
          continue
        }
        for (const item of items) {
          await channel.push({ ok: true, item, list, page })
          if (++taken >= o.maxItems) return
        }
      }
    } catch (error) {
      await channel.push({ ok: false, error: toError(error), list, page: position.page })
    }
  }

  const lists = stream(specs, followList, run)
  const drained = (async () => {
    // A list that never started (the call was stopped or aborted) settles here, not in followList.
    for await (const result of lists) {
      if (!result.ok) await channel.push({ ok: false, error: result.error, list: result.index, page: 0 })
    }
  })().then(
    () => channel.end(),
    (error: unknown) => channel.end({ error }),
  )

  const iterator: AsyncIterableIterator<PageResult> = {
    next: () => channel.next(),
    async return() {
      channel.close()
      await lists.return?.()
      await drained
      return { done: true, value: undefined }
    },
    [Symbol.asyncIterator]: () => iterator,
  }
  return iterator
}
