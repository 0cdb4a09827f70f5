import type { DoneSet } from '../output/done-set.js'

/** Where --resume picks a list up: the page after the last one written, and its stored URL. */
export interface ListResume {
  page: number
  next: string
}

interface LastRecord {
  hash: string
  page: number
  ok: boolean
  next: string | null
}

/**
 * The lists of a paginated output, read back for --resume from their page records (item lines are
 * not looked at: a page counts once its record is written). A list whose last record is its last
 * page (`next` null) or an error is done; any other is picked up at the page after its last one.
 */
export class ListProgress {
  readonly #last = new Map<number, LastRecord>()

  /** A page record or a list's error record, in file order. Undefined if it is one; else why it is not. */
  see(index: number, hash: string, value: Record<string, unknown>): string | undefined {
    const { page, ok, next } = value
    if (typeof page !== 'number' || !Number.isInteger(page) || page < 0)
      return 'its `page` is not a whole number'
    if (ok === true && next !== null && !(typeof next === 'string' && URL.canParse(next)))
      return 'a page record without `next` (a URL, or null on the last page)'
    this.#last.set(index, { hash, page, ok: ok === true, next: ok === true ? (next as string | null) : null })
    return undefined
  }

  /**
   * Adds the done lists to `done` (their failed count is returned) and every list with a record to
   * `seen` (whose lines --resume checks unchanged); the others are returned, to be picked up.
   */
  settle(done: DoneSet, seen: DoneSet): { failed: number; started: Map<number, ListResume> } {
    let failed = 0
    const started = new Map<number, ListResume>()
    for (const [index, last] of this.#last) {
      seen.add(index, last.hash)
      if (last.next === null) {
        done.add(index, last.hash)
        if (!last.ok) failed++
      } else started.set(index, { page: last.page + 1, next: last.next })
    }
    return { failed, started }
  }
}
