import { pageItems, readPath } from '../../http/pages/path.js'
import type { Response } from '../../http/response.js'
import { redactBody, redactUrl } from '../../redact.js'
import {
  type BodyMode,
  errorRecord,
  type ResultMeta,
  type ResultRecord,
  recordLine,
  responseRecord,
} from '../output/record.js'

/** One item of a page, with --items: the line and page it came from and its index in the page (from 0). */
export interface ItemRecord {
  id: string | number
  index: number
  hash: string
  page: number
  item: number
  ok: true
  json: unknown
}

/** A page's output: every line of it as one string (written at once), and its record (the page marker). */
export interface PageOutput {
  text: string
  record: ResultRecord
  items: number
}

/**
 * The lines of one page. Without --items: one record with the body. With --items: one line per item,
 * then the page's record (status, item count, no body) last: --resume counts a page as written only
 * once its record is there, and cuts item lines that a kill left without it.
 * `next` is the stored URL of the page after (null on the last page): where --resume picks the list up.
 */
export function pageOutput(
  response: Response,
  meta: ResultMeta,
  at: { page: number; next: string | null },
  itemsPath: string | undefined,
  mode: BodyMode,
  secrets: readonly string[],
): PageOutput {
  if (itemsPath === undefined) {
    const record = withPage(responseRecord(response, meta, mode, secrets), at)
    return { text: recordLine(record), record, items: 0 }
  }
  const items = outputItems(response, itemsPath, secrets)
  let text = ''
  items.forEach((json, item) => {
    const line: ItemRecord = {
      id: meta.id,
      index: meta.index,
      hash: meta.hash,
      page: at.page,
      item,
      ok: true,
      json,
    }
    text += `${JSON.stringify(line)}\n`
  })
  const record: ResultRecord = {
    ...responseRecord(response, meta, 'none', secrets),
    ...at,
    items: items.length,
  }
  return { text: text + recordLine(record), record, items: items.length }
}

/** The record that ends a list on an error (a failed page, a `next` loop, --max-pages), naming the page. */
export function listErrorRecord(
  error: Error,
  meta: ResultMeta,
  page: number,
  secrets: readonly string[],
): ResultRecord {
  const record = errorRecord(error, meta, secrets)
  if (record.error!.code !== 'INVALID_REQUEST')
    record.error!.message = `line ${meta.index}, page ${page}: ${record.error!.message}`
  return withPage(record, { page })
}

/** The record with its page fields after the line's (`id`, `index`, `hash`, `page` lead every line of a list) and the body last. */
function withPage(
  record: ResultRecord,
  at: { page: number; next?: string | null; items?: number },
): ResultRecord {
  const { id, index, hash, json, text, ...rest } = record
  const { page, ...after } = at
  const out: ResultRecord = { id, index, hash, page, ...rest, ...after }
  if (json !== undefined) out.json = json
  if (text !== undefined) out.text = text
  return out
}

/** A page's items at an --items path ('.': the body is the array, as GitHub's lists are). */
export function itemsAt(response: Response, path: string): readonly unknown[] {
  return pageItems(response, path === '.' ? (r) => bodyArray(r.json(), r.url) : path)
}

/** The items as written: from the body with this run's secrets removed (checked on the body as received). */
function outputItems(response: Response, path: string, secrets: readonly string[]): readonly unknown[] {
  const items = itemsAt(response, path)
  const text = response.text()
  const redacted = redactBody(text, secrets)
  if (redacted === text) return items
  const body: unknown = JSON.parse(redacted)
  return ((path === '.' ? body : readPath(body, path)) as readonly unknown[] | null) ?? []
}

function bodyArray(body: unknown, url: string): readonly unknown[] {
  if (Array.isArray(body)) return body
  throw new TypeError(`--items .: the body of ${redactUrl(url)} is not an array, got ${typeof body}`)
}
