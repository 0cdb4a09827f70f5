import { InvalidRequestError } from '../../http/errors.js'
import { atUrl, specObject } from '../../http/pages/next.js'
import { prepareRequest, type RequestObject, type RequestSpec } from '../../http/spec.js'
import { REDACTED, redactBody } from '../../redact.js'
import { UsageError } from '../usage.js'
import type { ListResume } from './progress.js'

/**
 * The next page's URL as the output keeps it for --resume: the secret values the line and the run
 * carry (an api_key parameter, a header value an API echoed into a cursor) are redacted, like
 * everything written, and come back from the line on resume. Only those values: a parameter that
 * merely sounds secret (`pageToken`, `next_token`: Google's and X's cursors) is the list's place,
 * which the page's own body holds anyway. Headers are never in it: a resumed list takes them from
 * its input line and the flags again.
 */
export function storedNext(url: string, secrets: readonly string[]): string {
  return redactBody(url, secrets)
}

/**
 * Where a list starts this run: its first page, or on --resume the page after the last one written.
 * `key` is the line's Idempotency-Key (a POST's), from which each page's derives.
 */
export function firstPage(
  spec: RequestSpec,
  from: ListResume | undefined,
  base: URL | undefined,
  line: number,
): { spec: RequestObject; page: number; key: string | undefined } {
  const first = specObject(spec)
  const key = first.idempotencyKey
  if (from === undefined) return { spec: first, page: 0, key }
  const resumed = resumeSpec(spec, from.next, base, line)
  return {
    spec: key === undefined ? resumed : { ...resumed, idempotencyKey: pageKey(key, from.page) },
    page: from.page,
    key,
  }
}

/**
 * The Idempotency-Key of a page of a POST list: the line's for its first page, `<key>-p<page>` for
 * the others. Each page is another request (one key for all would have the server answer every
 * page with the first), and the same page has the same key on every attempt and every resume.
 */
export function pageKey(key: string, page: number): string {
  return page === 0 ? key : `${key}-p${page}`
}

/**
 * The spec of a list's next page on --resume: the line's own request (method, headers, body) at the
 * stored URL. A redacted query parameter takes its value from the line's first URL, where the same
 * parameter is (the helpers carry the first request's parameters over from page to page).
 */
function resumeSpec(spec: RequestSpec, stored: string, base: URL | undefined, line: number): RequestObject {
  const url = new URL(stored)
  if (stored.includes(REDACTED)) {
    const first = firstUrl(spec, base)
    for (const [name, value] of [...url.searchParams]) {
      if (!value.includes(REDACTED)) continue
      const original = first?.searchParams.get(name)
      if (original === null || original === undefined) {
        throw new UsageError(
          `--resume: line ${line}'s next page has a redacted parameter ${JSON.stringify(name)} that its first URL does not hold: its value cannot be restored. Run the job again (--overwrite)`,
        )
      }
      url.searchParams.set(name, original)
    }
  }
  return atUrl(specObject(spec), url)
}

function firstUrl(spec: RequestSpec, base: URL | undefined): URL | undefined {
  try {
    return prepareRequest(spec, { base, origins: undefined, headers: {} }).url
  } catch (error) {
    if (error instanceof InvalidRequestError) return undefined
    throw error
  }
}
