import type { Client, ManyOptions } from '../../http/client.js'
import type { ClientError } from '../../http/errors.js'
import { MaxPagesError, PageLoopError } from '../../http/errors.js'
import type { NextPage, PageInfo } from '../../http/pages/next.js'
import { specObject } from '../../http/pages/next.js'
import type { Response } from '../../http/response.js'
import type { RequestObject, RequestSpec } from '../../http/spec.js'
import type { Cost } from '../../limit/cost.js'
import { redactUrl } from '../../redact.js'
import type { BodyMode, ResultMeta, ResultRecord } from '../output/record.js'
import { recordLine } from '../output/record.js'
import type { RunStats } from '../report/stats.js'
import type { PageJob } from './flag.js'
import { pageKey, storedNext } from './next-url.js'
import { itemsAt, listErrorRecord, pageOutput } from './records.js'

/** A list being followed: its input line, where it starts (0, or the page after the last written on --resume). */
export interface ListStart {
  meta: ResultMeta
  secrets: readonly string[]
  cost?: Cost
  /** The request of its first page this run, as given to the client. */
  spec: RequestObject
  /** That page's position in the list. */
  page: number
  /** The line's Idempotency-Key (a POST's): each page's derives from it (`pageKey`). */
  key: string | undefined
}

export interface FollowContext {
  client: Client
  /** The lists' first requests; each is in `lists` under its position before it is yielded. */
  specs: AsyncIterable<RequestSpec>
  streamOptions: ManyOptions
  /** Stream positions -> the lists not ended yet. */
  lists: Map<number, ListStart>
  job: PageJob
  body: BodyMode
  stats: RunStats
  /** Queues lines for the output; `end` is the list's last record when they end it (counted once written). */
  write(text: string, end: ResultRecord | undefined): Promise<void> | undefined
  /** Whether the error means the list was not carried out (a stop): then nothing is written, --resume goes on. */
  notRun(error: ClientError): boolean
}

/**
 * Follows every list's pages through `client.paginateAll` and writes each page as it arrives. The
 * `next` given to the walk is the one the output applies too (the same helper, maxPages counted from
 * the list's real first page), so the walk fetches no page the output would not write.
 */
export async function followLists(ctx: FollowContext): Promise<void> {
  const { job, lists, stats } = ctx
  // Each page's request -> its position in its list (for maxPages across a resume) and its line's key.
  const pageOf = new WeakMap<object, { page: number; key: string | undefined }>()
  const started = new Map<number, Set<string>>()
  async function* specs() {
    let position = 0
    for await (const spec of ctx.specs) {
      const { page, key } = lists.get(position++)!
      if (typeof spec === 'object' && spec !== null) pageOf.set(spec, { page, key })
      yield spec
    }
  }
  const walkNext: NextPage = (response, info) => {
    const { page: at, key } = pageOf.get(info.spec) ?? { page: info.page, key: undefined }
    const asked = nextOf(job, response, info)
    if (asked === undefined) return undefined
    const next = specObject(asked)
    if (at + 1 >= job.maxPages) throw maxPages(at, String(next.url), job.maxPages)
    const spec = key === undefined ? next : { ...next, idempotencyKey: pageKey(key, at + 1) }
    pageOf.set(spec, { page: at + 1, key })
    return spec
  }
  // A stop (Ctrl-C, --fail-fast, a stopOn status) ends the lists in flight not run: the client fails
  // each page asked for after it, and --resume picks the list up after the pages written.
  const forget = (position: number) => {
    lists.delete(position)
    started.delete(position)
    stats.active--
  }
  const end = async (position: number, text: string, record: ResultRecord) => {
    forget(position)
    await ctx.write(text, record)
  }

  for await (const result of ctx.client.paginateAll(specs(), {
    ...ctx.streamOptions,
    next: walkNext,
  })) {
    const list = lists.get(result.list)
    // Ended already: the output saw the loop or the last allowed page first.
    if (!list) continue
    const page = list.page + result.page
    if (!result.ok) {
      if (ctx.notRun(result.error as ClientError)) {
        forget(result.list)
        continue
      }
      const record = listErrorRecord(result.error, list.meta, page, list.secrets)
      await end(result.list, recordLine(record), record)
      continue
    }
    const response = result.item as Response
    stats.costs.result(list.cost, response.attempts, response)
    const seen = started.get(result.list) ?? new Set<string>()
    started.set(result.list, seen.add(response.url))
    let asked: string | undefined
    try {
      const next = nextOf(job, response, { page, spec: list.spec, items: undefined })
      asked = next === undefined ? undefined : String(specObject(next).url)
    } catch {
      // The walk's `next` fails on this page the same way: the list's error result comes next.
      continue
    }
    const stored = asked === undefined ? null : storedNext(asked, list.secrets)
    const out = pageOutput(response, list.meta, { page, next: stored }, job.items, ctx.body, list.secrets)
    stats.pages++
    stats.items += out.items
    const stop =
      asked === undefined
        ? undefined
        : page + 1 >= job.maxPages
          ? maxPages(page, asked, job.maxPages)
          : seen.has(asked)
            ? new PageLoopError({ list: undefined, page, url: redactUrl(asked) })
            : undefined
    if (asked !== undefined && stop === undefined) {
      await ctx.write(out.text, undefined)
      continue
    }
    // The list's last line goes out with its last page, in one write.
    const record = stop ? listErrorRecord(stop, list.meta, page, list.secrets) : out.record
    await end(result.list, stop ? out.text + recordLine(record) : out.text, record)
  }
}

/** The helper's next page, told the page's items when --items names them (offset and page need them without a total). */
function nextOf(job: PageJob, response: Response, info: PageInfo) {
  const items = job.items === undefined ? undefined : itemsAt(response, job.items)
  return job.next(response, { ...info, items })
}

function maxPages(page: number, url: string, max: number): MaxPagesError {
  return new MaxPagesError({ list: undefined, page, url: redactUrl(url), maxPages: max })
}
